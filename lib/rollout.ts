// Host restarts that AWS makes (a new instance type stops and starts an instance) roll one node at a time: node
// n's instance depends on node n-1's rejoin step, which waits until n-1's services have their roles again. So
// `pulumi up` never stops a second host while the first is still coming back, and the group serves between
// nodes. The rejoin step runs only on update (a changed instance type or instance), never on the first
// deployment, where there is nothing to wait for. Pure.
import { PlanStep, StepInput } from "./plan";
import { StackSettings } from "./settings";
import { brokerPorts } from "./steps/broker";

/** Node `node`'s rejoin step, and its input (it needs no facts: the hosts component renders it itself). */
export function hostRejoinStep(settings: StackSettings, node: number): { step: PlanStep; input: StepInput } {
  const input: StepInput = {
    inputs: {
      SELF_INDEX: String(node),
      ...brokerPorts(settings),
      ZOOKEEPER_CLIENT_PORT: String(settings.ports.zookeeperClient),
    },
    files: [],
  };
  const step: PlanStep = {
    id: `n${node}-host-rejoin`,
    node,
    action: "host-rejoin",
    script: "host-rejoin.sh",
    description: "after the instance restarted: wait until the host's services are back in their groups",
    dependsOn: [],
    rerunWith: [],
    hostTriggers: [node],
    // The host is coming back from a stop and start.
    waitsForBoot: true,
    timeoutMinutes: 15,
    input: () => input,
  };
  return { step, input };
}

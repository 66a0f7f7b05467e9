// Host changes that AWS makes roll one node at a time, under the providers' real rules:
// - a new instance type (or user data) stops and starts an instance in place (terraform-provider-aws
//   internal/service/ec2/ec2_instance.go, resourceInstanceUpdate → modifyInstanceAttributeWithStopStart), and the
//   update is done once the instance runs, long before its services do;
// - a forced replacement deletes the instance first (components/hosts.ts: deleteBeforeReplace) and boots a blank
//   one on the same network interface.
// Node n's instance depends on node n-1's rejoin step, a remote.Command whose triggers are the instance's type,
// user data and id. pulumi-command replaces a Command whose triggers change (provider/pkg/provider/common/
// inputs.go: `Triggers … provider:"replaceOnChanges"`), and a replacement runs `create`, never `update`
// (remote/commandController.go): so the rejoin step's `create` is what waits. It waits until node n-1 is back in
// its groups and, in replicated-leveldb, caught up with the master; a blank host in a group that serves it first
// rebuilds.
// The rebuild runs inside the rejoin step: the step carries the node's own plan steps and runs them in order, since
// under Pulumi the node's provisioning Commands cannot finish before the next instance is registered (the gates and
// the rolling order reference every instance); the node's provisioning starts only after its rejoin step, so no two
// runs ever configure one host at once. Only a blank host in a group where nothing serves yet (a first
// deployment) has nothing to wait for. Pure.
import { REMOTE_COMMAND } from "./payload";
import { PlanStep, StepInput } from "./plan";
import { StackSettings } from "./settings";
import { brokerPorts } from "./steps/broker";

/** How long a rejoin step waits for each service to take its role (and, replicated, to catch up). */
export const REJOIN_SERVICE_SECONDS = 300;

/**
 * The rejoin step's commands. `create` runs after the instance changed (a changed trigger replaces the step). An
 * update means its triggers did not change, so the instance did not either: there is nothing to wait for, and its
 * payload changed only because the rebuild it carries did. It reads its standard input and does nothing.
 */
export const REJOIN_COMMANDS = { create: REMOTE_COMMAND, update: "cat >/dev/null" } as const;

/** Node `node`'s rejoin step, without its input (its id, limits and dialling). */
export function rejoinStep(node: number): PlanStep {
  return {
    id: `n${node}-host-rejoin`,
    node,
    action: "host-rejoin",
    script: "host-rejoin.sh",
    description:
      "after the instance changed: wait until the host is back in its groups (a blank one: rebuilt) and caught up",
    dependsOn: [],
    rerunWith: [],
    hostTriggers: [node],
    // The host is coming back from a stop and start, or booting for the first time.
    waitsForBoot: true,
    // A rebuild runs the node's steps one after another: their limits added up bound it.
    timeoutMinutes: 60,
    input: () => {
      throw new Error(
        "a rejoin step's input comes from hostRejoinStep, which knows the members and the rebuild",
      );
    },
  };
}

/** A node's own plan steps, in plan order: what rebuilds its blank host (the group's gates excepted). */
export function rebuildSteps(plan: readonly PlanStep[], node: number): PlanStep[] {
  return plan.filter((s) => s.node === node && s.hostTriggers.length === 1 && s.hostTriggers[0] === node);
}

/**
 * Node `node`'s rejoin step and its input. `memberAddresses` are the group's private addresses in node order
 * (the network interfaces', which outlive instances): the step asks the other members whether a master serves.
 * `rebuild` holds the payloads of the node's own steps (rebuildSteps), in order: they travel as the step's files,
 * which host-rejoin.sh runs on a blank host and installs nowhere.
 */
export function hostRejoinStep(
  settings: StackSettings,
  node: number,
  memberAddresses: readonly string[],
  rebuild: readonly { readonly id: string; readonly payload: string }[],
): { step: PlanStep; input: StepInput } {
  const input: StepInput = {
    inputs: {
      SELF_INDEX: String(node),
      ...brokerPorts(settings),
      ZOOKEEPER_CLIENT_PORT: String(settings.ports.zookeeperClient),
      ZOOKEEPER_DEPLOYED: String(settings.zookeeper.deploy),
      PEER_ADDRESSES: memberAddresses.filter((_, i) => i + 1 !== node).join(" "),
      SERVICE_SECONDS: String(REJOIN_SERVICE_SECONDS),
      REBUILD_STEPS: rebuild.map((r) => r.id).join(" "),
    },
    files: rebuild.map((r) => ({
      path: r.id,
      content: r.payload,
      owner: "root",
      group: "root",
      mode: "0600",
    })),
  };
  return { step: { ...rejoinStep(node), input: () => input }, input };
}

/**
 * The rejoin step's triggers: what makes AWS stop, start or replace node's instance. A change of any of them
 * replaces the step, so its `create` runs after the instance changed.
 */
export function rejoinTriggers(instanceType: string, userDataDigest: string, instanceId: string): string[] {
  return [instanceType, `user data ${userDataDigest}`, instanceId];
}

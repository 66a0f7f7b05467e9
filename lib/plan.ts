// The provisioning plan: every step on every host, in an order that respects its dependencies. One description
// that two executors share: components/provisioning.ts turns it into remote.Commands, and the cluster-in-a-box
// harness runs it over SSH against local hosts. Built per service (lib/steps/): the host, ZooKeeper, the shared
// store, the brokers, the monitors. Pure.
import { StackSettings } from "./settings";
import { brokerSteps } from "./steps/broker";
import { hostSteps } from "./steps/host";
import { monitorSteps } from "./steps/monitor";
import { storeSteps } from "./steps/store";
import { PlanStep } from "./steps/types";
import { zookeeperSteps } from "./steps/zookeeper";

export { artifactUrls, LEVELDB_EXTRA_JARS } from "./steps/artifacts";

export type { ManagedFile, PlanStep, StepInput, StepInputs } from "./steps/types";

export interface PlanOptions {
  /**
   * The group has never been deployed (nothing of it serves yet): its hosts configure at once instead of one at a
   * time, which halves a first deployment's critical path. Default false: every later run rolls.
   */
  readonly firstDeployment?: boolean;
}

/** The whole plan for the settings, ordered so that every step comes after what it depends on. */
export function buildPlan(settings: StackSettings, options: PlanOptions = {}): PlanStep[] {
  const nodes = Array.from({ length: settings.nodeCount }, (_, i) => i + 1);
  const ctx = { settings, nodes, last: settings.nodeCount, oneHostAtATime: options.firstDeployment !== true };
  return [
    ...hostSteps(ctx),
    ...zookeeperSteps(ctx),
    ...storeSteps(ctx),
    ...brokerSteps(ctx),
    ...monitorSteps(ctx),
  ];
}

// How a plan step meets its host, shared by both executors (components/provisioning.ts and the cluster-in-a-box
// harness): what Pulumi compares to decide that the step runs again, and how patiently it dials. Pure.
import { REMOTE_COMMAND } from "./payload";
import { PlanStep } from "./plan";

/**
 * The commands of every step's remote.Command: both run the payload on stdin. pulumi-command runs `create` when the
 * resource is created and when it is replaced (a changed trigger), `update` on any other change of its inputs
 * (provider/pkg/provider/remote/commandController.go), so a step that lacked either would silently not run.
 */
export const STEP_COMMANDS = { create: REMOTE_COMMAND, update: REMOTE_COMMAND } as const;

/** What identifies a node's machine: a new instance or network interface is a new, blank host. */
export interface HostIdentity {
  readonly instanceId: string;
  readonly networkInterfaceId: string;
}

/**
 * The step's triggers, in a fixed order: the payload digests of the steps it re-runs with, then the identity of
 * every host it depends on. A change of any of them replaces the step, which runs its `create` again
 * (pulumi-command: `triggers` is replaceOnChanges, provider/pkg/provider/common/inputs.go).
 */
export function stepTriggers(
  step: PlanStep,
  payloadDigest: (stepId: string) => string,
  hostOf: (node: number) => HostIdentity,
): string[] {
  return [
    ...step.rerunWith.map(payloadDigest),
    ...step.hostTriggers.map((node) => {
      const host = hostOf(node);
      return `node ${node}: ${host.instanceId} on ${host.networkInterfaceId}`;
    }),
  ];
}

export interface DialPolicy {
  /** Failed dials before the step fails; the provider waits 0.1 s, growing 1.5× to 5 s, between them. */
  readonly dialErrorLimit: number;
  /** Seconds one dial may take. */
  readonly perDialTimeout: number;
}

/**
 * The first step of a host waits for it to boot: 12 dials of up to 15 s, about 4 minutes for a host that drops
 * packets and about 40 s for one that refuses or rejects the key. Every later step meets a running host, so a
 * wrong key or user fails in about a second instead of being retried for the step's whole timeout.
 */
export function dialPolicy(step: PlanStep): DialPolicy {
  return step.waitsForBoot
    ? { dialErrorLimit: 12, perDialTimeout: 15 }
    : { dialErrorLimit: 3, perDialTimeout: 10 };
}

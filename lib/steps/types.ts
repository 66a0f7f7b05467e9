// What a plan step is: its identity, order, triggers, limits and input. Pure.
import { ClusterFacts } from "../facts";

/** A file the step installs on the host (atomically, and only when its content differs). */
export interface ManagedFile {
  readonly path: string;
  readonly content: string;
  readonly owner: string;
  readonly group: string;
  readonly mode: string;
}

/**
 * A step's named inputs: its script declares them (require_inputs in scripts/lib/common.sh) and reads them as
 * variables. Names are upper-case shell names; lists are space-separated.
 */
export type StepInputs = Readonly<Record<string, string>>;

/** What a step receives: its named inputs and the files it manages. */
export interface StepInput {
  readonly inputs: StepInputs;
  readonly files: readonly ManagedFile[];
}

export interface PlanStep {
  /** Unique in the plan, e.g. "n2-zookeeper-configure"; also names the Pulumi resource. */
  readonly id: string;
  /** The host it runs on (1-based node index). */
  readonly node: number;
  /** What it does, e.g. "zookeeper-configure"; the same on every host. */
  readonly action: string;
  /** The script under scripts/ that it runs (with scripts/lib/common.sh beside it). */
  readonly script: string;
  readonly description: string;
  /** Steps that must have finished first. */
  readonly dependsOn: readonly string[];
  /** Steps whose re-run must re-run this one too (their content feeds this step's triggers). */
  readonly rerunWith: readonly string[];
  /**
   * Nodes whose host (instance and network interface) feeds this step's triggers: a replaced host re-runs every
   * step of its node, and the group's gates, so a blank replacement is provisioned like the first host was.
   */
  readonly hostTriggers: readonly number[];
  /** The first step of a host: it may have to wait for the host to boot, so it dials with more patience. */
  readonly waitsForBoot: boolean;
  readonly timeoutMinutes: number;
  readonly input: (facts: ClusterFacts) => StepInput;
}

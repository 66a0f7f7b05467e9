// Runs the program's own provisioning plan (lib/plan.ts) against the box's hosts: the same payloads over SSH
// with the same remote command as components/provisioning.ts, each step once everything it depends on is done
// (independent steps run together, as Pulumi runs them).
import { ClusterFacts } from "../../../lib/facts";
import { REMOTE_COMMAND, renderPayload } from "../../../lib/payload";
import { PlanStep } from "../../../lib/plan";
import { BoxInfo, RunResult, sshRun } from "./box";

export interface StepRun {
  readonly step: PlanStep;
  readonly result: RunResult;
}

export class StepFailed extends Error {
  constructor(readonly run: StepRun) {
    super(
      `step ${run.step.id} failed (exit ${run.result.code}):\n${run.result.stdout}${run.result.stderr}`.trimEnd(),
    );
  }
}

/** Runs every step; stops at the first failure (as `pulumi up` does) and throws StepFailed. */
export async function runPlan(
  steps: readonly PlanStep[],
  facts: ClusterFacts,
  info: BoxInfo,
  onStep: (run: StepRun) => void = () => undefined,
): Promise<StepRun[]> {
  const addressOf = new Map(facts.nodes.map((n) => [n.index, n.privateIp]));
  const ids = new Set(steps.map((s) => s.id));
  const done = new Set<string>();
  const runs: StepRun[] = [];
  let pending = [...steps];
  while (pending.length > 0) {
    // Dependencies outside the given steps (a filtered plan) count as met.
    const ready = pending.filter((s) => s.dependsOn.every((d) => done.has(d) || !ids.has(d)));
    if (ready.length === 0) {
      throw new Error(`no step can run; waiting: ${pending.map((s) => s.id).join(", ")}`);
    }
    const results = await Promise.all(
      ready.map(async (step) => {
        const address = addressOf.get(step.node);
        if (!address) {
          throw new Error(`no host for node ${step.node}`);
        }
        const result = await sshRun(info, address, REMOTE_COMMAND, renderPayload(step, facts));
        const run = { step, result };
        onStep(run);
        return run;
      }),
    );
    for (const run of results) {
      runs.push(run);
      if (run.result.code !== 0) {
        throw new StepFailed(run);
      }
      done.add(run.step.id);
    }
    pending = pending.filter((s) => !done.has(s.id));
  }
  return runs;
}

// Runs the program's own provisioning plan (lib/plan.ts) against the box's hosts, the way `pulumi up` runs the
// remote.Commands of components/provisioning.ts: the same payloads over SSH with the same remote command, each
// host's key verified as connection.hostKey does, each step once everything it depends on is done (independent
// steps together). Given the state of an earlier run, it also decides like Pulumi which steps run at all: a step
// runs when it is new or when its payload, its triggers (lib/stepRun.ts) or its connection changed.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { ClusterFacts } from "../../../lib/facts";
import { REMOTE_COMMAND, renderPayload, sha256 } from "../../../lib/payload";
import { PlanStep } from "../../../lib/plan";
import { dialPolicy, HostIdentity, stepTriggers } from "../../../lib/stepRun";
import { box, BoxInfo, RunResult, sshRun } from "./box";

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

/**
 * The box's hosts as the stack's state knows one HA group's: each node's address, the host key the stack made for
 * it, and the identity of its instance. `replace` stands in for AWS replacing an instance: a blank host at the same
 * address, with a new instance id. A group's node N is the box's host N + the group's offset (`group`), so several
 * groups share one box; `info` lists the group's hosts under the box's own indexes (what box.sh takes).
 */
export class BoxCluster {
  private constructor(
    /** The group's hosts, under the box's indexes. */
    readonly info: BoxInfo,
    /** Where the stack's host keys are (nK, nK.pub for the box's host K): what BOX_HOST_KEYS hands box.sh. */
    readonly hostKeyDir: string,
    /** The box's index of the host before the group's node 1. */
    private readonly offset: number,
    /** Each host's instance generation, shared by every view of the box. */
    private readonly generation: Map<number, number>,
  ) {}

  /** Makes one ED25519 host key per host (as the stack's tls.PrivateKey does), then boots the box with them. */
  static up(count: number, hostKeyDir: string, boxUp: (count: number) => BoxInfo): BoxCluster {
    rmSync(hostKeyDir, { recursive: true, force: true });
    mkdirSync(hostKeyDir, { recursive: true });
    for (let k = 1; k <= count; k++) {
      const file = path.join(hostKeyDir, `n${k}`);
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `stack host key ${k}`, "-f", file]);
    }
    process.env.BOX_HOST_KEYS = hostKeyDir;
    const info = boxUp(count);
    return new BoxCluster(info, hostKeyDir, 0, new Map(info.hosts.map((h) => [h.index, 1])));
  }

  /** HA group `group` of `size` nodes: the box's hosts (group-1)·size+1 … group·size. */
  group(group: number, size: number): BoxCluster {
    const offset = (group - 1) * size;
    const hosts = this.info.hosts.filter((h) => h.index > offset && h.index <= offset + size);
    if (hosts.length !== size) {
      throw new Error(`the box has no hosts ${offset + 1}-${offset + size} for group ${group}`);
    }
    return new BoxCluster({ ...this.info, hosts }, this.hostKeyDir, offset, this.generation);
  }

  /** The box's index of the group's node `node`. */
  hostOf(node: number): number {
    return this.offset + node;
  }

  /** The group's node on the box's host `host`. */
  nodeOf(host: number): number {
    return host - this.offset;
  }

  /** The public key the stack expects node `node` to present (OpenSSH line). */
  hostKey(node: number): string {
    return readFileSync(path.join(this.hostKeyDir, `n${this.hostOf(node)}.pub`), "utf8").trim();
  }

  identity(node: number): HostIdentity {
    const host = this.hostOf(node);
    return {
      instanceId: `box-instance-${host}-${this.generation.get(host) ?? 1}`,
      networkInterfaceId: `box-nic-${host}`,
    };
  }

  address(node: number): string {
    const host = this.info.hosts.find((h) => h.index === this.hostOf(node));
    if (!host) {
      throw new Error(`no host for node ${node}`);
    }
    return host.address;
  }

  /**
   * Replaces node `node`'s host by a blank one at the same address and gives it a new instance id. With
   * `key: "stack"` it boots with the stack's host key (as a new instance does from its user data); with
   * `"foreign"` it makes one of its own, as an impostor at that address would.
   */
  replace(node: number, key: "stack" | "foreign"): void {
    const host = this.hostOf(node);
    const saved = process.env.BOX_HOST_KEYS;
    try {
      if (key === "foreign") {
        delete process.env.BOX_HOST_KEYS;
      } else {
        process.env.BOX_HOST_KEYS = this.hostKeyDir;
      }
      box("replace", String(host));
    } finally {
      if (saved !== undefined) {
        process.env.BOX_HOST_KEYS = saved;
      }
    }
    this.generation.set(host, (this.generation.get(host) ?? 1) + 1);
  }
}

/** What the stack's state remembers of each step: the inputs it last ran with. */
export class StepState {
  private readonly applied = new Map<string, string>();

  isCurrent(stepId: string, inputs: string): boolean {
    return this.applied.get(stepId) === inputs;
  }

  record(stepId: string, inputs: string): void {
    this.applied.set(stepId, inputs);
  }
}

export interface RunOptions {
  /** The state of earlier runs: only steps whose inputs changed run, as in `pulumi up`. Without it every step runs. */
  readonly state?: StepState;
  readonly onStep?: (run: StepRun) => void;
  /**
   * The whole plan, when the steps given are a phase of it: the steps they re-run with may be outside the phase,
   * and their payloads feed the triggers all the same.
   */
  readonly plan?: readonly PlanStep[];
}

/** Everything Pulumi compares for a step, in one string: payload digest, triggers and connection. */
function stepInputs(step: PlanStep, payloads: ReadonlyMap<string, string>, cluster: BoxCluster): string {
  const payloadDigest = (id: string) => {
    const payload = payloads.get(id);
    if (payload === undefined) {
      throw new Error(`step ${step.id} re-runs with ${id}, which is not among the steps given`);
    }
    return sha256(payload);
  };
  return JSON.stringify({
    stdin: sha256(payloads.get(step.id) as string),
    triggers: stepTriggers(step, payloadDigest, (node) => cluster.identity(node)),
    connection: {
      host: cluster.address(step.node),
      hostKey: cluster.hostKey(step.node),
      ...dialPolicy(step),
    },
  });
}

/**
 * Runs the steps that are due (all of them without `state`) and returns what ran, in the order they finished.
 * Like `pulumi up`, each step starts as soon as everything it depends on is done; after a failure no new step
 * starts, those under way finish, and StepFailed is thrown for the first that failed. A step that is not due
 * counts as done for those after it.
 */
export async function runPlan(
  steps: readonly PlanStep[],
  facts: ClusterFacts,
  cluster: BoxCluster,
  options: RunOptions = {},
): Promise<StepRun[]> {
  const payloads = new Map([...(options.plan ?? []), ...steps].map((s) => [s.id, renderPayload(s, facts)]));
  const ids = new Set(steps.map((s) => s.id));
  const done = new Set<string>();
  const runs: StepRun[] = [];
  let failed: StepRun | undefined;
  let pending = [...steps];
  const running = new Map<string, Promise<void>>();

  const execute = async (step: PlanStep): Promise<void> => {
    const inputs = stepInputs(step, payloads, cluster);
    if (!options.state?.isCurrent(step.id, inputs)) {
      const result = await sshRun(
        cluster.info,
        cluster.address(step.node),
        REMOTE_COMMAND,
        payloads.get(step.id) as string,
        cluster.hostKey(step.node),
      );
      const run = { step, result };
      options.onStep?.(run);
      runs.push(run);
      if (result.code !== 0) {
        failed ??= run;
        return;
      }
      options.state?.record(step.id, inputs);
    }
    done.add(step.id);
  };

  for (;;) {
    if (failed === undefined) {
      // Dependencies outside the given steps (a filtered plan) count as met.
      const ready = pending.filter((s) => s.dependsOn.every((d) => done.has(d) || !ids.has(d)));
      pending = pending.filter((s) => !ready.includes(s));
      for (const step of ready) {
        running.set(
          step.id,
          execute(step).finally(() => running.delete(step.id)),
        );
      }
    }
    if (running.size === 0) {
      break;
    }
    await Promise.race(running.values());
  }
  if (failed !== undefined) {
    throw new StepFailed(failed);
  }
  if (pending.length > 0) {
    throw new Error(`no step can run; waiting: ${pending.map((s) => s.id).join(", ")}`);
  }
  return runs;
}

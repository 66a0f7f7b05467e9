// Plays `pulumi up` against the box's hosts: the program's own provisioning plan (lib/plan.ts) as the remote.Commands
// of components/provisioning.ts, and, when the hosts are part of the run, each node's instance and rejoin step as
// components/hosts.ts declares them. The same payloads go over SSH with the same remote command, each host's key
// verified as connection.hostKey does, each resource once everything it depends on is done (independent ones
// together). What runs, and what happens to a host, is decided only by the providers' rules (provider-rules.ts)
// against the state of earlier runs: a Command whose triggers changed is replaced and runs `create`, one whose
// other inputs changed runs `update`; an instance whose type or user data changed is stopped and started, one
// replaced is a blank host.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { ClusterFacts } from "../../../lib/facts";
import { renderPayload, renderStepPayload, sha256 } from "../../../lib/payload";
import { PlanStep } from "../../../lib/plan";
import { hostRejoinStep, REJOIN_COMMANDS, rebuildSteps, rejoinTriggers } from "../../../lib/rollout";
import { StackSettings } from "../../../lib/settings";
import { dialPolicy, HostIdentity, STEP_COMMANDS, stepTriggers } from "../../../lib/stepRun";
import { box, BoxInfo, RunResult, sleep, sshRun } from "./box";
import {
  CommandInputs,
  commandOperation,
  commandRuns,
  InstanceInputs,
  instanceAction,
  InstanceAction,
  Operation,
} from "./provider-rules";

export interface StepRun {
  readonly step: PlanStep;
  readonly result: RunResult;
  /** What the provider did with the step's Command (create, replace or update: a step that ran). */
  readonly operation?: Operation;
  /** When it started and ended (ms since the epoch). */
  readonly startedAt?: number;
  readonly endedAt?: number;
}

/** What happened to one node's instance in a run. */
export interface InstanceRun {
  readonly node: number;
  readonly action: InstanceAction;
  readonly startedAt: number;
  readonly endedAt: number;
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
    /** Each host's instance as the stack's state knows it (undefined before the first run that declares it). */
    private readonly instances: Map<number, InstanceInputs> = new Map(),
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
    return new BoxCluster({ ...this.info, hosts }, this.hostKeyDir, offset, this.generation, this.instances);
  }

  /** The box's index of the group's node `node`. */
  hostOf(node: number): number {
    return this.offset + node;
  }

  /** The group's node on the box's host `host`. */
  nodeOf(host: number): number {
    return host - this.offset;
  }

  /** The group's node numbers, 1 … size. */
  nodes(): number[] {
    return this.info.hosts.map((h) => this.nodeOf(h.index));
  }

  /** Node's instance as the state last recorded it. */
  instance(node: number): InstanceInputs | undefined {
    return this.instances.get(this.hostOf(node));
  }

  recordInstance(node: number, inputs: InstanceInputs): void {
    this.instances.set(this.hostOf(node), inputs);
  }

  /**
   * Stops node's host as EC2 stops an instance: "clean" is a shutdown (systemd stops the services in order, as
   * StopInstances does); "power-loss" a silent power-off. Either way its address answers nothing until it starts.
   */
  stopHost(node: number, how: "clean" | "power-loss"): void {
    if (how === "clean") {
      box("stop", String(this.hostOf(node)));
      return;
    }
    box("poweroff", String(this.hostOf(node)));
  }

  /** Starts node's host again from its disk (same address and key) and waits for it to boot. */
  startHost(node: number): void {
    box("poweron", String(this.hostOf(node)));
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

/** What the stack's state remembers of each Command: the inputs it last ran with (or was created with). */
export class StepState {
  private readonly applied = new Map<string, CommandInputs>();

  previous(id: string): CommandInputs | undefined {
    return this.applied.get(id);
  }

  record(id: string, inputs: CommandInputs): void {
    this.applied.set(id, inputs);
  }
}

/** The instances as the program declares them in this run, and how the box plays what AWS does to them. */
export interface HostsRun {
  /** The program's instance type (the same for every node). */
  readonly instanceType: string;
  /** The cloud-config text the program renders (the box's hosts get their key otherwise; only its change counts). */
  readonly userData: string;
  /** Nodes whose instance `pulumi up --replace` names, or whose replacement a ForceNew change forces. */
  readonly replace?: readonly number[];
  /**
   * How a stop–start stops the host: "clean" as EC2's StopInstances (a shutdown: services stop in order), or
   * "power-loss" (silent: routes cut, then every process killed). Default "clean".
   */
  readonly stop?: "clean" | "power-loss";
  /** How long a stopped host stays down before it starts (EC2 takes tens of seconds). Default 20 s. */
  readonly downSeconds?: number;
  /** Called as a node's host goes down and once it runs again (for counting clients and samplers). */
  readonly onHost?: (node: number, event: "down" | "up" | "replaced") => void;
  readonly onInstance?: (run: InstanceRun) => void;
}

export interface RunOptions {
  /** The state of earlier runs: only resources whose inputs changed run, as in `pulumi up`. Without it every step runs. */
  readonly state?: StepState;
  readonly onStep?: (run: StepRun) => void;
  /**
   * The whole plan, when the steps given are a phase of it: the steps they re-run with may be outside the phase,
   * and their payloads feed the triggers all the same.
   */
  readonly plan?: readonly PlanStep[];
  /**
   * The group's instances and rejoin steps (components/hosts.ts), as this run declares them, with the settings the
   * rejoin steps are built from. Without it the run touches no instance and no rejoin step.
   */
  readonly hosts?: HostsRun & { readonly settings: StackSettings };
}

/** A step's Command inputs as Pulumi compares them: commands, payload digest, triggers and connection. */
function commandInputs(
  step: PlanStep,
  payload: string,
  triggers: readonly string[],
  cluster: BoxCluster,
  commands: { readonly create?: string; readonly update?: string } = STEP_COMMANDS,
): CommandInputs {
  return {
    ...commands,
    stdin: sha256(payload),
    triggers,
    connection: JSON.stringify({
      host: cluster.address(step.node),
      hostKey: cluster.hostKey(step.node),
      ...dialPolicy(step),
    }),
  };
}

/** One resource of the run: what it waits for, and what the provider does with it. */
interface Resource {
  readonly id: string;
  readonly dependsOn: readonly string[];
  apply(): Promise<StepRun | undefined>;
}

/**
 * Runs what is due (every step without `state`) and returns the steps that ran, in the order they finished. Like
 * `pulumi up`, each resource starts as soon as everything it depends on is done; after a failure nothing new
 * starts, what is under way finishes, and StepFailed is thrown for the first step that failed. A resource that is
 * not due counts as done for those after it.
 */
export async function runPlan(
  steps: readonly PlanStep[],
  facts: ClusterFacts,
  cluster: BoxCluster,
  options: RunOptions = {},
): Promise<StepRun[]> {
  const payloads = new Map([...(options.plan ?? []), ...steps].map((s) => [s.id, renderPayload(s, facts)]));
  const hosts = options.hosts;
  const nodes = cluster.nodes();
  const instanceId = (node: number) => `instance:${node}`;
  const stepIds = new Set(steps.map((s) => s.id));

  const runCommand = async (step: PlanStep, payload: string, inputs: CommandInputs) => {
    const operation = options.state
      ? commandOperation(options.state.previous(step.id), inputs)
      : // Without state every step runs, as on a first deployment.
        "create";
    const command = commandRuns(operation, inputs);
    // The rejoin step's update only reads its input (lib/rollout.ts REJOIN_COMMANDS): running it would do nothing.
    if (command === undefined || command === REJOIN_COMMANDS.update) {
      options.state?.record(step.id, inputs);
      return undefined;
    }
    const startedAt = Date.now();
    const result = await sshRun(
      cluster.info,
      cluster.address(step.node),
      command,
      payload,
      cluster.hostKey(step.node),
    );
    const run: StepRun = { step, result, operation, startedAt, endedAt: Date.now() };
    options.onStep?.(run);
    if (result.code === 0) {
      options.state?.record(step.id, inputs);
    }
    return run;
  };

  const resources: Resource[] = steps.map((step) => ({
    id: step.id,
    dependsOn: [
      ...step.dependsOn.filter((d) => stepIds.has(d)),
      // A step's triggers hold its hosts' instance ids, so it waits for those instances; a first step also
      // waits for its node's rejoin step (components/provisioning.ts).
      ...(hosts ? step.hostTriggers.map(instanceId) : []),
      ...(hosts && step.dependsOn.length === 0 ? [`n${step.node}-host-rejoin`] : []),
    ],
    apply: () => {
      const payload = payloads.get(step.id) as string;
      const payloadDigest = (id: string) => {
        const p = payloads.get(id);
        if (p === undefined) {
          throw new Error(`step ${step.id} re-runs with ${id}, which is not among the steps given`);
        }
        return sha256(p);
      };
      const triggers = stepTriggers(step, payloadDigest, (node) => cluster.identity(node));
      return runCommand(step, payload, commandInputs(step, payload, triggers, cluster));
    },
  }));

  if (hosts) {
    const addresses = nodes.map((n) => cluster.address(n));
    for (const node of nodes) {
      const desired: InstanceInputs = {
        instanceType: hosts.instanceType,
        userData: sha256(hosts.userData),
        forceNew: { networkInterface: `box-nic-${cluster.hostOf(node)}` },
      };
      resources.push({
        id: instanceId(node),
        // components/hosts.ts: node n's instance depends on node n-1's rejoin step.
        dependsOn: node > 1 ? [`n${node - 1}-host-rejoin`] : [],
        apply: async () => {
          const action = instanceAction(
            cluster.instance(node),
            desired,
            hosts.replace?.includes(node) ?? false,
          );
          const startedAt = Date.now();
          await playInstance(cluster, node, action, hosts);
          cluster.recordInstance(node, desired);
          hosts.onInstance?.({ node, action, startedAt, endedAt: Date.now() });
          return undefined;
        },
      });
      const rebuild = rebuildSteps(options.plan ?? steps, node).map((s) => ({
        id: s.id,
        payload: payloads.get(s.id) as string,
      }));
      const { step, input } = hostRejoinStep(hosts.settings, node, addresses, rebuild);
      const payload = renderStepPayload(step, input);
      resources.push({
        id: step.id,
        dependsOn: [instanceId(node)],
        apply: () => {
          const triggers = rejoinTriggers(
            hosts.instanceType,
            sha256(hosts.userData),
            cluster.identity(node).instanceId,
          );
          return runCommand(step, payload, commandInputs(step, payload, triggers, cluster, REJOIN_COMMANDS));
        },
      });
    }
  }
  return schedule(resources);
}

/** What AWS does to node's instance, played on its box host. */
async function playInstance(
  cluster: BoxCluster,
  node: number,
  action: InstanceAction,
  hosts: HostsRun,
): Promise<void> {
  switch (action.kind) {
    case "create":
    case "same":
      // The box booted every host before the first run: a created instance is the host that is there.
      return;
    case "replace":
      // EC2 terminates an instance with a shutdown of its OS (as a stop), then the blank one boots.
      cluster.stopHost(node, "clean");
      hosts.onHost?.(node, "replaced");
      cluster.replace(node, "stack");
      // A blank host runs again at the address (it is not yet back in its groups: its rejoin step sees to that).
      hosts.onHost?.(node, "up");
      return;
    case "stop-start":
      // One stop–modify–start per attribute, as resourceInstanceUpdate makes them.
      for (let i = 0; i < action.attributes.length; i++) {
        cluster.stopHost(node, hosts.stop ?? "clean");
        hosts.onHost?.(node, "down");
        await sleep((hosts.downSeconds ?? 20) * 1000);
        cluster.startHost(node);
        hosts.onHost?.(node, "up");
      }
      return;
  }
}

/** Runs the resources in dependency order, independent ones together, and returns the steps that ran. */
async function schedule(resources: readonly Resource[]): Promise<StepRun[]> {
  const ids = new Set(resources.map((r) => r.id));
  const done = new Set<string>();
  const runs: StepRun[] = [];
  let failed: StepRun | undefined;
  let error: unknown;
  let pending = [...resources];
  const running = new Map<string, Promise<void>>();

  const execute = async (resource: Resource): Promise<void> => {
    try {
      const run = await resource.apply();
      if (run !== undefined) {
        runs.push(run);
        if (run.result.code !== 0) {
          failed ??= run;
          return;
        }
      }
      done.add(resource.id);
    } catch (e) {
      error ??= e;
    }
  };

  for (;;) {
    if (failed === undefined && error === undefined) {
      // Dependencies outside the given resources (a filtered plan) count as met.
      const ready = pending.filter((r) => r.dependsOn.every((d) => done.has(d) || !ids.has(d)));
      pending = pending.filter((r) => !ready.includes(r));
      for (const resource of ready) {
        running.set(
          resource.id,
          execute(resource).finally(() => running.delete(resource.id)),
        );
      }
    }
    if (running.size === 0) {
      break;
    }
    await Promise.race(running.values());
  }
  if (error !== undefined) {
    throw error;
  }
  if (failed !== undefined) {
    throw new StepFailed(failed);
  }
  if (pending.length > 0) {
    throw new Error(`no step can run; waiting: ${pending.map((r) => r.id).join(", ")}`);
  }
  return runs;
}

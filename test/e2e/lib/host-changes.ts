// Day 2 with instances in the cluster-in-a-box: a new instance type and replaced instances, played as `pulumi up`
// plays them under the providers' rules (executor.ts, provider-rules.ts), with the group sampled and, with brokers,
// a client counting every acknowledged message.
import assert from "node:assert/strict";
import { ClusterFacts } from "../../../lib/facts";
import { PlanStep } from "../../../lib/plan";
import { StackSettings } from "../../../lib/settings";
import { masterPort } from "../../../lib/tls";
import { sleep } from "./box";
import { brokersAccepting, Figures, Rebuilt, stepsOfReplacedHost, withCountingClient } from "./cluster-box";
import { BoxCluster, HostsRun, InstanceRun, runPlan, StepRun, StepState } from "./executor";

/** The cloud-config text the box's hosts stand for: only whether it changes matters (the box installs keys itself). */
const BOX_USER_DATA = "#cloud-config (the stack's host key)";

/** The group's instances as a run of the program declares them, for the executor (RunOptions.hosts). */
export function boxHosts(
  settings: StackSettings,
  run: Partial<HostsRun> = {},
): HostsRun & { settings: StackSettings } {
  return { instanceType: settings.instanceType, userData: BOX_USER_DATA, ...run, settings };
}

/** What a run that changed instances did, as the executor and a sampler saw it. */
export interface HostChange {
  /** The steps that ran (the rejoin steps among them), in the order they finished. */
  readonly runs: StepRun[];
  readonly instances: InstanceRun[];
  /** The most hosts down at once. */
  readonly mostDown: number;
  /** Samples (one a second) in which no broker accepted clients, of all samples. */
  readonly noMaster: number;
  readonly samples: number;
  /** Which brokers accepted clients, each time that changed: seconds since the run began, and the nodes. */
  readonly timeline: readonly { readonly at: number; readonly accepting: readonly number[] }[];
  /** When the run began (ms since the epoch): the timeline counts from here. */
  readonly started: number;
  readonly seconds: number;
}

/**
 * Day 2 with instances: the program run again with `change` (a new instance type, or instances to replace), played
 * as `pulumi up` would under the providers' rules (executor.ts, provider-rules.ts): the instances change in node
 * order, each after the previous node's rejoin step, and only what the rules say runs. `onHost` marks a client's
 * fault as a host goes down. A sampler asks once a second whether a broker accepts clients.
 */
export async function applyHostChange(
  cluster: BoxCluster,
  plan: readonly PlanStep[],
  facts: ClusterFacts,
  state: StepState,
  settings: StackSettings,
  change: Partial<HostsRun>,
): Promise<HostChange> {
  const info = cluster.info;
  const port = masterPort(settings);
  const down = new Set<number>();
  let mostDown = 0;
  const instances: InstanceRun[] = [];
  let sampling = true;
  let samples = 0;
  let noMaster = 0;
  // Who serves before anything changes: the first master change is counted from here.
  const timeline: { at: number; accepting: number[] }[] = [
    { at: 0, accepting: await brokersAccepting(info, port, info.hosts, 500) },
  ];
  const started = Date.now();
  const sampler = (async () => {
    while (sampling) {
      const accepting = await brokersAccepting(info, port, info.hosts, 500);
      samples++;
      if (accepting.length === 0) {
        noMaster++;
      }
      if (JSON.stringify(timeline[timeline.length - 1]?.accepting) !== JSON.stringify(accepting)) {
        timeline.push({ at: (Date.now() - started) / 1000, accepting });
      }
      await sleep(1000);
    }
  })();
  let runs: StepRun[];
  try {
    runs = await runPlan(plan, facts, cluster, {
      state,
      plan,
      hosts: boxHosts(settings, {
        ...change,
        onHost: (node, event) => {
          if (event === "up") {
            down.delete(node);
          } else {
            down.add(node);
            mostDown = Math.max(mostDown, down.size);
          }
          change.onHost?.(node, event);
        },
        onInstance: (run) => instances.push(run),
      }),
    });
  } finally {
    sampling = false;
    await sampler;
  }
  return {
    runs,
    instances,
    mostDown,
    noMaster,
    samples,
    timeline,
    started,
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * What every instance change must show: node n's instance changed only after node n-1's rejoin step ended, every
 * node's rejoin step ran its `create` (the provider replaces a Command whose triggers changed), never more than one
 * host down, and a broker serving when each node rejoined. Returns the rejoin steps' seconds by node.
 */
export function assertRolledOneAtATime(
  change: HostChange,
  nodes: readonly number[],
  brokers = true,
): number[] {
  const rejoin = (n: number) => change.runs.find((r) => r.step.id === `n${n}-host-rejoin`);
  for (const n of nodes) {
    const run = rejoin(n);
    assert.ok(run, `node ${n}'s rejoin step ran`);
    assert.equal(run.operation, "replace", `node ${n}'s rejoin step was replaced (its create ran)`);
    const instance = change.instances.find((i) => i.node === n);
    assert.ok(instance && instance.action.kind !== "same", `node ${n}'s instance changed`);
    const previous = n > 1 ? rejoin(n - 1) : undefined;
    if (previous) {
      assert.ok(
        instance.startedAt >= (previous.endedAt ?? Infinity),
        `node ${n}'s instance changed only after node ${n - 1}'s rejoin step ended`,
      );
    }
    if (brokers) {
      // The step itself waits for a master serving the group before it ends (scripts/host-rejoin.sh), and the
      // sampler's last look before that moment saw one.
      assert.match(run.result.stdout, /a master serving/, `node ${n}'s rejoin step saw a master serving`);
      const ended = ((run.endedAt ?? 0) - change.started) / 1000;
      const seen = change.timeline.filter((t) => t.at <= ended).pop();
      assert.ok(
        seen && seen.accepting.length > 0,
        `a broker served when node ${n} rejoined (+${ended.toFixed(1)} s)`,
      );
    }
  }
  assert.ok(change.mostDown <= 1, `never more than one host down (saw ${change.mostDown})`);
  return nodes.map((n) => rejoin(n)?.result.seconds ?? 0);
}

/** How often another broker became the serving master, as the sampler saw it. */
export function masterChanges(timeline: HostChange["timeline"]): number {
  let last: string | undefined;
  let changes = 0;
  for (const { accepting } of timeline) {
    if (accepting.length === 0) {
      continue;
    }
    const now = accepting.join(",");
    if (last !== undefined && now !== last) {
      changes++;
    }
    last = now;
  }
  return changes;
}

/**
 * A host change played by applyHostChange while, with brokers (`classpath` given), a client sends on failoverUrl and
 * every acknowledged message is counted, a fault marked as each host goes down. Asserts the roll over `nodes`
 * (assertRolledOneAtATime) and that nothing acknowledged was lost, and adds one figure line under `label`.
 */
async function countedHostChange(
  cluster: BoxCluster,
  plan: readonly PlanStep[],
  facts: ClusterFacts,
  state: StepState,
  settings: StackSettings,
  change: Partial<HostsRun>,
  nodes: readonly number[],
  label: string,
  figures: Figures,
  classpath: string[] | undefined,
): Promise<void> {
  let done: HostChange | undefined;
  const play = (onDown: () => void) =>
    applyHostChange(cluster, plan, facts, state, settings, {
      ...change,
      onHost: (_node, event) => {
        if (event !== "up") {
          onDown();
        }
      },
    }).then((c) => {
      done = c;
    });
  let lost: number[] = [];
  if (classpath === undefined) {
    await play(() => undefined);
  } else {
    const counted = await withCountingClient(settings, facts, classpath, figures, label, (probe) =>
      play(() => probe.fault()),
    );
    lost = counted.lost;
  }
  const result = done as HostChange;
  const at = (t: number) => ((t - (result.instances[0]?.startedAt ?? t)) / 1000).toFixed(1);
  const events = [
    ...result.instances.map((i) => `+${at(i.startedAt)} s node ${i.node} ${i.action.kind}`),
    ...result.runs
      .filter((r) => r.step.action === "host-rejoin")
      .map((r) => `+${at(r.endedAt ?? 0)} s node ${r.step.node} rejoined (${r.result.seconds.toFixed(1)} s)`),
  ].sort((a, b) => parseFloat(a.slice(1)) - parseFloat(b.slice(1)));
  figures.add(`${label}: ${events.join("; ")}`);
  figures.add(
    `${label}: brokers accepting, as sampled: ` +
      result.timeline.map((t) => `+${t.at.toFixed(0)} s [${t.accepting.join(",")}]`).join(" ") +
      `; none in ${result.noMaster} of ${result.samples} samples; at most ${result.mostDown} host down; ` +
      `${lost.length} acknowledged lost`,
  );
  assertRolledOneAtATime(result, nodes, classpath !== undefined);
  if (settings.haMode === "shared-kahadb") {
    assert.deepEqual(lost, [], `${label}: no acknowledged message lost`);
  } else {
    // Replicated LevelDB may drop the one send in flight when its master changes, a loss of the store's own that no
    // setting removes (README, what each mode guarantees): at most that, never what the roll itself would lose (a
    // host stopped before the one before it had caught up lost every message of a whole window).
    const failovers = masterChanges(result.timeline);
    assert.ok(
      lost.length <= failovers,
      `${label}: ${lost.length} acknowledged lost, more than one per master change (${failovers})`,
    );
  }
}

/**
 * Day 2, a new instanceType, played as `pulumi up` plays it: every node's instance stopped (`stop`: a clean shutdown
 * as EC2's, or a silent power loss), kept down 20 s, started, and its rejoin step's `create` run, one node after
 * another, counted as countedHostChange does.
 */
export async function rollInstanceType(
  cluster: BoxCluster,
  plan: readonly PlanStep[],
  facts: ClusterFacts,
  state: StepState,
  changed: StackSettings,
  stop: "clean" | "power-loss",
  figures: Figures,
  classpath: string[] | undefined,
): Promise<void> {
  const label = `instanceType → ${changed.instanceType} (${stop} stops)`;
  const change = { stop, downSeconds: 20 };
  await countedHostChange(
    cluster,
    plan,
    facts,
    state,
    changed,
    change,
    cluster.nodes(),
    label,
    figures,
    classpath,
  );
}

/**
 * Day 2, several instances replaced in one update (`pulumi up --replace` on each, or a ForceNew change), played by
 * the executor: each blank host is rebuilt by its rejoin step and back in its groups before the next instance is
 * deleted; counted as countedHostChange does.
 */
export async function replaceInstances(
  cluster: BoxCluster,
  plan: readonly PlanStep[],
  facts: ClusterFacts,
  state: StepState,
  settings: StackSettings,
  nodes: readonly number[],
  figures: Figures,
  classpath: string[] | undefined,
): Promise<void> {
  const label = `instances of nodes ${nodes.join(" and ")} replaced in one update`;
  await countedHostChange(
    cluster,
    plan,
    facts,
    state,
    settings,
    { replace: nodes },
    nodes,
    label,
    figures,
    classpath,
  );
}

/**
 * Day 2, a replaced host: node `index`'s instance is replaced (`pulumi up --replace`, or a ForceNew change), played
 * by the executor: a blank host with the stack's key at the same address (as a new instance boots from its user
 * data), then the node's rejoin step, replaced, whose `create` rebuilds the blank host in a serving group before the
 * next instance could change; then the node's own steps (their triggers name the new instance) and the gates, which
 * change nothing more. Ends with the group healthy (the gates check that).
 */
export async function replaceAndRebuild(
  cluster: BoxCluster,
  plan: readonly PlanStep[],
  facts: ClusterFacts,
  state: StepState,
  settings: StackSettings,
  index: number,
): Promise<Rebuilt> {
  const change = await applyHostChange(cluster, plan, facts, state, settings, { replace: [index] });
  const ran = change.runs.map((r) => r.step.id);
  const rejoin = `n${index}-host-rejoin`;
  assert.deepEqual(
    [...ran].sort(),
    [...stepsOfReplacedHost(plan, index), rejoin].sort(),
    "the steps `pulumi up` runs",
  );
  const rebuilt = change.runs.find((r) => r.step.id === rejoin);
  assert.equal(rebuilt?.operation, "replace", "the rejoin step was replaced: its create ran");
  const configures = plan.filter((s) => s.node === index && s.action.endsWith("-configure")).map((s) => s.id);
  assert.ok(configures.length > 0);
  for (const id of configures) {
    assert.ok(rebuilt?.result.stdout.includes(`[${id}] changed: `), `the rejoin step's rebuild ran ${id}`);
  }
  return { ran, seconds: rebuilt?.result.seconds ?? 0 };
}

// A network of HA groups in the box: the box's hosts split into groups of `size` (BoxCluster.group), each
// provisioned with its own plan (lib/plan.ts per group, as components/group.ts builds it), and clients that count
// every message across the bridges between them.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { deployedSettingsRecord } from "../../../lib/dayTwo";
import { ClusterFacts } from "../../../lib/facts";
import { groupIndexes, settingsForGroup } from "../../../lib/groups";
import { buildPlan, PlanStep } from "../../../lib/plan";
import { RawSettings, StackSettings } from "../../../lib/settings";
import { StatusRow } from "../../../lib/status";
import { masterPort } from "../../../lib/tls";
import { failoverUrl, preferredScheme } from "../../../lib/urls";
import { sshRun, waitFor } from "./box";
import {
  boxFacts,
  boxGroupFacts,
  boxPki,
  boxSettings,
  brokersAccepting,
  drainQueue,
  faultClock,
  Figures,
  ProbeProcess,
  ProbeRun,
  probeRun,
  recordLines,
  reportCounts,
  REPO,
  stopProbe,
  theMaster,
  WORK,
} from "./cluster-box";
import { BoxCluster, StepState } from "./executor";
import { analyze } from "./failover-figures";

/** One HA group of the box: its hosts, and what the stack would provision it with. */
export interface BoxGroup {
  readonly index: number;
  readonly brokerName: string;
  readonly cluster: BoxCluster;
  readonly settings: StackSettings;
  readonly facts: ClusterFacts;
  readonly plan: PlanStep[];
  /** What the stack's state holds of the group's steps. */
  readonly state: StepState;
}

/**
 * The box's hosts as `count` HA groups of `size` nodes (hosts 1…size are group 1, and so on), with the stack's
 * settings for `groups: count`: one set of secrets and one CA for the stack, node certificates that the bridges
 * may present as clients, each group's facts naming the others as its peers.
 */
export function boxGroups(
  box: BoxCluster,
  raw: RawSettings,
  size: number,
  sharedStoreHost?: string,
): BoxGroup[] {
  const stack = boxSettings(box.info, { ...raw, nodeCount: String(size) });
  boxPki(box.info, { bridgeClient: true });
  const boxWide = boxFacts(box.info, sharedStoreHost);
  const views = groupIndexes(stack).map((g) => box.group(g, size));
  return groupIndexes(stack).map((g) => {
    const settings = settingsForGroup(stack, g);
    const peers = groupIndexes(stack)
      .filter((other) => other !== g)
      .map((other) => ({
        brokerName: settingsForGroup(stack, other).activemq.brokerName,
        addresses: (views[other - 1] as BoxCluster).info.hosts.map((h) => h.address),
      }));
    const cluster = views[g - 1] as BoxCluster;
    return {
      index: g,
      brokerName: settings.activemq.brokerName,
      cluster,
      settings,
      facts: boxGroupFacts(cluster, boxWide, peers),
      // A new stack, as `pulumi up` builds it the first time: nothing serves yet, every host configures at once.
      plan: buildPlan(settings, { firstDeployment: true }),
      state: new StepState(),
    };
  });
}

/** The group's failover URL, as the stack's output `groups[…].failoverUrl`. */
export function groupUrl(group: BoxGroup): string {
  return failoverUrl(
    group.settings,
    group.facts.nodes.map((n) => n.privateIp),
  );
}

/** The box's hosts in the group that accept clients right now. */
export function groupMasters(group: BoxGroup): Promise<number[]> {
  return brokersAccepting(group.cluster.info, masterPort(group.settings));
}

/** The box's host of the group's one master, once exactly one serves. */
export function groupMaster(group: BoxGroup, timeoutMs = 60_000): Promise<number> {
  return theMaster(group.cluster.info, masterPort(group.settings), timeoutMs, `group ${group.brokerName}`);
}

/** The peer addresses of the host's established TCP connections to `port` (outbound) and from it (inbound). */
export async function connectionsOn(
  group: BoxGroup,
  host: number,
  port: number,
): Promise<{ outbound: string[]; inbound: string[] }> {
  const address = group.cluster.address(group.cluster.nodeOf(host));
  const peers = async (filter: string) => {
    const r = await sshRun(
      group.cluster.info,
      address,
      `ss -Htn state established '( ${filter} = :${port} )'`,
    );
    // Columns: Recv-Q Send-Q Local:Port Peer:Port. Java's sockets are dual-stack: [::ffff:10.88.0.14]:61617.
    return r.stdout
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) =>
        (l.trim().split(/\s+/)[3] ?? "").replace(/:\d+$/, "").replace(/^\[(?:::ffff:)?(.*)\]$/, "$1"),
      );
  };
  return { outbound: await peers("dport"), inbound: await peers("sport") };
}

/** What the bridged clients saw: each acknowledged send matched with what the other group's consumer received. */
export interface BridgedCount {
  /** The direction, as the figures name it. */
  readonly label: string;
  /** The queue the clients used (on both groups: the bridge forwards it under its own name). */
  readonly queue: string;
  readonly lost: number[];
  readonly duplicated: number[];
  /** Per fault, the producer's pause: last acknowledgement before it to the first after. */
  readonly producerPauseMs: (number | null)[];
  /** Per fault, the consumer's pause: last message before it to the first after. */
  readonly deliveryPauseMs: (number | null)[];
}

/** Marks faults and waits for the flows to move again after the latest one. */
export interface BridgedProbe {
  fault(): void;
  /** Acknowledgements again for the producer on `group`. */
  resumed(group: BoxGroup, timeoutMs: number): Promise<boolean>;
  /** Messages again at every flow's consumer; false when one stays still for `timeoutMs`. */
  delivered(timeoutMs: number): Promise<boolean>;
  /** How many sends the producer on `group` had acknowledged so far. */
  acknowledged(group: BoxGroup): number;
}

/** Until the consumer has every acknowledged message or its count stands still for `idleMs`. */
async function settleDelivery(
  acks: string,
  received: string,
  idleMs: number,
  timeoutMs: number,
): Promise<void> {
  let last = -1;
  let since = Date.now();
  await waitFor(async () => {
    const got = recordLines(received).length;
    if (got >= recordLines(acks).length) {
      return true;
    }
    if (got !== last) {
      last = got;
      since = Date.now();
    }
    return Date.now() - since >= idleMs ? true : undefined;
  }, timeoutMs);
}

/** One direction of the mesh: a producer on `from`, a consumer on `to`, one queue of their own. */
interface Flow {
  readonly from: BoxGroup;
  readonly to: BoxGroup;
  readonly label: string;
  readonly run: ProbeRun;
  readonly acks: string;
  readonly received: string;
  readonly consumer: ProbeProcess;
  producer?: ProbeProcess;
}

function startFlow(from: BoxGroup, to: BoxGroup, classpath: string[], label: string): Flow {
  const run = probeRun(from.settings, from.facts, classpath, label, preferredScheme(from.settings));
  const stamp = `${from.index}-${to.index}-${Date.now()}`;
  const received = path.join(WORK, `bridged-received-${stamp}.log`);
  // The consumer first: its demand, carried to `from` by the advisories, is what makes the bridge forward.
  const consumer = run.start("receive", groupUrl(to), received);
  return { from, to, label, run, acks: path.join(WORK, `bridged-acks-${stamp}.log`), received, consumer };
}

/** Stops the flow's producer, lets its consumer take what is still in flight, drains both groups and counts. */
async function finishFlow(flow: Flow, faults: number[], figures: Figures): Promise<BridgedCount> {
  const { from, to, run, acks, received } = flow;
  if (flow.producer) {
    await stopProbe(flow.producer, acks);
  }
  await settleDelivery(acks, received, 15_000, 180_000);
  await stopProbe(flow.consumer, received);
  const live = recordLines(received);
  // What never reached the consumer: still on its own group, or still waiting on the producer's for a bridge.
  const leftOnTo = await drainQueue(run, groupUrl(to), `${received}.drain-to`);
  const leftOnFrom = await drainQueue(run, groupUrl(from), `${received}.drain-from`);
  const acked = recordLines(acks).map(([seq, at]) => ({ seq, at }));
  const counted = analyze(acked, [...live.map(([seq]) => seq), ...leftOnTo, ...leftOnFrom], faults);
  const delivery = analyze(
    live.map(([seq, at]) => ({ seq, at })),
    [],
    faults,
  );
  reportCounts(figures, `${flow.label} (producer on ${from.brokerName})`, acked, counted);
  delivery.rounds.forEach((r, i) =>
    figures.add(
      `${flow.label} fault ${i + 1}: the consumer on ${to.brokerName} paused ` +
        `${r.failoverMs === null ? "never" : `${(r.failoverMs / 1000).toFixed(2)} s`} (last message before the fault to first after)`,
    ),
  );
  figures.add(
    `${flow.label}: the consumer on ${to.brokerName} received ${live.length} across the bridge; left after the run: ` +
      `${leftOnTo.length} on ${to.brokerName}, ${leftOnFrom.length} on ${from.brokerName} (drained and counted)`,
  );
  return {
    label: flow.label,
    queue: run.queue,
    lost: counted.lost,
    duplicated: counted.duplicated,
    producerPauseMs: counted.rounds.map((r) => r.failoverMs),
    deliveryPauseMs: delivery.rounds.map((r) => r.failoverMs),
  };
}

/**
 * For each pair [from, to], a producer on group `from`'s failover URL and a consumer on group `to`'s, on a queue of
 * the pair's own: every message reaches its consumer only across the bridge. While `during` runs (marking each
 * fault it causes), all keep going; then each producer stops, its consumer takes what is still in flight, both
 * groups are drained (queue and DLQ), and every acknowledged send is matched with what was received. Prints the
 * figures under `label` and the pair's direction.
 */
export async function withBridgedClients(
  pairs: readonly (readonly [BoxGroup, BoxGroup])[],
  classpath: string[],
  figures: Figures,
  label: string,
  during: (probe: BridgedProbe) => Promise<void>,
): Promise<BridgedCount[]> {
  const clock = faultClock();
  const flows: Flow[] = [];
  try {
    for (const [from, to] of pairs) {
      flows.push(startFlow(from, to, classpath, `${label} ${from.brokerName}→${to.brokerName}`));
    }
    for (const flow of flows) {
      flow.producer = flow.run.start("send", groupUrl(flow.from), flow.acks);
    }
    for (const flow of flows) {
      const flowing = await waitFor(
        async () => (recordLines(flow.received).length >= 50 ? true : undefined),
        90_000,
        500,
      );
      if (!flowing) {
        throw new Error(
          `no message crossed from ${flow.from.brokerName} to ${flow.to.brokerName} within 90 s ` +
            `(${recordLines(flow.acks).length} acknowledged)\nproducer:\n${flow.producer?.log().slice(-1500)}\n` +
            `consumer:\n${flow.consumer.log().slice(-1500)}`,
        );
      }
    }
    const producerOn = (group: BoxGroup) => {
      const flow = flows.find((f) => f.from === group);
      if (flow === undefined) {
        throw new Error(`no producer on ${group.brokerName}`);
      }
      return flow;
    };
    await during({
      fault: clock.fault,
      resumed: (group, timeoutMs) => clock.growsAgain(producerOn(group).acks, timeoutMs),
      delivered: async (timeoutMs) =>
        (await Promise.all(flows.map((f) => clock.growsAgain(f.received, timeoutMs)))).every((ok) => ok),
      acknowledged: (group) => recordLines(producerOn(group).acks).length,
    });
  } catch (e) {
    // Stop what runs, then report the failure with what the clients and the brokers said.
    await Promise.all(
      flows.flatMap((f) => [
        ...(f.producer ? [stopProbe(f.producer, f.acks, 5000)] : []),
        stopProbe(f.consumer, f.received, 5000),
      ]),
    );
    for (const f of flows) {
      console.log(
        `# ${f.label}: ${recordLines(f.acks).length} acknowledged, ${recordLines(f.received).length} received\n` +
          `# producer:\n${f.producer?.log().slice(-3000) ?? ""}\n# consumer:\n${f.consumer.log().slice(-3000)}`,
      );
    }
    for (const g of new Set(flows.flatMap((f) => [f.from, f.to]))) {
      for (const h of g.cluster.info.hosts) {
        const r = await sshRun(
          g.cluster.info,
          h.address,
          "sudo journalctl -u activemq.service -o cat --no-pager -n 60 | grep -vE '^\\s+at ' || true",
        );
        console.log(`# ${g.brokerName} host ${h.index}'s broker log:\n${r.stdout}`);
      }
    }
    throw e;
  }
  const counts: BridgedCount[] = [];
  for (const flow of flows) {
    counts.push(await finishFlow(flow, clock.faults, figures));
  }
  return counts;
}

/**
 * The outputs the stack would give for the box's groups (the fields `npm run status` reads): each group's name,
 * failover URL and nodes with their host keys, the mode and ports of deployedSettings, the SSH login.
 */
export function boxStackOutputs(groups: readonly BoxGroup[]): Record<string, unknown> {
  const first = groups[0] as BoxGroup;
  const s = first.settings;
  return {
    haMode: s.haMode,
    deployedSettings: deployedSettingsRecord(s, { clusterName: "box" }),
    failoverUrl: groupUrl(first),
    groups: groups.map((g) => ({
      name: g.brokerName,
      failoverUrl: groupUrl(g),
      nodes: g.facts.nodes.map((n) => ({
        index: n.index,
        availabilityZone: `box-zone-${n.index}`,
        privateIp: n.privateIp,
        publicIp: n.privateIp,
        hostKey: g.cluster.hostKey(n.index),
      })),
    })),
    sshUser: first.cluster.info.sshUser,
    sshPrivateKey: readFileSync(first.cluster.info.sshKey, "utf8"),
  };
}

/** What `npm run status -- --json --private` printed for those outputs, and its exit status. */
export interface StatusRun {
  readonly code: number;
  /** The JSON form of lib/status.ts StatusRow. */
  readonly rows: StatusRow[];
  readonly problems: string[];
  readonly stderr: string;
}

export async function runStatus(groups: readonly BoxGroup[]): Promise<StatusRun> {
  const file = path.join(WORK, "status-outputs.json");
  writeFileSync(file, JSON.stringify(boxStackOutputs(groups)), { mode: 0o600 });
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(REPO, "scripts", "dev", "status.ts"), "--json", "--private"],
    { env: { ...process.env, ACTIVEMQ_HA_OUTPUTS: file }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((resolve) => child.once("close", (c) => resolve(c ?? -1)));
  const report = JSON.parse(stdout || '{"rows":[],"problems":[]}') as Pick<StatusRun, "rows" | "problems">;
  return { code, rows: report.rows, problems: report.problems, stderr };
}

/** The nodes `status` shows as master in a group. */
export function statusMasters(run: StatusRun, group: BoxGroup): number[] {
  return run.rows
    .filter((r) => r.group === group.brokerName && r.status.broker === "master")
    .map((r) => r.node);
}

/** What a host's monitor answered to GET `path` (lib/render/services.ts renderMonitorUnit); code 0 when nothing did. */
export async function monitorGet(
  group: BoxGroup,
  host: number,
  path: string,
): Promise<{ code: number; body: string }> {
  const address = group.cluster.address(group.cluster.nodeOf(host));
  try {
    const response = await fetch(`http://${address}:${group.settings.ports.monitor}${path}`, {
      signal: AbortSignal.timeout(10_000),
    });
    return { code: response.status, body: await response.text() };
  } catch {
    return { code: 0, body: "" };
  }
}

/** The samples of a Prometheus text answer: metric name (with labels) to value. */
export function samples(text: string): Map<string, number> {
  return new Map(
    text
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("#"))
      .map((l) => {
        const at = l.lastIndexOf(" ");
        return [l.slice(0, at), Number(l.slice(at + 1))] as [string, number];
      }),
  );
}

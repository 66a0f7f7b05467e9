// The operator's view (`npm run status`, scripts/dev/status.ts): what to ask each host, how to read its answer,
// and what makes a group unhealthy. The stack's outputs say where the hosts are and how the cluster is set up;
// each host answers scripts/host-status.sh over SSH. Pure.
import { ACTIVEMQ, SHARED_STORE, ZOOKEEPER } from "./layout";
import { PlanStep, StepInput } from "./plan";

/** What the status tool knows of a group from the stack's outputs. */
export interface StatusTarget {
  readonly name: string;
  readonly haMode: "replicated-leveldb" | "shared-kahadb";
  /** The port only the master listens on: the port of the group's failoverUrl. */
  readonly brokerPort: number;
  readonly replicationPort: number;
  /** Undefined when the stack deploys no ZooKeeper. */
  readonly zookeeperClientPort?: number;
  /** The host monitor's port (its /status gives heap and destinations); undefined for stacks deployed before it. */
  readonly monitorPort?: number;
  readonly nodes: readonly {
    readonly index: number;
    readonly availabilityZone: string;
    readonly privateIp: string;
    readonly publicIp: string;
    readonly hostKey: string;
  }[];
}

export type BrokerRole = "master" | "slave" | "starting" | "stopped" | "down";

/** One host's answer; `reachable` false when it gave none (SSH failed), and every role is then "down". */
export interface HostStatus {
  readonly reachable: boolean;
  readonly zookeeper: string;
  readonly broker: BrokerRole;
  readonly replicationLinks?: number;
  readonly storeDiskUsedPct?: number;
  readonly hostUptimeS?: number;
  readonly brokerUptimeS?: number;
  readonly activemqVersion: string;
  readonly zookeeperVersion: string;
  /** The broker JVM's heap in use and its largest, from the host monitor. */
  readonly heapUsedMb?: number;
  readonly heapMaxMb?: number;
  /** Messages on the dead-letter queues (ActiveMQ.DLQ, DLQ.*, ActiveMQ.DLQ.*): a master only. */
  readonly dlqDepth?: number;
  /** A master's deepest queues, deepest first (at most three, none empty). */
  readonly deepest?: readonly { readonly name: string; readonly size: number }[];
}

/** The question a host is asked: a read-only step run with the plan's own payload format (lib/payload.ts). */
export function hostStatusStep(target: StatusTarget, node: number): { step: PlanStep; input: StepInput } {
  const input: StepInput = {
    inputs: {
      HA_MODE: target.haMode,
      BROKER_PORT: String(target.brokerPort),
      REPLICATION_PORT: String(target.replicationPort),
      ZOOKEEPER_CLIENT_PORT:
        target.zookeeperClientPort === undefined ? "" : String(target.zookeeperClientPort),
      STORE_DIR: target.haMode === "shared-kahadb" ? SHARED_STORE.mountPoint : ACTIVEMQ.dataDir,
      ACTIVEMQ_LINK: ACTIVEMQ.link,
      ZOOKEEPER_LINK: ZOOKEEPER.link,
      MONITOR_PORT: target.monitorPort === undefined ? "" : String(target.monitorPort),
    },
    files: [],
  };
  const step: PlanStep = {
    id: `n${node}-status`,
    node,
    action: "status",
    script: "host-status.sh",
    description: "read-only: the host's service roles and resources, for npm run status",
    dependsOn: [],
    rerunWith: [],
    hostTriggers: [],
    waitsForBoot: false,
    timeoutMinutes: 1,
    input: () => input,
  };
  return { step, input };
}

const BROKER_ROLES: readonly string[] = ["master", "slave", "starting", "stopped"];

/** Reads host-status.sh's key=value lines; a host that did not answer is down. */
export function parseHostStatus(stdout: string | undefined): HostStatus {
  if (stdout === undefined) {
    return { reachable: false, zookeeper: "down", broker: "down", activemqVersion: "", zookeeperVersion: "" };
  }
  const fields = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) {
      fields.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
    }
  }
  const number = (key: string): number | undefined => {
    const text = fields.get(key) ?? "";
    return /^\d+$/.test(text) ? Number(text) : undefined;
  };
  const broker = fields.get("broker") ?? "";
  const optional = <K extends string>(key: K, value: number | undefined) =>
    value === undefined ? {} : ({ [key]: value } as Record<K, number>);
  return {
    reachable: true,
    zookeeper: fields.get("zookeeper") || "down",
    broker: BROKER_ROLES.includes(broker) ? (broker as BrokerRole) : "down",
    ...optional("replicationLinks", number("replication_links")),
    ...optional("storeDiskUsedPct", number("store_disk_used_pct")),
    ...optional("hostUptimeS", number("host_uptime_s")),
    ...optional("brokerUptimeS", number("broker_uptime_s")),
    activemqVersion: fields.get("activemq_version") ?? "",
    zookeeperVersion: fields.get("zookeeper_version") ?? "",
    ...optional("heapUsedMb", number("heap_used_mb")),
    ...optional("heapMaxMb", number("heap_max_mb")),
    ...optional("dlqDepth", number("dlq_depth")),
    ...(fields.has("deepest") ? { deepest: parseDeepest(fields.get("deepest") as string) } : {}),
  };
}

/** The monitor's `deepest=name:size,…` (a comma in a name comes as %2C). */
function parseDeepest(text: string): { name: string; size: number }[] {
  return text
    .split(",")
    .filter((entry) => /:\d+$/.test(entry))
    .map((entry) => {
      const at = entry.lastIndexOf(":");
      return { name: entry.slice(0, at).replace(/%2C/g, ","), size: Number(entry.slice(at + 1)) };
    });
}

/** Above this share of its disk, a host's store is a problem (KahaDB and LevelDB stop accepting well before full). */
export const DEFAULT_DISK_LIMIT_PCT = 85;

/**
 * What is wrong with a group, one sentence each: no master or more than one, a ZooKeeper ensemble without a
 * quorum, a store's disk above `diskLimitPct`. Empty when the group is healthy.
 */
export function groupProblems(
  target: StatusTarget,
  hosts: readonly HostStatus[],
  diskLimitPct = DEFAULT_DISK_LIMIT_PCT,
): string[] {
  const problems: string[] = [];
  const nodeOf = (i: number) => (target.nodes[i] as { index: number }).index;
  const masters = hosts.map((h, i) => (h.broker === "master" ? nodeOf(i) : 0)).filter((n) => n > 0);
  if (masters.length === 0) {
    problems.push(`group ${target.name}: no master (no broker accepts clients)`);
  } else if (masters.length > 1) {
    problems.push(
      `group ${target.name}: ${masters.length} masters (nodes ${masters.join(", ")}): split brain`,
    );
  }
  if (target.zookeeperClientPort !== undefined) {
    const members = hosts.filter((h) => ["leader", "follower"].includes(h.zookeeper)).length;
    const quorum = Math.floor(hosts.length / 2) + 1;
    if (members < quorum) {
      problems.push(
        `group ${target.name}: ZooKeeper has no quorum (${members} of ${hosts.length} serving, ${quorum} needed)`,
      );
    }
  }
  hosts.forEach((h, i) => {
    if (h.storeDiskUsedPct !== undefined && h.storeDiskUsedPct > diskLimitPct) {
      problems.push(
        `group ${target.name} node ${nodeOf(i)}: the store's disk is ${h.storeDiskUsedPct}% full (limit ${diskLimitPct}%)`,
      );
    }
  });
  return problems;
}

/** One row of the table: a host of a group with its answer. */
export interface StatusRow {
  readonly group: string;
  readonly node: number;
  readonly availabilityZone: string;
  readonly address: string;
  readonly status: HostStatus;
}

const duration = (s: number | undefined): string => {
  if (s === undefined) {
    return "-";
  }
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d${h}h` : h > 0 ? `${h}h${m}m` : `${m}m${s % 60}s`;
};

/** The table `npm run status` prints: one line per host, columns aligned. */
export function renderStatusTable(rows: readonly StatusRow[]): string {
  const header = [
    "GROUP",
    "NODE",
    "ZONE",
    "ADDRESS",
    "ZOOKEEPER",
    "BROKER",
    "REPLICATION",
    "DISK",
    "HEAP",
    "UP",
    "BROKER UP",
    "VERSIONS",
  ];
  const lines = rows.map((r) => {
    const s = r.status;
    return [
      r.group,
      String(r.node),
      r.availabilityZone,
      r.address,
      s.zookeeper,
      s.broker,
      s.replicationLinks === undefined
        ? "-"
        : `${s.replicationLinks} link${s.replicationLinks === 1 ? "" : "s"}`,
      s.storeDiskUsedPct === undefined ? "-" : `${s.storeDiskUsedPct}%`,
      s.heapUsedMb === undefined || s.heapMaxMb === undefined ? "-" : `${s.heapUsedMb}/${s.heapMaxMb}M`,
      duration(s.hostUptimeS),
      s.broker === "master" || s.broker === "slave" ? duration(s.brokerUptimeS) : "-",
      [
        s.activemqVersion && `activemq ${s.activemqVersion}`,
        s.zookeeperVersion && `zookeeper ${s.zookeeperVersion}`,
      ]
        .filter((v) => v)
        .join(", ") || "-",
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => (l[c] as string).length)));
  const table = [header, ...lines].map((cells) =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c] as number)))
      .join("  ")
      .trimEnd(),
  );
  return [...table, ...rows.flatMap(masterQueuesLine)].join("\n");
}

/** Under the table, for each master the monitor could read: its dead-letter depth and deepest queues. */
function masterQueuesLine(r: StatusRow): string[] {
  const s = r.status;
  if (s.broker !== "master" || s.dlqDepth === undefined) {
    return [];
  }
  const deepest = s.deepest ?? [];
  return [
    `${r.group} master (node ${r.node}): DLQ ${s.dlqDepth} message${s.dlqDepth === 1 ? "" : "s"}; ` +
      (deepest.length === 0
        ? "no queue holds messages"
        : `deepest queues: ${deepest.map((q) => `${q.name} ${q.size}`).join(", ")}`),
  ];
}

/** Why the stack's outputs cannot be read as a cluster: `npm run status` prints it as one line. */
export class NoDeployedStack extends Error {}

type Outputs = Record<string, unknown>;

function portOfFailoverUrl(url: unknown, group: string): number {
  const port =
    typeof url === "string" ? /^failover:\((?:ssl|tcp):\/\/[^:,)]+:(\d+)/.exec(url)?.[1] : undefined;
  if (port === undefined) {
    throw new NoDeployedStack(
      `group ${group}: its failoverUrl output is not a failover URL (${String(url)})`,
    );
  }
  return Number(port);
}

/**
 * The groups to ask, from `pulumi stack output --json --show-secrets`: each group's name, nodes and master port
 * (output `groups`, or a one-group stack's `nodes` and `failoverUrl`), with the mode and the ports of
 * `deployedSettings`. Throws NoDeployedStack when the outputs are not those of a deployed cluster.
 */
export function statusTargets(outputs: Outputs): StatusTarget[] {
  const deployed = outputs.deployedSettings as Outputs | undefined;
  const haMode = outputs.haMode;
  if (deployed === undefined || (haMode !== "replicated-leveldb" && haMode !== "shared-kahadb")) {
    throw new NoDeployedStack(
      "the stack has no cluster outputs (haMode, deployedSettings): run `npm run deploy` first",
    );
  }
  const groups = (outputs.groups as Outputs[] | undefined) ?? [
    { name: deployed.brokerName, failoverUrl: outputs.failoverUrl, nodes: outputs.nodes },
  ];
  return groups.map((g) => {
    const name = String(g.name);
    const nodes = g.nodes as StatusTarget["nodes"] | undefined;
    if (!Array.isArray(nodes) || nodes.length === 0) {
      throw new NoDeployedStack(`group ${name} lists no nodes: run \`npm run deploy\` first`);
    }
    const unverifiable = nodes.filter((n) => typeof n.hostKey !== "string" || n.hostKey === "");
    if (unverifiable.length > 0) {
      throw new NoDeployedStack(
        `group ${name}: the outputs carry no host key for node ${unverifiable.map((n) => n.index).join(", ")} ` +
          `(deployed by an older version): run \`npm run deploy\` once to add them; status logs in only to verified hosts`,
      );
    }
    return {
      name,
      haMode,
      brokerPort: portOfFailoverUrl(g.failoverUrl, name),
      replicationPort: Number(deployed.replicationPort),
      ...(deployed.zookeeperDeploy === true
        ? { zookeeperClientPort: Number(deployed.zookeeperClientPort) }
        : {}),
      ...(typeof deployed.monitorPort === "number" ? { monitorPort: deployed.monitorPort } : {}),
      nodes,
    };
  });
}

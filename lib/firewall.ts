// Which ports open to whom: the security-group rules as data, one rule a port and source. Pure, so the rule set is
// tested without Pulumi; components/security.ts turns each entry into one aws.vpc.SecurityGroupIngressRule.
import { Cidr } from "./net";
import { clientPorts, masterPort, TlsSettings } from "./tls";

export type RuleSource =
  /** Members of the group's own security group. */
  | { readonly kind: "cluster" }
  /** Members of any HA group of the stack: the security group every group's hosts also carry (groups > 1). */
  | { readonly kind: "groups" }
  /** The VPC's own address block (known once the VPC exists). */
  | { readonly kind: "vpc" }
  | { readonly kind: "cidr"; readonly cidr: Cidr }
  | { readonly kind: "securityGroup"; readonly id: string };

export interface IngressRule {
  /** Stable, unique resource-name suffix, e.g. "zk-client-from-cluster". */
  readonly name: string;
  readonly port: number;
  readonly source: RuleSource;
  readonly description: string;
}

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

function sourceName(source: RuleSource): string {
  switch (source.kind) {
    case "cluster":
      return "cluster";
    case "groups":
      return "groups";
    case "vpc":
      return "vpc";
    case "cidr":
      return slug(source.cidr.text);
    case "securityGroup":
      return source.id;
  }
}

function rule(key: string, port: number, source: RuleSource, description: string): IngressRule {
  return { name: `${key}-from-${sourceName(source)}`, port, source, description };
}

/** The port of every service a host runs. */
export interface Ports {
  /** OpenWire over plain TCP (clientTransport tcp or tls+tcp). */
  readonly openwire: number;
  /** OpenWire over TLS (clientTransport tls or tls+tcp). */
  readonly openwireTls: number;
  readonly replication: number;
  readonly zookeeperClient: number;
  readonly zookeeperPeer: number;
  readonly zookeeperElection: number;
  readonly console: number;
  /** The host monitor's HTTP port: health and metrics (scripts/host/HostMonitor.java). */
  readonly monitor: number;
  /** Debian's prometheus-node-exporter, where monitoringCidrs run one. */
  readonly nodeExporter: number;
}

/** The settings the rules follow (StackSettings has them; settings.ts checks rule names with this module). */
export interface FirewallSettings {
  readonly haMode: "replicated-leveldb" | "shared-kahadb";
  readonly groups: number;
  readonly ports: Ports;
  readonly zookeeper: { readonly deploy: boolean };
  readonly tls: TlsSettings;
  readonly clientCidrs?: readonly Cidr[];
  readonly clientSecurityGroupIds: readonly string[];
  readonly consoleCidrs: readonly Cidr[];
  readonly monitoringCidrs: readonly Cidr[];
}

/**
 * Every ingress rule of a group's security group (every group has the same). ZooKeeper and replication ports are
 * open to the group's members only; OpenWire to members (for the readiness gate), the client blocks and client
 * groups, and with several groups the master's port to the other groups (their bridges); SSH to the SSH blocks;
 * the web console only where consoleCidrs say; the host monitor to the members and, with the node exporter, to
 * monitoringCidrs. `sshCidrs` must be resolved by then.
 */
export function clusterIngressRules(settings: FirewallSettings, sshCidrs: readonly Cidr[]): IngressRule[] {
  const p = settings.ports;
  const cluster: RuleSource = { kind: "cluster" };
  const rules: IngressRule[] = [];
  if (settings.zookeeper.deploy) {
    rules.push(
      rule("zk-client", p.zookeeperClient, cluster, "ZooKeeper clients (the brokers) from cluster members"),
      rule(
        "zk-peer",
        p.zookeeperPeer,
        cluster,
        "ZooKeeper follower-to-leader traffic between cluster members",
      ),
      rule("zk-election", p.zookeeperElection, cluster, "ZooKeeper leader election between cluster members"),
    );
  }
  if (settings.haMode === "replicated-leveldb") {
    rules.push(
      rule("replication", p.replication, cluster, "replicated LevelDB: slaves replicate from the master"),
    );
  }
  const clientSources: RuleSource[] = settings.clientCidrs
    ? settings.clientCidrs.map((cidr) => ({ kind: "cidr", cidr }))
    : [{ kind: "vpc" }];
  // Each client port that is on (lib/tls.ts): the plain port's rules keep the names they had before TLS existed.
  for (const { scheme, port } of clientPorts(settings)) {
    const [key, what] = scheme === "ssl" ? ["openwire-tls", "OpenWire over TLS"] : ["openwire", "OpenWire"];
    rules.push(rule(key, port, cluster, `${what} between cluster members (readiness checks)`));
    for (const source of clientSources) {
      rules.push(rule(key, port, source, `${what} clients`));
    }
    for (const id of settings.clientSecurityGroupIds) {
      rules.push(rule(key, port, { kind: "securityGroup", id }, `${what} clients (security group)`));
    }
  }
  if (settings.groups > 1) {
    // The bridges between groups (lib/render/network.ts) dial the other groups' master on its client port, as
    // clients do; nothing else of a group (ZooKeeper, replication) is open to another group.
    const tls = clientPorts(settings)[0]?.scheme === "ssl";
    rules.push(
      rule(
        tls ? "openwire-tls" : "openwire",
        masterPort(settings),
        { kind: "groups" },
        `${tls ? "OpenWire over TLS" : "OpenWire"} network connectors from the other HA groups`,
      ),
    );
  }
  for (const cidr of sshCidrs) {
    rules.push(rule("ssh", 22, { kind: "cidr", cidr }, "SSH for provisioning and operators"));
  }
  for (const cidr of settings.consoleCidrs) {
    rules.push(rule("console", p.console, { kind: "cidr", cidr }, "ActiveMQ web console"));
  }
  // A host's /health/group asks its peers' monitors who is master (not their brokers' client port, which would log
  // each probe); the rest of the world only where monitoringCidrs say.
  rules.push(rule("monitor", p.monitor, cluster, "host monitor: the group's members ask who is master"));
  for (const cidr of settings.monitoringCidrs) {
    const source: RuleSource = { kind: "cidr", cidr };
    rules.push(
      rule("monitor", p.monitor, source, "host monitor: health checks and broker and ZooKeeper metrics"),
    );
    rules.push(rule("node-exporter", p.nodeExporter, source, "Prometheus node exporter: host metrics"));
  }
  return rules;
}

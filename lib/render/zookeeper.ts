// ZooKeeper's configuration files, rendered as exact text. Pure.
import { ZOOKEEPER } from "../layout";
import { inNodeOrder, NodeFacts } from "../facts";
import { StackSettings } from "../settings";

const HEADER = "# Rendered by the activemq-ha Pulumi program; pulumi up overwrites manual changes.\n";

/** The four-letter commands the health checks use (srvr for the mode, ruok for liveness, mntr for figures). */
export const FOUR_LETTER_COMMANDS = ["srvr", "ruok", "mntr"] as const;

/** How long leader election waits to open a connection to a peer, ms: peers are one network hop apart. */
export const ELECTION_CONNECT_TIMEOUT_MS = 1000;

export function renderZooCfg(settings: StackSettings, nodes: readonly NodeFacts[]): string {
  const z = settings.zookeeper;
  const p = settings.ports;
  const lines = [
    `tickTime=${z.tickTimeMs}`,
    `initLimit=${z.initLimitTicks}`,
    `syncLimit=${z.syncLimitTicks}`,
    `dataDir=${ZOOKEEPER.dataDir}`,
    `dataLogDir=${ZOOKEEPER.dataLogDir}`,
    `clientPort=${p.zookeeperClient}`,
    // The brokers ask for short sessions so a dead master is noticed fast; allow them explicitly.
    `minSessionTimeout=${2 * z.tickTimeMs}`,
    `maxClientCnxns=60`,
    // Without these, snapshots and transaction logs pile up on the root volume for as long as the host runs:
    // every 6 hours, all but the 5 newest snapshots (and the logs older than the oldest kept) are deleted.
    `autopurge.snapRetainCount=5`,
    `autopurge.purgeInterval=6`,
    `4lw.commands.whitelist=${FOUR_LETTER_COMMANDS.join(",")}`,
    // The AdminServer would listen on 8080 on every interface.
    `admin.enableServer=false`,
    // zookeeper.cnxTimeout (ZooKeeper sets unknown keys as zookeeper.* properties): leader election opens a
    // connection to every peer, and to a host that died without a word each open waits this long (default 5 s).
    `cnxTimeout=${ELECTION_CONNECT_TIMEOUT_MS}`,
    ...inNodeOrder(nodes).map(
      (n) => `server.${n.index}=${n.privateIp}:${p.zookeeperPeer}:${p.zookeeperElection}`,
    ),
  ];
  return HEADER + lines.join("\n") + "\n";
}

export function renderMyid(node: NodeFacts): string {
  return `${node.index}\n`;
}

// The network connectors that make several HA groups one ActiveMQ cluster (settings.groups > 1): every group's
// brokers bridge to every other group's master. Pure.
import { ClusterFacts, PeerGroup } from "../facts";
import { StackSettings } from "../settings";
import { masterPort } from "../tls";
import { deadPeerOptions, preferredScheme } from "../urls";
import { xmlEscape } from "./xml";

/**
 * How long a bridge waits for one broker of the other group to answer a connect: a powered-off host answers
 * nothing, and without a bound the transport waits 30 s before it tries the next broker of the list.
 */
export const BRIDGE_CONNECT_TIMEOUT_MS = 2000;
/** The pause between a bridge's attempts while the other group elects a master: flat, never backed off. */
export const BRIDGE_RECONNECT_DELAY_MS = 1000;

/**
 * The URI of a bridge to `peer`: static discovery of one failover URI over the peer's brokers, which one pass
 * (maxReconnectAttempts=0) reaches whichever is master, since only the master listens. When the bridge fails, the
 * discovery agent dials again after BRIDGE_RECONNECT_DELAY_MS, so it follows a new master (the form ActiveMQ's
 * masterslave: transport expands to, with the connect bound that one cannot carry).
 */
export function bridgeUri(settings: StackSettings, peer: PeerGroup): string {
  const scheme = preferredScheme(settings);
  const port = masterPort(settings);
  const brokers = peer.addresses.map((a) => `${scheme}://${a}:${port}`).join(",");
  const options = [
    "randomize=false",
    "maxReconnectAttempts=0",
    `nested.connectionTimeout=${BRIDGE_CONNECT_TIMEOUT_MS}`,
    ...deadPeerOptions(settings),
    // A bridge streams messages, so when the other master dies silently its socket's send buffer fills and the
    // write blocks, holding the failover transport's lock (FailoverTransport.oneway writes under reconnectMutex);
    // the inactivity monitor then cannot fail the connection and the bridge hangs until TCP gives up, about 15
    // minutes. The write timeout closes such a socket (WriteTimeoutFilter, checked every 5 s), and a linger of 0
    // lets a TLS socket close at once instead of waiting for the blocked writer's lock to send close_notify
    // (SSLSocketImpl.duplexCloseOutput), which would block the filter's one thread for every connection.
    `nested.soWriteTimeout=${settings.failover.maxInactivityMs}`,
    "nested.soLinger=0",
  ];
  const failover = `failover:(${brokers})?${options.join("&")}`;
  return `static:(${failover})?useExponentialBackOff=false&initialReconnectDelay=${BRIDGE_RECONNECT_DELAY_MS}`;
}

/**
 * Two one-way connectors to each other group: each group dials the others itself (no duplex), so a group that is
 * down or being rebuilt holds no bridge another group depends on, and every group's configuration has the same
 * shape. Both connectors:
 * - networkTTL 1: in a full mesh every group is one bridge away, so a message or a consumer's demand crosses at
 *   most one bridge and never comes back;
 * - decreaseNetworkConsumerPriority: a group's own consumers come before the bridge's, so messages stay local
 *   while local consumers keep up;
 * - log in as the operators' user (consoleUser), which may use every destination and the advisory topics the
 *   bridge follows to learn of the other group's consumers;
 * - no syncDurableSubs: it carries an advisory fixed only in 5.19.7, and the default (off) is what it protects.
 * Queues and topics differ in conduitSubscriptions: queue consumers on another group each count (off), so they
 * share the load with the local ones; a topic's subscribers on another group are one conduit (on), or each message
 * would cross once per subscriber and reach each of them several times.
 */
export function renderNetworkConnectors(settings: StackSettings, facts: ClusterFacts): string {
  const peers = facts.peers ?? [];
  if (peers.length === 0) {
    return "";
  }
  const self = settings.activemq.brokerName;
  const connector = (peer: PeerGroup, kind: "queue" | "topic") =>
    `      <networkConnector\n` +
    `        name="${xmlEscape(`${self}-to-${peer.brokerName}-${kind}s`)}"\n` +
    `        uri="${xmlEscape(bridgeUri(settings, peer))}"\n` +
    `        userName="\${activemq.adminUsername}"\n` +
    `        password="\${activemq.adminPassword}"\n` +
    `        duplex="false"\n` +
    `        networkTTL="1"\n` +
    `        decreaseNetworkConsumerPriority="true"\n` +
    `        conduitSubscriptions="${kind === "topic"}">\n` +
    `        <dynamicallyIncludedDestinations>\n` +
    `          <${kind} physicalName="&gt;"/>\n` +
    `        </dynamicallyIncludedDestinations>\n` +
    `      </networkConnector>\n`;
  return (
    `    <networkConnectors>\n` +
    peers.map((p) => connector(p, "queue") + connector(p, "topic")).join("") +
    `    </networkConnectors>\n`
  );
}

// The client connection strings the stack exports. Pure.
import { StackSettings } from "./settings";
import { clientPorts } from "./tls";

/**
 * `failover:(ssl://a:61617,…)?randomize=false&…` (tcp://…:61616 with clientTransport tcp): brokers in node order, so clients try them in a known order
 * (the transport moves a failed broker to the end of its list). The reconnect options keep failover fast: the
 * default back-off alone retries at about 2.6, 5.1 and 10.2 s after a failure (NOTES).
 */
export function failoverUrl(
  settings: StackSettings,
  addresses: readonly string[],
  scheme: "ssl" | "tcp" = preferredScheme(settings),
): string {
  if (addresses.length === 0) {
    throw new Error("failoverUrl needs at least one broker address");
  }
  const port = scheme === "ssl" ? settings.ports.openwireTls : settings.ports.openwire;
  const brokers = addresses.map((a) => `${scheme}://${a}:${port}`).join(",");
  const options = [
    "randomize=false",
    `initialReconnectDelay=${settings.failover.initialReconnectDelayMs}`,
    `maxReconnectDelay=${settings.failover.maxReconnectDelayMs}`,
    // Applied to every broker URI: a dead host's address answers nothing, and without a bound each connect
    // attempt to it would wait out the TCP transport's 30 s default before the next broker is tried.
    `nested.connectionTimeout=${settings.failover.connectionTimeoutMs}`,
    ...deadPeerOptions(settings),
  ];
  return `failover:(${brokers})?${options.join("&")}`;
}

/**
 * The options that bound how long a connection to a broker whose host died outright stays trusted. Such a host
 * sends no FIN or RST: a client in a synchronous send waits for a reply that never comes, and only OpenWire's
 * inactivity monitor ends the wait. It fails the connection when nothing arrived within one check period, so it
 * notices after one to two periods; both ends use the smaller of their two values, and each sends a keep-alive
 * every third of it while idle. With the transport's default, 30 s, the cluster-in-a-box measured producer pauses of
 * 61-71 s per silent power-off. The monitor's first check waits its initial delay (ActiveMQ spells the option
 * "Inital"), 10 s by default: a client whose broker died within 10 s of connecting paused 13.7-14.7 s where the
 * others paused 5-7 s, so it is bounded the same way.
 */
export function deadPeerOptions(settings: StackSettings): string[] {
  const bound = settings.failover.maxInactivityMs;
  return [
    `nested.wireFormat.maxInactivityDuration=${bound}`,
    `nested.wireFormat.maxInactivityDurationInitalDelay=${bound}`,
  ];
}

/** TLS whenever it is on: with tls+tcp the plain port is only for clients that have not moved yet. */
export function preferredScheme(settings: StackSettings): "ssl" | "tcp" {
  return (clientPorts(settings)[0] as { scheme: "ssl" | "tcp" }).scheme;
}

/** The ZooKeeper connect string (`a:2181,b:2181,c:2181`). */
export function zookeeperConnect(settings: StackSettings, addresses: readonly string[]): string {
  return addresses.map((a) => `${a}:${settings.ports.zookeeperClient}`).join(",");
}

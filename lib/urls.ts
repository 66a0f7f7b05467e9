// The client connection strings the stack exports. Pure.
import { StackSettings } from "./settings";

/**
 * `failover:(tcp://a:61616,…)?randomize=false&…`: brokers in node order, so clients try them in a known order
 * (the transport moves a failed broker to the end of its list). The reconnect options keep failover fast: the
 * default back-off alone retries at about 2.6, 5.1 and 10.2 s after a failure (NOTES).
 */
export function failoverUrl(settings: StackSettings, addresses: readonly string[]): string {
  if (addresses.length === 0) {
    throw new Error("failoverUrl needs at least one broker address");
  }
  const brokers = addresses.map((a) => `tcp://${a}:${settings.ports.openwire}`).join(",");
  const options = [
    "randomize=false",
    `initialReconnectDelay=${settings.failover.initialReconnectDelayMs}`,
    `maxReconnectDelay=${settings.failover.maxReconnectDelayMs}`,
    // Applied to every broker URI: a dead host's address answers nothing, and without a bound each connect
    // attempt to it would wait out the TCP transport's 30 s default before the next broker is tried.
    `nested.connectionTimeout=${settings.failover.connectionTimeoutMs}`,
  ];
  return `failover:(${brokers})?${options.join("&")}`;
}

/** The ZooKeeper connect string (`a:2181,b:2181,c:2181`). */
export function zookeeperConnect(settings: StackSettings, addresses: readonly string[]): string {
  return addresses.map((a) => `${a}:${settings.ports.zookeeperClient}`).join(",");
}

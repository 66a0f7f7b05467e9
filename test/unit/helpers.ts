// Shared fixtures for the unit tests (not a test file itself: the runner picks up *.test.ts only).
import { ClusterFacts, ClusterSecrets, NodeFacts, PeerGroup, TlsFacts } from "../../lib/facts";

/**
 * Secrets that cannot appear anywhere by accident: they contain characters outside the base64 alphabet, so a
 * base64 text can never contain them, and words no template uses.
 */
export const SECRETS: ClusterSecrets = {
  brokerPassword: "Broker-Pw-7f3a91-zebra",
  consolePassword: "Console-Pw-55e2-walrus",
  replicationToken: "Repl-Token-9c1d-narwhal",
};

/**
 * The address node `index` gets in the default VPC: round-robin over the three /18 subnets of 10.0.0.0/16,
 * host .10 for the first node of a subnet, .11 for the second, and so on.
 */
export function nodeAddress(index: number): string {
  const zone = (index - 1) % 3;
  const round = Math.floor((index - 1) / 3);
  return `10.0.${zone * 64}.${10 + round}`;
}

export function nodesFor(count: number): NodeFacts[] {
  return Array.from({ length: count }, (_, i) => ({ index: i + 1, privateIp: nodeAddress(i + 1) }));
}

/** Node n's TLS private key: a secret, told apart from every other text like SECRETS. */
export const tlsKey = (index: number) =>
  `-----BEGIN EC PRIVATE KEY-----\nTls-Key-${index}-okapi\n-----END EC PRIVATE KEY-----\n`;
export const TLS_KEYSTORE_PASSWORD = "Keystore-Pw-31b0-axolotl";

/** Stand-ins for the certificates (their text is never parsed on the way to the hosts). */
export function tlsFactsFor(count: number): TlsFacts {
  return {
    nodes: Array.from({ length: count }, (_, i) => ({
      index: i + 1,
      certificate: `-----BEGIN CERTIFICATE-----\nnode-${i + 1}\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n`,
      privateKey: tlsKey(i + 1),
    })),
    trustedCaCertificates: "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n",
    keystorePassword: TLS_KEYSTORE_PASSWORD,
  };
}

/**
 * The other groups as group `self` of `groups` sees them: group g's node n at 10.<g>.<zone × 64>.<10 + round>, named
 * as lib/groups.ts names them after the default brokerName.
 */
export function peersFor(groups: number, self = 1, count = 3): PeerGroup[] {
  return Array.from({ length: groups }, (_, i) => i + 1)
    .filter((g) => g !== self)
    .map((g) => ({
      brokerName: g === 1 ? "amq-ha" : `amq-ha-${g}`,
      addresses: nodesFor(count).map((n) => n.privateIp.replace(/^10\.0\./, `10.${g}.`)),
    }));
}

/** Facts as the stack gives them with TLS on (the default); settings with clientTransport tcp ignore `tls`. */
export function factsFor(count: number, extra: Partial<ClusterFacts> = {}): ClusterFacts {
  return { nodes: nodesFor(count), secrets: SECRETS, tls: tlsFactsFor(count), ...extra };
}

/** Attributes of the first `<name .../>` or `<name ...>` element in an XML text, by name. */
export function elementAttributes(xml: string, name: string): Record<string, string> {
  const match = new RegExp(`<${name}\\b([^>]*?)/?>`).exec(xml);
  if (!match) {
    throw new Error(`no <${name}> element`);
  }
  return attributesOf(match[1] as string);
}

export function attributesOf(text: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of text.matchAll(/([\w:.-]+)="([^"]*)"/g)) {
    attrs[m[1] as string] = m[2] as string;
  }
  return attrs;
}

export function countOf(text: string, needle: RegExp): number {
  return [
    ...text.matchAll(
      new RegExp(needle.source, needle.flags.includes("g") ? needle.flags : needle.flags + "g"),
    ),
  ].length;
}

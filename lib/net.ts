// Address arithmetic for the cluster network. Pure: no Pulumi, no I/O.
import * as ipaddr from "ipaddr.js";

export interface Cidr {
  readonly family: "ipv4" | "ipv6";
  /** Canonical text, e.g. "10.0.0.0/16". */
  readonly text: string;
  readonly prefix: number;
}

/**
 * Parses a CIDR block and insists that it names a network (no host bits set), because AWS either rejects
 * such a block or silently widens it, and a silently widened firewall rule is the worst of both.
 * Returns an error message instead of throwing so that config validation can report every problem at once.
 */
export function parseCidr(value: string): Cidr | string {
  const notCidr = `"${value}" is not a CIDR block (expected a form like 203.0.113.0/24 or 2001:db8::/32)`;
  const [addressText = "", prefixText = ""] = value.trim().split("/");
  // ipaddr also reads octal, hex and short IPv4 forms ("010.0.0.0" as 8.0.0.0): accept only plain dotted quads.
  if (
    !/^\d{1,3}$/.test(prefixText) ||
    (!addressText.includes(":") && !ipaddr.IPv4.isValidFourPartDecimal(addressText))
  ) {
    return notCidr;
  }
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(value.trim());
  } catch {
    return notCidr;
  }
  const [address, prefix] = parsed;
  const family = address.kind();
  const network =
    family === "ipv4"
      ? ipaddr.IPv4.networkAddressFromCIDR(value.trim())
      : ipaddr.IPv6.networkAddressFromCIDR(value.trim());
  if (network.toString() !== address.toString()) {
    return `"${value}" has host bits set (did you mean ${network.toString()}/${prefix}?)`;
  }
  return { family, text: `${address.toString()}/${prefix}`, prefix };
}

/** True when the block is the whole address space of its family, i.e. the Internet. */
export function isWholeInternet(cidr: Cidr): boolean {
  return cidr.prefix === 0;
}

/**
 * Splits an IPv4 VPC block into `count` equal subnets, two prefix bits smaller than the VPC
 * (a /16 gives /18s), leaving the fourth quarter free for whatever the user adds later.
 */
export function carveSubnets(vpcCidr: string, count: number): string[] {
  const [address, prefix] = ipaddr.IPv4.parseCIDR(vpcCidr);
  const subnetPrefix = prefix + 2;
  if (count > 4) {
    throw new Error(`cannot carve ${count} subnets from ${vpcCidr}: at most 4 fit at /${subnetPrefix}`);
  }
  const base = ipToNumber(address);
  const size = 2 ** (32 - subnetPrefix);
  return Array.from({ length: count }, (_, i) => `${numberToIp(base + i * size)}/${subnetPrefix}`);
}

/** Parses a dotted IPv4 address, or returns undefined. */
export function parseIpv4(value: string): string | undefined {
  const text = value.trim();
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return undefined;
  }
  return ipaddr.IPv4.parse(text).toString();
}

function ipToNumber(address: ipaddr.IPv4): number {
  return address.octets.reduce((n, octet) => n * 256 + octet, 0);
}

function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

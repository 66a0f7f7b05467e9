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

export type Family = Cidr["family"];

/** The addresses a block spans, as numbers: `first` and `last` both inside it. */
export interface AddressRange {
  readonly first: bigint;
  readonly last: bigint;
}

const FAMILY_BITS: Readonly<Record<Family, number>> = { ipv4: 32, ipv6: 128 };

/** How many addresses a family has: 2^32 or 2^128. */
export function familySize(family: Family): bigint {
  return 1n << BigInt(FAMILY_BITS[family]);
}

/** The first and last address of a block (as parsed by parseCidr: canonical text, no host bits). */
export function cidrRange(cidr: Cidr): AddressRange {
  const [addressText = ""] = cidr.text.split("/");
  const first = ipaddr
    .parse(addressText)
    .toByteArray()
    .reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
  return { first, last: first + (1n << BigInt(FAMILY_BITS[cidr.family] - cidr.prefix)) - 1n };
}

/** The union of ranges as the fewest ranges: sorted, and neither overlapping nor touching. */
export function mergeRanges(ranges: readonly AddressRange[]): AddressRange[] {
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const merged: AddressRange[] = [];
  for (const range of sorted) {
    const previous = merged[merged.length - 1];
    if (previous !== undefined && range.first <= previous.last + 1n) {
      merged[merged.length - 1] = {
        first: previous.first,
        last: range.last > previous.last ? range.last : previous.last,
      };
    } else {
      merged.push(range);
    }
  }
  return merged;
}

/** The union of the blocks of one family, merged. */
export function unionOf(blocks: readonly Cidr[], family: Family): AddressRange[] {
  return mergeRanges(blocks.filter((b) => b.family === family).map(cidrRange));
}

/** True when the blocks of `family` together span its whole address space, e.g. 0.0.0.0/1 + 128.0.0.0/1. */
export function coversWholeFamily(blocks: readonly Cidr[], family: Family): boolean {
  const [only, ...more] = unionOf(blocks, family);
  return (
    only !== undefined && more.length === 0 && only.first === 0n && only.last === familySize(family) - 1n
  );
}

/**
 * Address space that cannot be reached from the Internet, so a rule open to it is not open to the world:
 * the RFC 1918 blocks, and IPv6 unique-local (fc00::/7) and link-local (fe80::/10) addresses.
 */
export const PRIVATE_BLOCKS: readonly Cidr[] = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "fc00::/7",
  "fe80::/10",
].map((text) => parseCidr(text) as Cidr);

/**
 * How wide a set of blocks may open a port, as a prefix: together they may cover at most as many non-private
 * addresses as one block of this prefix. IPv4 /8 (2^24 addresses): the largest single block ever assigned to one
 * organisation (the legacy /8s); more spans unrelated networks, a fair part of the Internet. IPv6 /16 (2^112): the
 * registries themselves get /12s from IANA, so a /16 is a sixteenth of a registry's pool and more than nearly any
 * single network holds; 2000::/3, all of global unicast, is far past it. Private space (PRIVATE_BLOCKS) does not
 * count: 10.0.0.0/8 is one network, not the Internet.
 */
export const WIDEST_PUBLIC_PREFIX: Readonly<Record<Family, number>> = { ipv4: 8, ipv6: 16 };

/** How many addresses the blocks of `family` cover together, leaving out PRIVATE_BLOCKS. */
export function publicAddressCount(blocks: readonly Cidr[], family: Family): bigint {
  const union = unionOf(blocks, family);
  const privateRanges = unionOf(PRIVATE_BLOCKS, family);
  let count = 0n;
  for (const range of union) {
    count += range.last - range.first + 1n;
    for (const p of privateRanges) {
      const first = range.first > p.first ? range.first : p.first;
      const last = range.last < p.last ? range.last : p.last;
      count -= last >= first ? last - first + 1n : 0n;
    }
  }
  return count;
}

/** A family whose blocks open a port to the whole Internet, or to so much of it that it comes to the same. */
export interface WideExposure {
  readonly family: Family;
  readonly kind: "whole-internet" | "too-wide";
  /** The blocks responsible: those not inside another given block (for too-wide, only those with public space). */
  readonly blocks: readonly Cidr[];
}

/**
 * Which families the blocks, taken together, open too widely: their union is the whole address space, or it holds
 * more non-private addresses than one block of WIDEST_PUBLIC_PREFIX. Pure; the caller words the error.
 */
export function wideExposures(blocks: readonly Cidr[]): WideExposure[] {
  const found: WideExposure[] = [];
  for (const family of ["ipv4", "ipv6"] as const) {
    const outer = outermostBlocks(blocks.filter((b) => b.family === family));
    if (coversWholeFamily(blocks, family)) {
      found.push({ family, kind: "whole-internet", blocks: outer });
    } else if (
      publicAddressCount(blocks, family) >
      1n << BigInt(FAMILY_BITS[family] - WIDEST_PUBLIC_PREFIX[family])
    ) {
      found.push({
        family,
        kind: "too-wide",
        blocks: outer.filter((b) => publicAddressCount([b], family) > 0n),
      });
    }
  }
  return found;
}

/** The blocks that no other given block contains, in their given order (of two equal blocks, the first). */
export function outermostBlocks(blocks: readonly Cidr[]): Cidr[] {
  const ranges = blocks.map(cidrRange);
  const contains = (outer: AddressRange, inner: AddressRange) =>
    outer.first <= inner.first && inner.last <= outer.last;
  return blocks.filter((block, i) => {
    const range = ranges[i] as AddressRange;
    return !ranges.some(
      (other, j) =>
        j !== i &&
        blocks[j]?.family === block.family &&
        contains(other, range) &&
        (!contains(range, other) || j < i),
    );
  });
}

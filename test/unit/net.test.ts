import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  AddressRange,
  carveSubnets,
  Cidr,
  cidrRange,
  coversWholeFamily,
  mergeRanges,
  outermostBlocks,
  parseCidr,
  parseIpv4,
  publicAddressCount,
  wideExposures,
} from "../../lib/net";

/** Independent IPv4 arithmetic for the properties (deliberately not lib/net's own helpers). */
function toNumber(address: string): number {
  const octets = address.split(".").map(Number);
  assert.equal(octets.length, 4, address);
  return octets.reduce((n, o) => n * 256 + o, 0);
}

function toAddress(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function range(cidr: string): { first: number; size: number; prefix: number } {
  const [address, prefix] = cidr.split("/") as [string, string];
  const p = Number(prefix);
  return { first: toNumber(address), size: 2 ** (32 - p), prefix: p };
}

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  assert.equal(typeof parsed, "object", `${text}: ${String(parsed)}`);
  return parsed as Cidr;
}

const cidrs = (texts: readonly string[]) => texts.map(cidr);

/**
 * A random IPv4 block of prefix 0 to 8, and the /8s ("cells", by first octet) it spans: an independent model of
 * the union for the properties, 256 cells for all of IPv4.
 */
const coarseIpv4Block = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 8 }))
  .map(([cell, prefix]) => {
    const width = 2 ** (8 - prefix);
    const first = Math.floor(cell / width) * width;
    return { text: `${first}.0.0.0/${prefix}`, cells: Array.from({ length: width }, (_, i) => first + i) };
  });

/** Splits the whole space (bits wide) into random halves, quarters, …: blocks that together are exactly all of it. */
function partition(bits: number, text: (first: bigint, prefix: number) => string) {
  return fc.array(fc.nat(), { minLength: 1, maxLength: 12 }).map((choices) => {
    let blocks: { first: bigint; prefix: number }[] = [{ first: 0n, prefix: 0 }];
    for (const choice of choices) {
      const i = choice % blocks.length;
      const { first, prefix } = blocks[i] as { first: bigint; prefix: number };
      const halves = [
        { first, prefix: prefix + 1 },
        { first: first + (1n << BigInt(bits - prefix - 1)), prefix: prefix + 1 },
      ];
      blocks = [...blocks.slice(0, i), ...halves, ...blocks.slice(i + 1)];
    }
    return blocks.map((b) => text(b.first, b.prefix));
  });
}

const ipv4Partition = partition(32, (first, prefix) => `${toAddress(Number(first))}/${prefix}`);
const ipv6Partition = partition(128, (first, prefix) => {
  const groups = Array.from({ length: 8 }, (_, i) =>
    ((first >> BigInt(112 - 16 * i)) & 0xffffn).toString(16),
  );
  return `${groups.join(":")}/${prefix}`;
});

/** A random network-aligned IPv4 block with a prefix in [minPrefix, maxPrefix]. */
function ipv4Block(minPrefix: number, maxPrefix: number) {
  return fc
    .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: minPrefix, max: maxPrefix }))
    .map(([n, prefix]) => {
      const size = 2 ** (32 - prefix);
      return `${toAddress(Math.floor(n / size) * size)}/${prefix}`;
    });
}

void describe("lib/net", () => {
  void describe("parseCidr", () => {
    void it("parses IPv4 blocks", () => {
      assert.deepStrictEqual(parseCidr("10.0.0.0/16"), { family: "ipv4", text: "10.0.0.0/16", prefix: 16 });
      assert.deepStrictEqual(parseCidr("198.51.100.7/32"), {
        family: "ipv4",
        text: "198.51.100.7/32",
        prefix: 32,
      });
      assert.deepStrictEqual(parseCidr("0.0.0.0/0"), { family: "ipv4", text: "0.0.0.0/0", prefix: 0 });
    });

    void it("parses IPv6 blocks into their canonical (lower-case, compressed) text", () => {
      assert.deepStrictEqual(parseCidr("2001:DB8::/32"), {
        family: "ipv6",
        text: "2001:db8::/32",
        prefix: 32,
      });
      assert.deepStrictEqual(parseCidr("2001:0db8:0000:0000::/48"), {
        family: "ipv6",
        text: "2001:db8::/48",
        prefix: 48,
      });
      assert.deepStrictEqual(parseCidr("::/0"), { family: "ipv6", text: "::/0", prefix: 0 });
    });

    void it("ignores surrounding whitespace", () => {
      assert.deepStrictEqual(parseCidr("  192.168.0.0/24\n"), {
        family: "ipv4",
        text: "192.168.0.0/24",
        prefix: 24,
      });
    });

    void it("refuses host bits and names the network block", () => {
      assert.equal(parseCidr("10.0.0.1/16"), '"10.0.0.1/16" has host bits set (did you mean 10.0.0.0/16?)');
      assert.equal(
        parseCidr("192.168.1.129/25"),
        '"192.168.1.129/25" has host bits set (did you mean 192.168.1.128/25?)',
      );
      assert.equal(
        parseCidr("2001:db8::1/32"),
        '"2001:db8::1/32" has host bits set (did you mean 2001:db8::/32?)',
      );
    });

    for (const garbage of [
      "",
      "abc",
      "10.0.0.0",
      "10.0.0.0/33",
      "10.0.0.0/-1",
      "300.0.0.0/8",
      "10.0.0.0/16/2",
      "2001:db8::/129",
    ]) {
      void it(`refuses ${JSON.stringify(garbage)} as not a CIDR block`, () => {
        const result = parseCidr(garbage);
        assert.equal(typeof result, "string");
        assert.ok((result as string).includes(`"${garbage}" is not a CIDR block`), result as string);
      });
    }

    void it("round-trips any network-aligned IPv4 block (property)", () => {
      fc.assert(
        fc.property(ipv4Block(0, 32), (block) => {
          assert.deepStrictEqual(parseCidr(block), {
            family: "ipv4",
            text: block,
            prefix: Number(block.split("/")[1]),
          });
        }),
      );
    });

    for (const [given, reinterpretedAs] of [
      ["010.0.0.0/8", "8.0.0.0/8"],
      ["10.0.0.010/32", "10.0.0.8/32"],
      ["10.1/32", "10.0.0.1/32"],
      ["0x0a.0.0.0/8", "10.0.0.0/8"],
    ] as const) {
      void it(`refuses the non-dotted-decimal IPv4 form ${given} instead of reading it as ${reinterpretedAs}`, () => {
        const result = parseCidr(given);
        assert.equal(typeof result, "string", `accepted as ${JSON.stringify(result)}`);
      });
    }
  });

  void describe("cidrRange and mergeRanges", () => {
    void it("gives a block's first and last address", () => {
      assert.deepStrictEqual(cidrRange(cidr("10.0.0.0/8")), { first: 0x0a000000n, last: 0x0affffffn });
      assert.deepStrictEqual(cidrRange(cidr("198.51.100.7/32")), { first: 0xc6336407n, last: 0xc6336407n });
      assert.deepStrictEqual(cidrRange(cidr("::/0")), { first: 0n, last: (1n << 128n) - 1n });
      assert.deepStrictEqual(cidrRange(cidr("2001:db8::/32")), {
        first: 0x20010db8n << 96n,
        last: (0x20010db8n << 96n) + (1n << 96n) - 1n,
      });
    });

    void it("merges overlapping and touching ranges, and keeps apart ones apart", () => {
      const r = (first: number, last: number): AddressRange => ({ first: BigInt(first), last: BigInt(last) });
      assert.deepStrictEqual(mergeRanges([r(10, 20), r(0, 4), r(5, 7), r(15, 30), r(32, 40)]), [
        r(0, 7),
        r(10, 30),
        r(32, 40),
      ]);
      assert.deepStrictEqual(mergeRanges([r(0, 100), r(3, 4)]), [r(0, 100)]);
      assert.deepStrictEqual(mergeRanges([]), []);
    });

    void it("gives sorted, apart ranges holding exactly the addresses of its input (property)", () => {
      const range = fc
        .tuple(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 120 }))
        .map(([a, b]): AddressRange => ({ first: BigInt(Math.min(a, b)), last: BigInt(Math.max(a, b)) }));
      fc.assert(
        fc.property(fc.array(range, { maxLength: 8 }), (ranges) => {
          const merged = mergeRanges(ranges);
          for (const [i, m] of merged.entries()) {
            assert.ok(m.first <= m.last);
            const next = merged[i + 1];
            assert.ok(next === undefined || next.first > m.last + 1n, "overlapping or touching ranges");
          }
          for (let n = 0n; n <= 121n; n++) {
            const inInput = ranges.some((x) => x.first <= n && n <= x.last);
            const inMerged = merged.some((x) => x.first <= n && n <= x.last);
            assert.equal(inMerged, inInput, `address ${n}`);
          }
        }),
      );
    });
  });

  void describe("coversWholeFamily", () => {
    void it("sees the whole Internet in one block or in several", () => {
      assert.equal(coversWholeFamily(cidrs(["0.0.0.0/0"]), "ipv4"), true);
      assert.equal(coversWholeFamily(cidrs(["0.0.0.0/1", "128.0.0.0/1"]), "ipv4"), true);
      assert.equal(coversWholeFamily(cidrs(["128.0.0.0/1", "0.0.0.0/2", "64.0.0.0/2"]), "ipv4"), true);
      assert.equal(coversWholeFamily(cidrs(["::/1", "8000::/1"]), "ipv6"), true);
      assert.equal(coversWholeFamily(cidrs(["0.0.0.0/1", "128.0.0.0/2"]), "ipv4"), false);
      // One family's blocks never cover the other family.
      assert.equal(coversWholeFamily(cidrs(["0.0.0.0/0"]), "ipv6"), false);
      assert.equal(coversWholeFamily(cidrs(["::/0"]), "ipv4"), false);
      assert.equal(coversWholeFamily([], "ipv4"), false);
    });

    void it("agrees with a cell-by-cell model of IPv4 (property)", () => {
      fc.assert(
        fc.property(fc.array(coarseIpv4Block, { maxLength: 12 }), (blocks) => {
          const covered = new Set(blocks.flatMap((b) => b.cells));
          assert.equal(
            coversWholeFamily(
              blocks.map((b) => cidr(b.text)),
              "ipv4",
            ),
            covered.size === 256,
          );
        }),
      );
    });

    for (const [family, split] of [
      ["ipv4", ipv4Partition],
      ["ipv6", ipv6Partition],
    ] as const) {
      void it(`covers ${family} with any split of it, and not with one of its blocks left out (property)`, () => {
        fc.assert(
          fc.property(split, fc.nat(), (texts, drop) => {
            const blocks = cidrs(texts);
            assert.equal(coversWholeFamily(blocks, family), true);
            assert.equal(
              coversWholeFamily(
                blocks.filter((_, i) => i !== drop % blocks.length),
                family,
              ),
              false,
            );
          }),
        );
      });
    }
  });

  void describe("publicAddressCount and wideExposures", () => {
    void it("counts the union once, without the private blocks", () => {
      assert.equal(publicAddressCount(cidrs(["10.0.0.0/8"]), "ipv4"), 0n);
      assert.equal(publicAddressCount(cidrs(["10.0.0.0/7"]), "ipv4"), 1n << 24n);
      assert.equal(publicAddressCount(cidrs(["1.0.0.0/8", "1.0.0.0/9", "1.128.0.0/9"]), "ipv4"), 1n << 24n);
      assert.equal(
        publicAddressCount(cidrs(["0.0.0.0/0"]), "ipv4"),
        (1n << 32n) - (1n << 24n) - (1n << 20n) - (1n << 16n),
      );
      assert.equal(publicAddressCount(cidrs(["fc00::/7", "fe80::/10"]), "ipv6"), 0n);
      assert.equal(publicAddressCount(cidrs(["2000::/3"]), "ipv6"), 1n << 125n);
    });

    void it("agrees with a cell-by-cell model of public IPv4 (property)", () => {
      // Private addresses by /8 cell: all of 10, 2^20 of 172 (172.16.0.0/12), 2^16 of 192 (192.168.0.0/16).
      const privateIn = new Map([
        [10, 1 << 24],
        [172, 1 << 20],
        [192, 1 << 16],
      ]);
      fc.assert(
        fc.property(fc.array(coarseIpv4Block, { maxLength: 12 }), (blocks) => {
          const covered = new Set(blocks.flatMap((b) => b.cells));
          const expected = [...covered].reduce((n, c) => n + (1 << 24) - (privateIn.get(c) ?? 0), 0);
          assert.equal(
            publicAddressCount(
              blocks.map((b) => cidr(b.text)),
              "ipv4",
            ),
            BigInt(expected),
          );
        }),
      );
    });

    void it("reports the whole Internet, and unions wider than a /8 of public IPv4 or a /16 of public IPv6", () => {
      const texts = (blocks: readonly Cidr[]) => blocks.map((b) => b.text);
      const found = (given: string[]) =>
        wideExposures(cidrs(given)).map((e) => [e.family, e.kind, texts(e.blocks)] as const);
      assert.deepStrictEqual(found(["10.1.0.0/16", "0.0.0.0/1", "128.0.0.0/1"]), [
        ["ipv4", "whole-internet", ["0.0.0.0/1", "128.0.0.0/1"]],
      ]);
      assert.deepStrictEqual(found(["10.0.0.0/8", "1.0.0.0/8", "2.0.0.0/8", "2001:db8::/32"]), [
        ["ipv4", "too-wide", ["1.0.0.0/8", "2.0.0.0/8"]],
      ]);
      assert.deepStrictEqual(found(["2000::/3", "::/1", "8000::/1"]), [
        ["ipv6", "whole-internet", ["::/1", "8000::/1"]],
      ]);
      assert.deepStrictEqual(found(["2000::/3", "203.0.113.0/24"]), [["ipv6", "too-wide", ["2000::/3"]]]);
      // Exactly one /8 of public IPv4 and one /16 of public IPv6 are still allowed.
      assert.deepStrictEqual(
        found(["11.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16", "2001::/16", "fd00::/8"]),
        [],
      );
      assert.deepStrictEqual(found(["10.0.0.0/7"]), []);
      assert.deepStrictEqual(found(["2000::/15"]), [["ipv6", "too-wide", ["2000::/15"]]]);
    });

    void it("names the blocks no other given block contains", () => {
      const texts = (given: string[]) => outermostBlocks(cidrs(given)).map((b) => b.text);
      assert.deepStrictEqual(texts(["10.1.0.0/16", "0.0.0.0/0", "10.0.0.0/8", "::/0", "2001:db8::/32"]), [
        "0.0.0.0/0",
        "::/0",
      ]);
      // ::a00:0/104 spans the same numbers as 10.0.0.0/8, but in the other family.
      assert.deepStrictEqual(texts(["10.0.0.0/8", "::a00:0/104"]), ["10.0.0.0/8", "::a00:0/104"]);
      assert.deepStrictEqual(texts(["1.0.0.0/8", "2.0.0.0/8"]), ["1.0.0.0/8", "2.0.0.0/8"]);
    });
  });

  void describe("carveSubnets", () => {
    void it("splits a /16 into /18s", () => {
      assert.deepStrictEqual(carveSubnets("10.0.0.0/16", 3), [
        "10.0.0.0/18",
        "10.0.64.0/18",
        "10.0.128.0/18",
      ]);
    });

    void it("splits a /24 into /26s", () => {
      assert.deepStrictEqual(carveSubnets("192.168.7.0/24", 3), [
        "192.168.7.0/26",
        "192.168.7.64/26",
        "192.168.7.128/26",
      ]);
    });

    void it("gives at most four subnets", () => {
      assert.equal(carveSubnets("10.0.0.0/16", 4)[3], "10.0.192.0/18");
      assert.throws(() => carveSubnets("10.0.0.0/16", 5), /cannot carve 5 subnets from 10\.0\.0\.0\/16/);
    });

    void it("gives disjoint, equal, aligned subnets inside the VPC (property)", () => {
      fc.assert(
        fc.property(ipv4Block(16, 24), fc.integer({ min: 1, max: 4 }), (vpc, count) => {
          const subnets = carveSubnets(vpc, count);
          const outer = range(vpc);
          assert.equal(subnets.length, count);
          const ranges = subnets.map(range);
          for (const [i, r] of ranges.entries()) {
            assert.equal(r.prefix, outer.prefix + 2, "two bits smaller than the VPC");
            assert.equal(
              typeof parseCidr(subnets[i] as string),
              "object",
              `${subnets[i]} is not a network block`,
            );
            assert.ok(
              r.first >= outer.first && r.first + r.size <= outer.first + outer.size,
              `${subnets[i]} outside ${vpc}`,
            );
            for (const other of ranges.slice(i + 1)) {
              assert.ok(r.first + r.size <= other.first || other.first + other.size <= r.first, "overlap");
            }
          }
        }),
      );
    });
  });

  void describe("parseIpv4", () => {
    void it("accepts dotted decimal and trims it", () => {
      assert.equal(parseIpv4("10.0.0.1"), "10.0.0.1");
      assert.equal(parseIpv4(" 198.51.100.7\n"), "198.51.100.7");
    });

    for (const bad of [
      "",
      "1.2.3",
      "256.1.1.1",
      "1.2.3.4.5",
      "010.1.1.1",
      "0x10.1.1.1",
      "::1",
      "example.com",
      "1.2.3.4/32",
    ]) {
      void it(`refuses ${JSON.stringify(bad)}`, () => {
        assert.equal(parseIpv4(bad), undefined);
      });
    }

    void it("round-trips any dotted-decimal address (property)", () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
          assert.equal(parseIpv4(toAddress(n)), toAddress(n));
        }),
      );
    });
  });
});

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { carveSubnets, parseCidr, parseIpv4 } from "../../lib/net";

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

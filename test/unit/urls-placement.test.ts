import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkZoneCount,
  checkZonesOffer,
  elasticIpWarning,
  spreadAcrossZones,
  zonesOffering,
  ZONES_USED,
} from "../../lib/placement";
import { parseSettings } from "../../lib/settings";
import { failoverUrl, zookeeperConnect } from "../../lib/urls";

const ADDRESSES = ["10.0.0.10", "10.0.64.10", "10.0.128.10"];

void describe("lib/urls", () => {
  void it("failoverUrl lists the brokers in order with fast reconnect options, over TLS by default", () => {
    assert.equal(
      failoverUrl(parseSettings({}), ADDRESSES),
      "failover:(ssl://10.0.0.10:61617,ssl://10.0.64.10:61617,ssl://10.0.128.10:61617)" +
        "?randomize=false&initialReconnectDelay=10&maxReconnectDelay=100&nested.connectionTimeout=1000&nested.wireFormat.maxInactivityDuration=2000&nested.wireFormat.maxInactivityDurationInitalDelay=2000",
    );
  });

  void it("failoverUrl uses TLS whenever it is on, and plain TCP when asked for or when it is all there is", () => {
    const both = parseSettings({ clientTransport: "tls+tcp", openwireTlsPort: "41617" });
    assert.equal(
      failoverUrl(both, ["192.0.2.1"]),
      "failover:(ssl://192.0.2.1:41617)?randomize=false&initialReconnectDelay=10&maxReconnectDelay=100&nested.connectionTimeout=1000&nested.wireFormat.maxInactivityDuration=2000&nested.wireFormat.maxInactivityDurationInitalDelay=2000",
    );
    assert.equal(
      failoverUrl(both, ["192.0.2.1"], "tcp"),
      "failover:(tcp://192.0.2.1:61616)?randomize=false&initialReconnectDelay=10&maxReconnectDelay=100&nested.connectionTimeout=1000&nested.wireFormat.maxInactivityDuration=2000&nested.wireFormat.maxInactivityDurationInitalDelay=2000",
    );
    assert.match(
      failoverUrl(parseSettings({ clientTransport: "tcp" }), ["192.0.2.1"]),
      /^failover:\(tcp:\/\/192\.0\.2\.1:61616\)/,
    );
  });

  void it("failoverUrl follows the OpenWire port, reconnect and inactivity settings", () => {
    const s = parseSettings({
      clientTransport: "tcp",
      openwirePort: "51515",
      failoverInitialReconnectDelayMs: "25",
      failoverMaxReconnectDelayMs: "2000",
      failoverConnectionTimeoutMs: "750",
      failoverMaxInactivityMs: "4500",
    });
    assert.equal(
      failoverUrl(s, ["192.0.2.1", "192.0.2.2"]),
      "failover:(tcp://192.0.2.1:51515,tcp://192.0.2.2:51515)?randomize=false&initialReconnectDelay=25&maxReconnectDelay=2000&nested.connectionTimeout=750&nested.wireFormat.maxInactivityDuration=4500&nested.wireFormat.maxInactivityDurationInitalDelay=4500",
    );
  });

  void it("failoverUrl refuses an empty broker list", () => {
    assert.throws(() => failoverUrl(parseSettings({}), []), /at least one broker address/);
  });

  void it("zookeeperConnect joins host:clientPort in the order given", () => {
    assert.equal(
      zookeeperConnect(parseSettings({}), ADDRESSES),
      "10.0.0.10:2181,10.0.64.10:2181,10.0.128.10:2181",
    );
    assert.equal(
      zookeeperConnect(parseSettings({ zookeeperClientPort: "12181" }), ["a.example", "b.example"]),
      "a.example:12181,b.example:12181",
    );
  });
});

void describe("lib/placement", () => {
  const ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

  void it("puts three nodes in three distinct zones, in zone order", () => {
    const placed = spreadAcrossZones(3, ZONES);
    assert.deepStrictEqual(placed, ZONES);
    assert.equal(new Set(placed).size, 3);
  });

  void it("puts five nodes round-robin over three zones", () => {
    assert.deepStrictEqual(spreadAcrossZones(5, ZONES), [
      "eu-west-1a",
      "eu-west-1b",
      "eu-west-1c",
      "eu-west-1a",
      "eu-west-1b",
    ]);
  });

  void it("refuses to place nodes without zones", () => {
    assert.throws(() => spreadAcrossZones(3, []), /no availability zones/);
  });

  void it("never lets one zone hold a majority, so losing any zone keeps a quorum (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(3, 5, 7),
        fc.uniqueArray(fc.stringMatching(/^[a-z]{2}-[a-z]+-\d[a-f]$/), {
          minLength: ZONES_USED,
          maxLength: ZONES_USED,
        }),
        (n, zones) => {
          const placed = spreadAcrossZones(n, zones);
          assert.equal(placed.length, n);
          const quorum = Math.floor(n / 2) + 1;
          for (const zone of zones) {
            const inZone = placed.filter((z) => z === zone).length;
            assert.ok(inZone < quorum, `${inZone} of ${n} nodes in ${zone}`);
            assert.ok(n - inZone >= quorum, `losing ${zone} leaves ${n - inZone} of ${n}`);
          }
          // Round-robin: the counts differ by at most one.
          const counts = zones.map((zone) => placed.filter((z) => z === zone).length);
          assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, String(counts));
        },
      ),
    );
  });

  void it("checkZoneCount refuses fewer than three zones, naming the region and its zones", () => {
    assert.throws(
      () => checkZoneCount(["xx-test-1a", "xx-test-1b"], "xx-test-1"),
      (e: Error) => {
        assert.ok(e.message.includes("region xx-test-1"), e.message);
        assert.ok(e.message.includes("2 availability zone(s) (xx-test-1a, xx-test-1b)"), e.message);
        assert.ok(e.message.includes(`needs ${ZONES_USED}`), e.message);
        return true;
      },
    );
    assert.throws(() => checkZoneCount([], "xx-empty-1"), /region xx-empty-1 offers 0 availability zone/);
  });

  void it("checkZoneCount accepts three or more zones", () => {
    assert.doesNotThrow(() => checkZoneCount(ZONES, "eu-west-1"));
    assert.doesNotThrow(() => checkZoneCount([...ZONES, "eu-west-1d"], "eu-west-1"));
  });

  void it("zonesOffering takes the region's first three zones that offer the type, in the region's order", () => {
    const region = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e"];
    const offering = ["us-east-1e", "us-east-1d", "us-east-1a", "us-east-1c"];
    assert.deepStrictEqual(zonesOffering(region, offering, "t3.medium", "us-east-1"), [
      "us-east-1a",
      "us-east-1c",
      "us-east-1d",
    ]);
  });

  void it("zonesOffering refuses, naming the type, the region and the zones that offer it, when fewer than three do", () => {
    assert.throws(
      () => zonesOffering(ZONES, ["eu-west-1a", "eu-west-1c"], "m7a.large", "eu-west-1"),
      (e: Error) =>
        e.message.startsWith(
          "instanceType: m7a.large is offered in 2 of region eu-west-1's availability zones",
        ) &&
        e.message.includes("(eu-west-1a, eu-west-1c;") &&
        e.message.includes("Choose another instanceType or aws:region"),
    );
  });

  void it("checkZonesOffer refuses a type that a zone of the cluster lacks, and passes one every zone offers", () => {
    assert.doesNotThrow(() => checkZonesOffer(ZONES, [...ZONES, "eu-west-1d"], "t3.large", "eu-west-1"));
    assert.throws(
      () => checkZonesOffer(ZONES, ["eu-west-1a", "eu-west-1b", "eu-west-1d"], "t3.large", "eu-west-1"),
      /^Error: instanceType: t3\.large is not offered in availability zone\(s\) eu-west-1c of region eu-west-1, where the cluster's subnets are .*nothing was changed/,
    );
  });

  void it("warns of the Elastic IP quota only when the stack outgrows the default and this update adds addresses", () => {
    assert.equal(elasticIpWarning(5, 5), undefined, "one group of 5 fits the default quota");
    assert.equal(elasticIpWarning(6, 0), undefined, "nothing added: the addresses exist");
    const warning = elasticIpWarning(6, 3) ?? "";
    assert.ok(
      warning.startsWith("this stack holds 6 Elastic IP addresses (one per host; this update adds 3)"),
      warning,
    );
    assert.ok(warning.includes("L-0263D0A3") && warning.includes("AddressLimitExceeded"), warning);
  });
});

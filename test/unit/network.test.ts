// The network connectors between HA groups (lib/render/network.ts) and the groups' names (lib/groups.ts). Pure:
// exact attributes here; test/unit/xsd.test.ts validates the same renders against the broker schemas.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { groupBrokerName, groupResourceName, settingsForGroup } from "../../lib/groups";
import { renderBrokerElement } from "../../lib/render/activemq";
import { bridgeUri, renderNetworkConnectors } from "../../lib/render/network";
import { parseSettings, RawSettings, SettingsError, StackSettings } from "../../lib/settings";
import { attributesOf, factsFor, peersFor } from "./helpers";

function settingsOf(raw: RawSettings): StackSettings {
  return parseSettings({ activemqSha512: "a".repeat(128), zookeeperSha512: "b".repeat(128), ...raw });
}

/** Every `<networkConnector …>` of a render: its attributes and the destinations it includes. */
function connectors(xml: string): { attrs: Record<string, string>; included: string }[] {
  return [...xml.matchAll(/<networkConnector\n([^>]*)>([\s\S]*?)<\/networkConnector>/g)].map((m) => ({
    attrs: attributesOf(m[1] as string),
    included: (/<dynamicallyIncludedDestinations>\s*(<[^>]*>)/.exec(m[2] as string)?.[1] ?? "").trim(),
  }));
}

void describe("lib/render/network: the bridges of a full mesh", () => {
  void it("one group: no connector at all, and the broker element is the one-group render", () => {
    const s = settingsOf({});
    const facts = factsFor(3);
    assert.equal(renderNetworkConnectors(s, facts), "");
    assert.equal(renderNetworkConnectors(s, { ...facts, peers: [] }), "");
    assert.ok(!renderBrokerElement(s, facts, facts.nodes[0]!).includes("networkConnector"));
  });

  void it("2 groups over TLS: two one-way connectors to the other group's brokers, exact attributes", () => {
    const stack = settingsOf({ groups: "2" });
    const found = connectors(
      renderNetworkConnectors(settingsForGroup(stack, 2), factsFor(3, { peers: peersFor(2, 2) })),
    );
    const uri =
      "static:(failover:(ssl://10.1.0.10:61617,ssl://10.1.64.10:61617,ssl://10.1.128.10:61617)" +
      "?randomize=false&maxReconnectAttempts=0&nested.connectionTimeout=2000&nested.wireFormat.maxInactivityDuration=2000&nested.wireFormat.maxInactivityDurationInitalDelay=2000&nested.soWriteTimeout=2000&nested.soLinger=0)" +
      "?useExponentialBackOff=false&initialReconnectDelay=1000";
    const common = {
      uri: uri.replace(/&/g, "&amp;"),
      userName: "${activemq.adminUsername}",
      password: "${activemq.adminPassword}",
      duplex: "false",
      networkTTL: "1",
      decreaseNetworkConsumerPriority: "true",
    };
    assert.deepEqual(found, [
      {
        attrs: { name: "amq-ha-2-to-amq-ha-queues", ...common, conduitSubscriptions: "false" },
        included: '<queue physicalName="&gt;"/>',
      },
      {
        attrs: { name: "amq-ha-2-to-amq-ha-topics", ...common, conduitSubscriptions: "true" },
        included: '<topic physicalName="&gt;"/>',
      },
    ]);
  });

  void it("plain TCP: the bridges dial the plain port", () => {
    const s = settingsOf({ groups: "2", clientTransport: "tcp", openwirePort: "61000" });
    assert.equal(
      bridgeUri(s, { brokerName: "x", addresses: ["10.0.0.1", "10.0.0.2", "10.0.0.3"] }),
      "static:(failover:(tcp://10.0.0.1:61000,tcp://10.0.0.2:61000,tcp://10.0.0.3:61000)" +
        "?randomize=false&maxReconnectAttempts=0&nested.connectionTimeout=2000&nested.wireFormat.maxInactivityDuration=2000&nested.wireFormat.maxInactivityDurationInitalDelay=2000&nested.soWriteTimeout=2000&nested.soLinger=0)" +
        "?useExponentialBackOff=false&initialReconnectDelay=1000",
    );
  });

  void it("any number of groups: each broker bridges to every other group once per kind, under unique names", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }), (groups) => {
        const stack = settingsOf({ groups: String(groups) });
        const names = new Set<string>();
        for (let g = 1; g <= groups; g++) {
          const found = connectors(
            renderNetworkConnectors(settingsForGroup(stack, g), factsFor(3, { peers: peersFor(groups, g) })),
          );
          assert.equal(found.length, 2 * (groups - 1));
          for (const c of found) {
            assert.ok(!names.has(c.attrs.name!), `${c.attrs.name} twice`);
            names.add(c.attrs.name!);
            // No bridge of a group leads back to itself.
            assert.ok(!c.attrs.uri!.includes(`10.${g}.`), c.attrs.uri);
          }
        }
        assert.equal(names.size, 2 * groups * (groups - 1));
      }),
    );
  });
});

void describe("lib/groups: names", () => {
  void it("group 1 keeps the stack's names; the others get a suffix", () => {
    const s = settingsOf({ brokerName: "orders", groups: "3" });
    assert.deepEqual(
      [1, 2, 3].map((g) => groupBrokerName(s, g)),
      ["orders", "orders-2", "orders-3"],
    );
    assert.deepEqual(
      [1, 2, 3].map((g) => groupResourceName("prod", g)),
      ["prod", "prod-g2", "prod-g3"],
    );
    assert.equal(settingsForGroup(s, 3).activemq.brokerName, "orders-3");
    assert.deepEqual(settingsForGroup(s, 1), s);
  });

  void it("groups: 1 to 5, and a brokerName that leaves room for the suffix", () => {
    for (const bad of ["0", "6", "2.5", "two"]) {
      assert.throws(
        () => settingsOf({ groups: bad }),
        (e: unknown) => e instanceof SettingsError && e.message.includes(`groups: got "${bad}"`),
        bad,
      );
    }
    const long = "b".repeat(64);
    assert.equal(settingsOf({ brokerName: long }).activemq.brokerName, long);
    assert.throws(
      () => settingsOf({ brokerName: long, groups: "2" }),
      (e: unknown) =>
        e instanceof SettingsError &&
        /brokerName: got "b{64}"; allowed: at most 62 characters/.test(e.message),
    );
  });
});

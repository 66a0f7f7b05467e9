import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { clusterIngressRules, IngressRule } from "../../lib/firewall";
import { Cidr, parseCidr } from "../../lib/net";
import { parseSettings, SettingsError, RawSettings } from "../../lib/settings";

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  assert.equal(typeof parsed, "object", `${text}: ${String(parsed)}`);
  return parsed as Cidr;
}

const SSH = [cidr("198.51.100.7/32")];

/** name, port and where from, sorted by name: the order of rules carries no meaning. */
function summary(rules: readonly IngressRule[]): [string, number, string][] {
  return rules
    .map((r): [string, number, string] => {
      const s = r.source;
      const from =
        s.kind === "cidr" ? `cidr ${s.cidr.text}` : s.kind === "securityGroup" ? `sg ${s.id}` : s.kind;
      return [r.name, r.port, from];
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function rulesFor(raw: RawSettings, ssh: readonly Cidr[] = SSH): IngressRule[] {
  return clusterIngressRules(parseSettings(raw), ssh);
}

/** A random network-aligned IPv4 block, /10 to /32: up to four of them stay within the /8 of public addresses settings allow. */
const ipv4Block = fc
  .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 10, max: 32 }))
  .map(([n, prefix]) => {
    const size = 2 ** (32 - prefix);
    const first = Math.floor(n / size) * size;
    return `${[first >>> 24, (first >>> 16) & 255, (first >>> 8) & 255, first & 255].join(".")}/${prefix}`;
  });

void describe("lib/firewall clusterIngressRules", () => {
  void it("gives exactly these rules for the defaults: OpenWire over TLS only", () => {
    assert.deepStrictEqual(summary(rulesFor({})), [
      ["monitor-from-cluster", 9404, "cluster"],
      ["openwire-tls-from-cluster", 61617, "cluster"],
      ["openwire-tls-from-vpc", 61617, "vpc"],
      ["replication-from-cluster", 61619, "cluster"],
      ["ssh-from-198-51-100-7-32", 22, "cidr 198.51.100.7/32"],
      ["zk-client-from-cluster", 2181, "cluster"],
      ["zk-election-from-cluster", 3888, "cluster"],
      ["zk-peer-from-cluster", 2888, "cluster"],
    ]);
  });

  void it("follows the configured ports", () => {
    const rules = rulesFor({
      openwireTlsPort: "41617",
      replicationPort: "41619",
      zookeeperClientPort: "12181",
      zookeeperPeerPort: "12888",
      zookeeperElectionPort: "13888",
      monitorPort: "19404",
    });
    assert.deepStrictEqual(
      summary(rules).map(([name, port]) => [name, port]),
      [
        ["monitor-from-cluster", 19404],
        ["openwire-tls-from-cluster", 41617],
        ["openwire-tls-from-vpc", 41617],
        ["replication-from-cluster", 41619],
        ["ssh-from-198-51-100-7-32", 22],
        ["zk-client-from-cluster", 12181],
        ["zk-election-from-cluster", 13888],
        ["zk-peer-from-cluster", 12888],
      ],
    );
  });

  void it("opens the monitor and the node exporter to monitoringCidrs only, and the monitor to the members", () => {
    const rules = rulesFor({ monitoringCidrs: "10.20.0.0/16,192.0.2.10/32", nodeExporterPort: "9101" });
    assert.deepStrictEqual(
      summary(rules).filter(([name]) => /^(monitor|node-exporter)-/.test(name)),
      [
        ["monitor-from-10-20-0-0-16", 9404, "cidr 10.20.0.0/16"],
        ["monitor-from-192-0-2-10-32", 9404, "cidr 192.0.2.10/32"],
        ["monitor-from-cluster", 9404, "cluster"],
        ["node-exporter-from-10-20-0-0-16", 9101, "cidr 10.20.0.0/16"],
        ["node-exporter-from-192-0-2-10-32", 9101, "cidr 192.0.2.10/32"],
      ],
    );
    assert.deepStrictEqual(
      summary(rules).filter(([name]) => !/^(monitor|node-exporter)-/.test(name)),
      summary(rulesFor({})).filter(([name]) => name !== "monitor-from-cluster"),
      "monitoringCidrs open nothing else",
    );
  });

  void it("never opens a ZooKeeper or replication port beyond the cluster (property)", () => {
    const blocks = fc.uniqueArray(ipv4Block, { maxLength: 4 });
    fc.assert(
      fc.property(
        blocks,
        blocks,
        fc.uniqueArray(ipv4Block, { minLength: 1, maxLength: 2 }),
        fc.constantFrom<RawSettings>({}, { haMode: "shared-kahadb", zookeeperDeploy: "true" }),
        (client, consoleBlocks, ssh, mode) => {
          const settings = parseSettings({
            ...mode,
            ...(client.length > 0 ? { clientCidrs: JSON.stringify(client) } : {}),
            ...(consoleBlocks.length > 0 ? { consoleCidrs: consoleBlocks.join(",") } : {}),
          });
          const rules = clusterIngressRules(settings, ssh.map(cidr));
          const p = settings.ports;
          const internal = new Set([p.zookeeperClient, p.zookeeperPeer, p.zookeeperElection, p.replication]);
          for (const r of rules.filter((rule) => internal.has(rule.port))) {
            assert.equal(r.source.kind, "cluster", `${r.name} is open to ${r.source.kind}`);
          }
          // OpenWire from exactly the client blocks (or the VPC when none are given), the console from exactly the
          // console blocks.
          const openwireCidrs = rules
            .filter((r) => r.port === p.openwireTls && r.source.kind === "cidr")
            .map((r) => (r.source.kind === "cidr" ? r.source.cidr.text : ""));
          assert.deepStrictEqual(openwireCidrs.sort(), [...client].sort());
          assert.equal(
            rules.some((r) => r.port === p.openwireTls && r.source.kind === "vpc"),
            client.length === 0,
          );
          const consoleCidrs = rules
            .filter((r) => r.port === p.console)
            .map((r) => (r.source.kind === "cidr" ? r.source.cidr.text : r.source.kind));
          assert.deepStrictEqual(consoleCidrs.sort(), [...consoleBlocks].sort());
          const names = rules.map((r) => r.name);
          assert.equal(new Set(names).size, names.length, `duplicate names: ${names.join(" ")}`);
        },
      ),
    );
  });

  void it("opens no ZooKeeper or replication port in shared-kahadb without ZooKeeper", () => {
    const rules = rulesFor({ haMode: "shared-kahadb" });
    const ports = new Set(rules.map((r) => r.port));
    for (const port of [2181, 2888, 3888, 61619]) {
      assert.ok(!ports.has(port), `port ${port} is open`);
    }
    assert.deepStrictEqual(summary(rules), [
      ["monitor-from-cluster", 9404, "cluster"],
      ["openwire-tls-from-cluster", 61617, "cluster"],
      ["openwire-tls-from-vpc", 61617, "vpc"],
      ["ssh-from-198-51-100-7-32", 22, "cidr 198.51.100.7/32"],
    ]);
  });

  void it("shared-kahadb with ZooKeeper opens the ZooKeeper ports to the cluster but no replication port", () => {
    const ports = rulesFor({ haMode: "shared-kahadb", zookeeperDeploy: "true" }).map((r) => r.port);
    assert.ok([2181, 2888, 3888].every((p) => ports.includes(p)));
    assert.ok(!ports.includes(61619));
  });

  void it("admits client security groups to OpenWire only", () => {
    const rules = rulesFor({ clientSecurityGroupIds: "sg-0123456789abcdef0,sg-89abcdef" });
    const fromGroups = summary(rules).filter(([, , from]) => from.startsWith("sg "));
    assert.deepStrictEqual(fromGroups, [
      ["openwire-tls-from-sg-0123456789abcdef0", 61617, "sg sg-0123456789abcdef0"],
      ["openwire-tls-from-sg-89abcdef", 61617, "sg sg-89abcdef"],
    ]);
  });

  void it("opens to clients exactly the client ports that clientTransport turns on", () => {
    const clientRules = (transport: string) =>
      summary(
        rulesFor({
          clientTransport: transport,
          clientCidrs: "10.20.0.0/16",
          clientSecurityGroupIds: "sg-89abcdef",
        }),
      ).filter(([name]) => name.startsWith("openwire"));
    const tls: [string, number, string][] = [
      ["openwire-tls-from-10-20-0-0-16", 61617, "cidr 10.20.0.0/16"],
      ["openwire-tls-from-cluster", 61617, "cluster"],
      ["openwire-tls-from-sg-89abcdef", 61617, "sg sg-89abcdef"],
    ];
    // The plain port's rules keep the names they had before TLS existed: a stack that stays on tcp keeps them.
    const tcp: [string, number, string][] = [
      ["openwire-from-10-20-0-0-16", 61616, "cidr 10.20.0.0/16"],
      ["openwire-from-cluster", 61616, "cluster"],
      ["openwire-from-sg-89abcdef", 61616, "sg sg-89abcdef"],
    ];
    assert.deepStrictEqual(clientRules("tls"), tls);
    assert.deepStrictEqual(clientRules("tcp"), tcp);
    assert.deepStrictEqual(
      clientRules("tls+tcp"),
      [...tcp, ...tls].sort((a, b) => a[0].localeCompare(b[0])),
    );
  });

  void it("opens the console only to consoleCidrs, and not at all by default", () => {
    assert.ok(!rulesFor({}).some((r) => r.port === 8161));
    const rules = rulesFor({ consoleCidrs: "203.0.113.0/24,2001:db8::/32" });
    assert.deepStrictEqual(
      summary(rules).filter(([, port]) => port === 8161),
      [
        ["console-from-2001-db8-32", 8161, "cidr 2001:db8::/32"],
        ["console-from-203-0-113-0-24", 8161, "cidr 203.0.113.0/24"],
      ],
    );
  });

  void it("replaces the VPC source with the client blocks when given", () => {
    const rules = summary(rulesFor({ clientCidrs: "10.20.0.0/16" }));
    assert.ok(!rules.some(([, , from]) => from === "vpc"));
    assert.ok(
      rules.some(
        ([name, port, from]) =>
          name === "openwire-tls-from-10-20-0-0-16" && port === 61617 && from === "cidr 10.20.0.0/16",
      ),
    );
  });

  void it("gives every rule a unique name with all sources at once", () => {
    const rules = rulesFor(
      {
        clientCidrs: "10.20.0.0/16,10.30.0.0/16",
        clientSecurityGroupIds: "sg-0123456789abcdef0",
        consoleCidrs: "10.20.0.0/16",
      },
      [cidr("10.20.0.0/16"), cidr("198.51.100.7/32")],
    );
    const names = rules.map((r) => r.name);
    assert.equal(new Set(names).size, names.length, names.join(" "));
  });

  void it("never sees a block listed twice: the settings refuse it, so rule names stay unique", () => {
    for (const key of ["clientCidrs", "consoleCidrs", "sshCidrs"]) {
      assert.throws(
        () => rulesFor({ [key]: "10.20.0.0/16,10.20.0.0/16" }),
        (e: unknown) => e instanceof SettingsError && e.message.includes(`${key}: got "10.20.0.0/16"`),
      );
    }
  });
});

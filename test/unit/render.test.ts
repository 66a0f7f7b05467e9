import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { NodeFacts } from "../../lib/facts";
import {
  brokerDiskLimits,
  jettyMd5Credential,
  renderActivemqXml,
  renderBrokerElement,
  renderCredentialsProperties,
  renderJettyRealm,
} from "../../lib/render/activemq";
import { renderJettyXml } from "../../lib/render/jetty";
import { renderBrokerEnv, renderBrokerUnit, renderZookeeperUnit } from "../../lib/render/services";
import { renderMyid, renderZooCfg } from "../../lib/render/zookeeper";
import { parseSettings, RawSettings, StackSettings } from "../../lib/settings";
import {
  attributesOf,
  countOf,
  elementAttributes,
  factsFor,
  nodeAddress,
  nodesFor,
  SECRETS,
} from "./helpers";

/** Settings with release digests given: a deployed release needs one, and no test here is about them. */
function settingsOf(raw: RawSettings): StackSettings {
  return parseSettings({ activemqSha512: "a".repeat(128), zookeeperSha512: "b".repeat(128), ...raw });
}

const DEFAULTS = settingsOf({});
const KAHADB = settingsOf({ haMode: "shared-kahadb" });

/** The lines of a systemd unit or env file as key → values (a key may repeat). */
function unitValues(text: string, key: string): string[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

function shuffled<T>(items: readonly T[]): T[] {
  // A fixed permutation (reverse, then rotate) so the test is deterministic but never in index order.
  const r = [...items].reverse();
  return [...r.slice(1), ...(r.slice(0, 1) as T[])];
}

void describe("lib/render/zookeeper", () => {
  void it("renders zoo.cfg for 3 nodes, servers in index order whatever the input order", () => {
    const nodes: NodeFacts[] = [
      { index: 3, privateIp: "10.0.128.10" },
      { index: 1, privateIp: "10.0.0.10" },
      { index: 2, privateIp: "10.0.64.10" },
    ];
    assert.equal(
      renderZooCfg(DEFAULTS, nodes),
      `# Rendered by the activemq-ha Pulumi program; pulumi up overwrites manual changes.
tickTime=1000
initLimit=10
syncLimit=2
dataDir=/var/lib/zookeeper
dataLogDir=/var/lib/zookeeper/txlog
clientPort=2181
minSessionTimeout=2000
maxClientCnxns=60
autopurge.snapRetainCount=5
autopurge.purgeInterval=6
4lw.commands.whitelist=srvr,ruok,mntr
admin.enableServer=false
cnxTimeout=1000
server.1=10.0.0.10:2888:3888
server.2=10.0.64.10:2888:3888
server.3=10.0.128.10:2888:3888
`,
    );
  });

  void it("renders zoo.cfg for 5 nodes", () => {
    const nodes: NodeFacts[] = [
      { index: 5, privateIp: "10.0.64.11" },
      { index: 2, privateIp: "10.0.64.10" },
      { index: 4, privateIp: "10.0.0.11" },
      { index: 1, privateIp: "10.0.0.10" },
      { index: 3, privateIp: "10.0.128.10" },
    ];
    assert.equal(
      renderZooCfg(DEFAULTS, nodes),
      `# Rendered by the activemq-ha Pulumi program; pulumi up overwrites manual changes.
tickTime=1000
initLimit=10
syncLimit=2
dataDir=/var/lib/zookeeper
dataLogDir=/var/lib/zookeeper/txlog
clientPort=2181
minSessionTimeout=2000
maxClientCnxns=60
autopurge.snapRetainCount=5
autopurge.purgeInterval=6
4lw.commands.whitelist=srvr,ruok,mntr
admin.enableServer=false
cnxTimeout=1000
server.1=10.0.0.10:2888:3888
server.2=10.0.64.10:2888:3888
server.3=10.0.128.10:2888:3888
server.4=10.0.0.11:2888:3888
server.5=10.0.64.11:2888:3888
`,
    );
  });

  void it("takes tick, limits, ports and the session floor from the settings", () => {
    const s = settingsOf({
      zookeeperTickTimeMs: "1500",
      zkSessionTimeoutMs: "3000",
      zookeeperInitLimit: "20",
      zookeeperSyncLimit: "7",
      zookeeperClientPort: "12181",
      zookeeperPeerPort: "12888",
      zookeeperElectionPort: "13888",
    });
    const lines = renderZooCfg(s, nodesFor(3)).split("\n");
    for (const expected of [
      "tickTime=1500",
      "initLimit=20",
      "syncLimit=7",
      "clientPort=12181",
      "minSessionTimeout=3000",
      `server.2=${nodeAddress(2)}:12888:13888`,
    ]) {
      assert.ok(lines.includes(expected), `missing ${expected}`);
    }
  });

  void it("admits the brokers' session: ZooKeeper's session ceiling is at least zkSessionTimeoutMs", () => {
    // The settings refuse a session above ZooKeeper's default ceiling of 20 ticks...
    assert.throws(() => settingsOf({ zkSessionTimeoutMs: "30000" }), /at most 20 × zookeeperTickTimeMs/);
    // ...and every accepted one fits under the ceiling of the rendered zoo.cfg.
    for (const [session, tick] of [
      ["20000", "1000"],
      ["60000", "3000"],
      ["2000", "1000"],
    ] as const) {
      const s = settingsOf({ zkSessionTimeoutMs: session, zookeeperTickTimeMs: tick });
      const cfg = renderZooCfg(s, nodesFor(3));
      const explicit = /^maxSessionTimeout=(\d+)$/m.exec(cfg)?.[1];
      const ceiling = explicit !== undefined ? Number(explicit) : 20 * s.zookeeper.tickTimeMs;
      assert.ok(ceiling >= s.activemq.zkSessionTimeoutMs, `ceiling ${ceiling} ms`);
    }
  });

  void it("renderMyid is the node index and a newline", () => {
    assert.equal(renderMyid({ index: 2, privateIp: "10.0.64.10" }), "2\n");
    assert.equal(renderMyid({ index: 7, privateIp: "10.0.0.12" }), "7\n");
  });

  for (const count of [3, 5]) {
    void it(`gives each of ${count} nodes the myid of the server line carrying its address`, () => {
      const nodes = nodesFor(count);
      const cfg = renderZooCfg(DEFAULTS, shuffled(nodes));
      const idByAddress = new Map<string, string>();
      for (const m of cfg.matchAll(/^server\.(\d+)=([^:]+):\d+:\d+$/gm)) {
        assert.ok(!idByAddress.has(m[2] as string), `${m[2]} listed twice`);
        idByAddress.set(m[2] as string, m[1] as string);
      }
      assert.equal(idByAddress.size, count);
      for (const node of nodes) {
        assert.equal(renderMyid(node), `${idByAddress.get(node.privateIp)}\n`, `node ${node.index}`);
      }
    });
  }
});

void describe("lib/render/activemq", () => {
  const facts3 = factsFor(3);
  const node2 = facts3.nodes[1] as NodeFacts;
  const xml2 = renderActivemqXml(DEFAULTS, facts3, node2);

  void it("node 2 of 3 has one replicatedLevelDB with the group's and its own settings", () => {
    assert.equal(countOf(xml2, /<replicatedLevelDB\b/), 1);
    const ip2 = nodeAddress(2);
    assert.deepStrictEqual(elementAttributes(xml2, "replicatedLevelDB"), {
      directory: "/var/lib/activemq/leveldb",
      replicas: "3",
      bind: `tcp://${ip2}:61619`,
      hostname: ip2,
      zkAddress: [1, 2, 3].map((i) => `${nodeAddress(i)}:2181`).join(","),
      zkPath: "/activemq/leveldb-stores",
      zkSessionTimeout: "2s",
      sync: "quorum_mem",
      securityToken: "${activemq.replicationToken}",
      maxFailoverProducersToTrack: "0",
    });
  });

  void it("lists ZooKeeper in index order even when the facts are not", () => {
    const facts = { ...facts3, nodes: shuffled(facts3.nodes) };
    const attrs = elementAttributes(renderActivemqXml(DEFAULTS, facts, node2), "replicatedLevelDB");
    assert.equal(attrs.zkAddress, `${nodeAddress(1)}:2181,${nodeAddress(2)}:2181,${nodeAddress(3)}:2181`);
  });

  void it("follows replicationSync, session, path, group size and ports", () => {
    const s = settingsOf({
      nodeCount: "5",
      replicationSync: "quorum_disk",
      zkSessionTimeoutMs: "4000",
      zkPath: "/amq/group-a",
      replicationPort: "41619",
      zookeeperClientPort: "12181",
    });
    const facts = factsFor(5);
    const attrs = elementAttributes(
      renderActivemqXml(s, facts, facts.nodes[4] as NodeFacts),
      "replicatedLevelDB",
    );
    assert.equal(attrs.replicas, "5");
    assert.equal(attrs.sync, "quorum_disk");
    assert.equal(attrs.zkSessionTimeout, "4s");
    assert.equal(attrs.zkPath, "/amq/group-a");
    assert.equal(attrs.bind, `tcp://${nodeAddress(5)}:41619`);
    assert.equal(attrs.hostname, nodeAddress(5));
    assert.equal(attrs.zkAddress, [1, 2, 3, 4, 5].map((i) => `${nodeAddress(i)}:12181`).join(","));
  });

  void it("differs between nodes only in bind and hostname (brokerName and the rest are identical)", () => {
    const facts = factsFor(5);
    const withoutOwnAddress = (node: NodeFacts) =>
      renderActivemqXml(DEFAULTS, facts, node)
        .split("\n")
        .filter((l) => !/^\s*(bind|hostname)="/.test(l))
        .join("\n");
    const first = withoutOwnAddress(facts.nodes[0] as NodeFacts);
    for (const node of facts.nodes) {
      const xml = renderActivemqXml(DEFAULTS, facts, node);
      assert.equal(elementAttributes(xml, "broker").brokerName, "amq-ha");
      assert.equal(withoutOwnAddress(node), first, `node ${node.index}`);
    }
  });

  void it("takes brokerName from the settings", () => {
    const s = settingsOf({ brokerName: "orders-ha" });
    assert.equal(elementAttributes(renderActivemqXml(s, facts3, node2), "broker").brokerName, "orders-ha");
  });

  void it("opens only OpenWire: over TLS by default, on plain TCP with clientTransport tcp", () => {
    assert.equal(countOf(xml2, /<transportConnector\b/), 1);
    const connector = elementAttributes(xml2, "transportConnector");
    assert.equal(connector.name, "openwire-tls");
    assert.match(connector.uri as string, /^ssl:\/\/0\.0\.0\.0:61617\?/);
    for (const other of ["amqp", "stomp", "mqtt", "ws://", "auto", "tcp://0.0.0.0"]) {
      assert.ok(!xml2.includes(other), `mentions ${other}`);
    }
    const custom = renderActivemqXml(
      settingsOf({ clientTransport: "tcp", openwirePort: "41616" }),
      facts3,
      node2,
    );
    assert.equal(countOf(custom, /<transportConnector\b/), 1);
    // The very line rendered before TLS existed: a stack that stays on tcp keeps its activemq.xml.
    assert.ok(
      custom.includes(
        '<transportConnector name="openwire" uri="tcp://0.0.0.0:41616?maximumConnections=1000&amp;wireFormat.maxFrameSize=104857600"/>',
      ),
    );
    assert.ok(!custom.includes("<sslContext>"));
  });

  void it("turns the scheduler and the remote JMX connector off, and anonymous access off", () => {
    assert.equal(elementAttributes(xml2, "broker").schedulerSupport, "false");
    const management = /<managementContext>\s*<managementContext\b([^>]*)\/>/.exec(xml2);
    assert.ok(management, "no nested managementContext");
    assert.equal(attributesOf(management[1] as string).createConnector, "false");
    assert.equal(elementAttributes(xml2, "simpleAuthenticationPlugin").anonymousAccessAllowed, "false");
  });

  void it("replicated-leveldb: a demoted master ends its JVM (systemd starts a fresh one); shared-kahadb keeps the defaults", () => {
    const broker = elementAttributes(xml2, "broker");
    assert.equal(broker.useShutdownHook, "false");
    assert.equal(broker.systemExitOnShutdown, "true");
    assert.equal(broker.systemExitOnShutdownExitCode, "75");
    const kaha = elementAttributes(renderActivemqXml(KAHADB, facts3, node2), "broker");
    assert.deepEqual(
      [kaha.useShutdownHook, kaha.systemExitOnShutdown, kaha.systemExitOnShutdownExitCode],
      [undefined, undefined, undefined],
    );
  });

  void it("reads credentials through placeholders, never writing a secret into activemq.xml", () => {
    const users = [...xml2.matchAll(/<authenticationUser\b([^>]*)\/>/g)].map((m) =>
      attributesOf(m[1] as string),
    );
    assert.deepStrictEqual(users, [
      { username: "${activemq.username}", password: "${activemq.password}", groups: "users" },
      { username: "${activemq.adminUsername}", password: "${activemq.adminPassword}", groups: "admins" },
    ]);
    assert.ok(xml2.includes("<value>file:${activemq.conf}/credentials.properties</value>"));
    for (const facts of [factsFor(3), factsFor(5)]) {
      for (const node of facts.nodes) {
        for (const settings of [DEFAULTS, KAHADB]) {
          const xml = renderActivemqXml(settings, facts, node);
          for (const secret of Object.values(SECRETS)) {
            assert.ok(!xml.includes(secret), `node ${node.index}: a secret in activemq.xml`);
          }
        }
      }
    }
  });

  void it("writes the credentials to credentials.properties", () => {
    assert.equal(
      renderCredentialsProperties(DEFAULTS, SECRETS),
      "# Rendered by the activemq-ha Pulumi program. Secret: readable by root and the activemq group only.\n" +
        "activemq.username=app\n" +
        `activemq.password=${SECRETS.brokerPassword}\n` +
        "activemq.adminUsername=admin\n" +
        `activemq.adminPassword=${SECRETS.consolePassword}\n` +
        `activemq.replicationToken=${SECRETS.replicationToken}\n`,
    );
  });

  void it("escapes the characters Java properties files treat specially", () => {
    const text = renderCredentialsProperties(DEFAULTS, {
      ...SECRETS,
      brokerPassword: "a:b=c#d!e\\f",
    });
    assert.ok(text.includes("activemq.password=a\\:b\\=c\\#d\\!e\\\\f\n"), text);
  });

  void it("writes the console login in Jetty's realm format, with the MD5 of the password and not the password", () => {
    const realm = renderJettyRealm(settingsOf({ consoleUser: "ops" }), SECRETS);
    // printf %s 'Console-Pw-55e2-walrus' | md5sum
    assert.equal(
      realm,
      "# Rendered by the activemq-ha Pulumi program. Holds a digest of the console password, not the password.\n" +
        "ops: MD5:d743740dd82dee08707292bd7bf341ba, admin\n",
    );
    assert.ok(!realm.includes(SECRETS.consolePassword));
    for (const secret of Object.values(SECRETS)) {
      assert.ok(!realm.includes(secret));
    }
  });

  void it("writes Jetty's MD5 credential: lower-case hex of the password's digest", () => {
    assert.equal(jettyMd5Credential(""), "MD5:d41d8cd98f00b204e9800998ecf8427e");
    assert.equal(jettyMd5Credential("password"), "MD5:5f4dcc3b5aa765d61d8327deb882cf99");
  });

  void it("shared-kahadb uses KahaDB on the shared store with a shared-file-locker, and no replication", () => {
    const facts = factsFor(3, { sharedStoreHost: "fs-1.efs.example" });
    const xml = renderActivemqXml(KAHADB, facts, node2);
    assert.equal(countOf(xml, /<replicatedLevelDB\b/), 0);
    assert.equal(countOf(xml, /<kahaDB\b/), 1);
    const kaha = elementAttributes(xml, "kahaDB");
    assert.equal(kaha.directory, "/mnt/activemq-shared/kahadb");
    assert.equal(kaha.lockKeepAlivePeriod, "2000");
    assert.match(xml, /<kahaDB\b[^>]*>\s*<locker>\s*<shared-file-locker\b[^>]*\/>\s*<\/locker>\s*<\/kahaDB>/);
    // Every node's file is the same: nothing in it is per node.
    for (const node of facts.nodes) {
      assert.equal(renderActivemqXml(KAHADB, facts, node), xml);
    }
  });

  void it("renderActivemqXml embeds exactly renderBrokerElement, indented by two spaces", () => {
    const broker = renderBrokerElement(DEFAULTS, facts3, node2);
    const indented = broker
      .split("\n")
      .map((l) => (l === "" ? l : `  ${l}`))
      .join("\n");
    assert.ok(xml2.includes(indented));
  });
});

/** Attributes of the `<name .../>` nested in `<name>` (systemUsage's children are written that way). */
function nestedAttributes(xml: string, name: string): Record<string, string> {
  const match = new RegExp(`<${name}>\\s*<${name}\\b([^>]*)/>`).exec(xml);
  assert.ok(match, `no nested <${name}>`);
  return attributesOf(match[1] as string);
}

void describe("lib/render/activemq disk limits", () => {
  const facts = factsFor(3, { sharedStoreHost: "fs-1.efs.example" });
  const node = facts.nodes[0] as NodeFacts;

  void it("renders systemUsage for the default 20 GiB volume", () => {
    const xml = renderBrokerElement(DEFAULTS, facts, node);
    assert.ok(
      xml.includes(
        "    <systemUsage>\n      <systemUsage>\n" +
          '        <memoryUsage>\n          <memoryUsage percentOfJvmHeap="70"/>\n        </memoryUsage>\n' +
          '        <storeUsage>\n          <storeUsage limit="7987 mb"/>\n        </storeUsage>\n' +
          '        <tempUsage>\n          <tempUsage limit="1331 mb"/>\n        </tempUsage>\n' +
          "      </systemUsage>\n    </systemUsage>\n",
      ),
      xml,
    );
    // Producers that reach a limit are held, not failed.
    assert.ok(!xml.includes("sendFailIfNoSpace"));
  });

  // 20 GiB: 20480 MiB − 5120 reserved − 2048 for the journal (10%) = 13312; 60% and 10% of it, rounded down.
  for (const [gib, store, temp] of [
    [10, 2457, 409], // 10240 − 5120 − 1024 = 4096
    [20, 7987, 1331],
    [40, 19046, 3174], // 40960 − 5120 − 4096 (10% is 4096: the cap from here on) = 31744
    [100, 55910, 9318], // 102400 − 5120 − 4096 = 93184
    [1024, 623616, 103936], // 1048576 − 5120 − 4096 = 1039360
  ] as const) {
    void it(`replicated-leveldb on ${gib} GiB: store ${store} mb, temp ${temp} mb`, () => {
      const s = settingsOf({ rootVolumeSizeGiB: String(gib) });
      assert.deepStrictEqual(brokerDiskLimits(s), { storeMib: store, tempMib: temp });
      const xml = renderBrokerElement(s, facts, node);
      assert.deepStrictEqual(nestedAttributes(xml, "storeUsage"), { limit: `${store} mb` });
      assert.deepStrictEqual(nestedAttributes(xml, "tempUsage"), { limit: `${temp} mb` });
    });
  }

  void it("shared-kahadb: a fixed 50 GiB store on EFS with a total, the temp store from the volume", () => {
    for (const [gib, temp] of [
      [20, 1331],
      [100, 9318],
    ] as const) {
      const s = settingsOf({ haMode: "shared-kahadb", rootVolumeSizeGiB: String(gib) });
      assert.deepStrictEqual(brokerDiskLimits(s), { storeMib: 51200, storeTotalMib: 51200, tempMib: temp });
      const xml = renderBrokerElement(s, facts, node);
      assert.deepStrictEqual(nestedAttributes(xml, "storeUsage"), { limit: "51200 mb", total: "51200 mb" });
      assert.deepStrictEqual(nestedAttributes(xml, "tempUsage"), { limit: `${temp} mb` });
    }
  });

  void it("leaves the reserves and 30% of the rest unallocated on every volume size", () => {
    for (let gib = 10; gib <= 1024; gib++) {
      const { storeMib, tempMib } = brokerDiskLimits(settingsOf({ rootVolumeSizeGiB: String(gib) }));
      const rest = gib * 1024 - 5 * 1024 - Math.min(Math.floor((gib * 1024) / 10), 4096);
      assert.ok(tempMib >= 32, `${gib} GiB: temp ${tempMib} mb is below one 32 MiB temp-store journal file`);
      assert.ok(storeMib > 0 && storeMib + tempMib <= Math.ceil(rest * 0.7), `${gib} GiB`);
    }
  });
});

void describe("lib/render/activemq authorization", () => {
  const facts = factsFor(3);
  const xml = renderBrokerElement(DEFAULTS, facts, facts.nodes[0] as NodeFacts);

  void it("authenticates two users and authorizes both groups on every destination", () => {
    const rights = 'read="admins,users" write="admins,users" admin="admins,users"';
    assert.ok(
      xml.includes(
        "    <plugins>\n" +
          '      <simpleAuthenticationPlugin anonymousAccessAllowed="false">\n        <users>\n' +
          '          <authenticationUser username="${activemq.username}" password="${activemq.password}" groups="users"/>\n' +
          '          <authenticationUser username="${activemq.adminUsername}" password="${activemq.adminPassword}" groups="admins"/>\n' +
          "        </users>\n      </simpleAuthenticationPlugin>\n" +
          "      <authorizationPlugin>\n        <map>\n          <authorizationMap>\n" +
          "            <authorizationEntries>\n" +
          `              <authorizationEntry queue=">" ${rights}/>\n` +
          `              <authorizationEntry topic=">" ${rights}/>\n` +
          "            </authorizationEntries>\n" +
          "            <tempDestinationAuthorizationEntry>\n" +
          `              <tempDestinationAuthorizationEntry ${rights}/>\n` +
          "            </tempDestinationAuthorizationEntry>\n" +
          "          </authorizationMap>\n        </map>\n      </authorizationPlugin>\n" +
          "    </plugins>\n",
      ),
      xml,
    );
    assert.equal(countOf(xml, /<authorizationPlugin>/), 1);
  });

  void it("is the same in shared-kahadb", () => {
    const kaha = renderBrokerElement(
      KAHADB,
      { ...facts, sharedStoreHost: "fs-1.efs.example" },
      facts.nodes[0] as NodeFacts,
    );
    const plugins = (text: string) => /<plugins>[\s\S]*<\/plugins>/.exec(text)?.[0];
    assert.equal(plugins(kaha), plugins(xml));
  });

  /** The authorizationEntries element of a broker element, exactly as rendered. */
  function authorizationEntries(text: string): string | undefined {
    return /^ *<authorizationEntries>\n[\s\S]*?<\/authorizationEntries>\n/m.exec(text)?.[0];
  }
  const plugins = (text: string) => /<plugins>[\s\S]*<\/plugins>/.exec(text)?.[0];
  const brokerOf = (raw: RawSettings, extra: Partial<typeof facts> = {}) =>
    renderBrokerElement(settingsOf(raw), { ...facts, ...extra }, facts.nodes[0] as NodeFacts);

  void it('appDestinations [">"] (the default): both groups on every queue and topic, as before the setting', () => {
    const both = 'read="admins,users" write="admins,users" admin="admins,users"';
    assert.equal(
      authorizationEntries(xml),
      "            <authorizationEntries>\n" +
        `              <authorizationEntry queue=">" ${both}/>\n` +
        `              <authorizationEntry topic=">" ${both}/>\n` +
        "            </authorizationEntries>\n",
    );
    // Set explicitly, or as Pulumi.yaml's empty list, it renders the very same text: no host restarts for it.
    for (const given of ['[">"]', "[]", ">"]) {
      assert.equal(brokerOf({ appDestinations: given }), xml, given);
    }
  });

  void it('appDestinations ["orders.>", "billing.*"]: admins on everything, users on their patterns, the advisories and temporary destinations', () => {
    const broker = brokerOf({ appDestinations: '["orders.>", "billing.*"]' });
    const admins = 'read="admins" write="admins" admin="admins"';
    const users = 'read="users" write="users" admin="users"';
    assert.equal(
      authorizationEntries(broker),
      "            <authorizationEntries>\n" +
        `              <authorizationEntry queue=">" ${admins}/>\n` +
        `              <authorizationEntry topic=">" ${admins}/>\n` +
        `              <authorizationEntry queue="orders.>" ${users}/>\n` +
        `              <authorizationEntry topic="orders.>" ${users}/>\n` +
        `              <authorizationEntry queue="billing.*" ${users}/>\n` +
        `              <authorizationEntry topic="billing.*" ${users}/>\n` +
        `              <authorizationEntry topic="ActiveMQ.Advisory.>" ${users}/>\n` +
        "            </authorizationEntries>\n",
    );
    // Temporary destinations stay open to both groups (request/reply), and the logins do not change.
    const both = 'read="admins,users" write="admins,users" admin="admins,users"';
    assert.ok(
      broker.includes(
        "            <tempDestinationAuthorizationEntry>\n" +
          `              <tempDestinationAuthorizationEntry ${both}/>\n` +
          "            </tempDestinationAuthorizationEntry>\n",
      ),
      broker,
    );
    // Only the entries differ from the default's plugins.
    assert.equal(
      plugins(broker)?.replace(authorizationEntries(broker) as string, ""),
      plugins(xml)?.replace(authorizationEntries(xml) as string, ""),
    );
    assert.equal(countOf(broker, /<authorizationPlugin>/), 1);
  });

  void it("one confined pattern gets a queue and a topic entry; several keep the setting's order", () => {
    const entries = (raw: string) =>
      [
        ...(authorizationEntries(brokerOf({ appDestinations: raw })) as string).matchAll(
          /<authorizationEntry ([^/]*)\/>/g,
        ),
      ].map((m) => attributesOf(m[1] as string));
    const users = { read: "users", write: "users", admin: "users" };
    const admins = { read: "admins", write: "admins", admin: "admins" };
    assert.deepStrictEqual(entries('["events"]'), [
      { queue: ">", ...admins },
      { topic: ">", ...admins },
      { queue: "events", ...users },
      { topic: "events", ...users },
      { topic: "ActiveMQ.Advisory.>", ...users },
    ]);
    // The setting's order, whatever it is (the union does not depend on it, the text does).
    assert.deepStrictEqual(
      entries('["billing.*", "orders.>"]').map((e) =>
        e.queue !== undefined ? `queue ${e.queue}` : `topic ${e.topic}`,
      ),
      [
        "queue >",
        "topic >",
        "queue billing.*",
        "topic billing.*",
        "queue orders.>",
        "topic orders.>",
        "topic ActiveMQ.Advisory.>",
      ],
    );
  });

  void it("confines the same way in shared-kahadb", () => {
    const raw = { appDestinations: '["orders.>", "billing.*"]' };
    const kaha = brokerOf({ ...raw, haMode: "shared-kahadb" }, { sharedStoreHost: "fs-1.efs.example" });
    assert.equal(plugins(kaha), plugins(brokerOf(raw)));
  });

  void it("refuses a console user named like the application user (the broker would keep only one)", () => {
    // The settings refuse this first (settings.test.ts); the renderer still guards against it on its own.
    const s = {
      ...settingsOf({}),
      activemq: { ...settingsOf({}).activemq, brokerUser: "ops", consoleUser: "ops" },
    };
    assert.throws(
      () => renderBrokerElement(s, facts, facts.nodes[0] as NodeFacts),
      /brokerUser and consoleUser must differ/,
    );
  });
});

void describe("lib/render/services", () => {
  void it("restarts a failed broker, as the activemq user, after its ZooKeeper session has expired", () => {
    for (const raw of [
      {},
      { zkSessionTimeoutMs: "5000" },
      { zkSessionTimeoutMs: "2000", brokerRestartDelaySeconds: "3" },
    ]) {
      const s = settingsOf(raw);
      const unit = renderBrokerUnit(s);
      assert.deepStrictEqual(unitValues(unit, "Restart"), ["always"]);
      const restartSec = unitValues(unit, "RestartSec");
      assert.equal(restartSec.length, 1);
      assert.ok(Number(restartSec[0]) * 1000 > s.activemq.zkSessionTimeoutMs, `RestartSec=${restartSec[0]}`);
      assert.equal(Number(restartSec[0]), s.activemq.restartDelaySeconds);
      assert.deepStrictEqual(unitValues(unit, "User"), ["activemq"]);
      const nofile = unitValues(unit, "LimitNOFILE");
      assert.equal(nofile.length, 1);
      assert.ok(Number(nofile[0]) >= 65536, `LimitNOFILE=${nofile[0]}`);
      assert.deepStrictEqual(unitValues(unit, "ExecStart"), [
        "/opt/apache-activemq-5.16.8/bin/activemq console",
      ]);
    }
  });

  void it("orders the broker after ZooKeeper in replicated-leveldb, and behind the shared mount in shared-kahadb", () => {
    assert.deepStrictEqual(unitValues(renderBrokerUnit(DEFAULTS), "After"), [
      "network-online.target zookeeper.service",
    ]);
    const kaha = renderBrokerUnit(KAHADB);
    assert.deepStrictEqual(unitValues(kaha, "After"), ["network-online.target"]);
    assert.deepStrictEqual(unitValues(kaha, "RequiresMountsFor"), ["/mnt/activemq-shared"]);
  });

  void it("the broker environment carries the JDK 17 fixes in replicated-leveldb and keeps remote JMX off", () => {
    const env = renderBrokerEnv(DEFAULTS);
    const opts = unitValues(env, "ACTIVEMQ_OPTS");
    assert.equal(opts.length, 1);
    const value = opts[0] as string;
    assert.match(value, /^".*"$/);
    for (const flag of [
      "--add-opens java.base/java.nio=ALL-UNNAMED",
      "--add-exports java.base/jdk.internal.ref=ALL-UNNAMED",
      "-Dzookeeper.sasl.client=false",
      "-Xms1024M",
      "-Xmx1024M",
    ]) {
      assert.ok(value.includes(flag), `ACTIVEMQ_OPTS lacks ${flag}`);
    }
    assert.ok(env.split("\n").includes('ACTIVEMQ_SUNJMX_START=""'), env);
    assert.ok(!env.includes("jmxremote"));
    assert.ok(env.split("\n").includes('ACTIVEMQ_HOME="/opt/apache-activemq-5.16.8"'));
    assert.ok(env.split("\n").includes('ACTIVEMQ_BASE="/opt/activemq-base"'));
  });

  void it("the shared-kahadb environment has no LevelDB or ZooKeeper client flags", () => {
    const env = renderBrokerEnv(KAHADB);
    assert.ok(!env.includes("--add-opens"));
    assert.ok(!env.includes("zookeeper.sasl"));
    assert.ok(env.split("\n").includes('ACTIVEMQ_SUNJMX_START=""'));
    assert.ok(env.split("\n").includes('ACTIVEMQ_HOME="/opt/apache-activemq-5.19.11"'));
  });

  void it("both units log to the journal, under their own identifier, and to no file", () => {
    for (const [unit, id] of [
      [renderZookeeperUnit(DEFAULTS), "zookeeper"],
      [renderBrokerUnit(DEFAULTS), "activemq"],
      [renderBrokerUnit(KAHADB), "activemq"],
    ] as const) {
      assert.deepStrictEqual(unitValues(unit, "StandardOutput"), ["journal"]);
      assert.deepStrictEqual(unitValues(unit, "StandardError"), ["inherit"]);
      assert.deepStrictEqual(unitValues(unit, "SyslogIdentifier"), [id]);
      assert.ok(!unit.includes("append:"), unit);
      assert.ok(!unit.includes(".out"), unit);
    }
  });

  void it("the ZooKeeper unit runs the configured version's server with its heap", () => {
    const unit = renderZookeeperUnit(settingsOf({ zookeeperVersion: "3.9.6", zookeeperHeapMb: "768" }));
    const exec = unitValues(unit, "ExecStart");
    assert.equal(exec.length, 1);
    assert.ok(exec[0]?.includes("-Xms768m -Xmx768m"), exec[0]);
    assert.ok(
      exec[0]?.includes('"/opt/apache-zookeeper-3.9.6-bin/lib/*:/opt/apache-zookeeper-3.9.6-bin/conf"'),
      exec[0],
    );
    assert.ok(
      exec[0]?.endsWith("org.apache.zookeeper.server.quorum.QuorumPeerMain /etc/zookeeper/zoo.cfg"),
      exec[0],
    );
    assert.deepStrictEqual(unitValues(unit, "User"), ["zookeeper"]);
    assert.deepStrictEqual(unitValues(unit, "Restart"), ["on-failure"]);
  });
});

void describe("lib/render/jetty", () => {
  function jettyPort(xml: string): { host?: string; port?: string } {
    const bean = /<bean id="jettyPort"[^>]*>([\s\S]*?)<\/bean>/.exec(xml);
    assert.ok(bean, "no jettyPort bean");
    const props: Record<string, string> = {};
    for (const m of (bean[1] as string).matchAll(/<property name="(\w+)" value="([^"]*)"\/>/g)) {
      props[m[1] as string] = m[2] as string;
    }
    return props;
  }

  void it("listens on 127.0.0.1 by default", () => {
    assert.deepStrictEqual(jettyPort(renderJettyXml(DEFAULTS)), { host: "127.0.0.1", port: "8161" });
  });

  void it("listens on every interface only when consoleCidrs open it, on the configured port", () => {
    const s = settingsOf({ consoleCidrs: "203.0.113.0/24", consolePort: "18161" });
    assert.deepStrictEqual(jettyPort(renderJettyXml(s)), { host: "0.0.0.0", port: "18161" });
  });

  void it("serves only the /admin context: no /api (Jolokia)", () => {
    const xml = renderJettyXml(DEFAULTS);
    const contexts = [...xml.matchAll(/<property name="contextPath" value="([^"]*)"\/>/g)].map((m) => m[1]);
    assert.deepStrictEqual(contexts, ["/admin"]);
    assert.ok(!xml.includes("/api"));
    assert.ok(!xml.toLowerCase().includes("jolokia"));
  });

  void it("has no secret in it (the realm file holds the login)", () => {
    const xml = renderJettyXml(DEFAULTS);
    assert.ok(xml.includes('value="${activemq.conf}/jetty-realm.properties"'));
    for (const secret of Object.values(SECRETS)) {
      assert.ok(!xml.includes(secret));
    }
  });
});

void describe("lib/render/services broker start delay", () => {
  void it("replicated-leveldb: every start waits out the previous ZooKeeper session; shared-kahadb: no wait", () => {
    for (const [session, delay] of [
      ["2000", ""],
      ["4000", "9"],
    ] as const) {
      const s = settingsOf({ zkSessionTimeoutMs: session, brokerRestartDelaySeconds: delay });
      const unit = renderBrokerUnit(s);
      const pre = /^ExecStartPre=\/bin\/sleep (\d+)$/m.exec(unit);
      assert.ok(pre, unit);
      assert.equal(Number(pre[1]), s.activemq.restartDelaySeconds);
      assert.ok(Number(pre[1]) * 1000 > Number(session));
    }
    assert.doesNotMatch(renderBrokerUnit(settingsOf({ haMode: "shared-kahadb" })), /ExecStartPre/);
  });
});

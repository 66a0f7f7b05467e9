// Rendered XML checked by xmllint: well-formed, and valid against the ActiveMQ broker schemas (5.16.8, and the 5.17
// schema of Debian's ActiveMQ). What these checks need from the machine is stated, and skipped when absent, by
// test/support/tools.ts (under CI a missing one fails instead).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { NodeFacts } from "../../lib/facts";
import { renderActivemqXml, renderBrokerElement } from "../../lib/render/activemq";
import { renderJettyXml } from "../../lib/render/jetty";
import { parseSettings, RawSettings, StackSettings } from "../../lib/settings";
import { missing, requireFile, requireTool, requireTools, Skip } from "../support/tools";
import { factsFor, peersFor } from "./helpers";
import { settingsForGroup } from "../../lib/groups";

/**
 * The ActiveMQ 5.16.8 broker schema (activemq.xsd from activemq-spring-5.16.8.jar). It is not part of the repository:
 * CI has it beside the clone, in ../shared/schemas; elsewhere ACTIVEMQ_516_XSD may name a copy.
 */
const XSD =
  process.env.ACTIVEMQ_516_XSD || path.resolve(__dirname, "../../../shared/schemas/activemq-5.16.8.xsd");

const NO_XMLLINT: Skip = requireTool("xmllint", "libxml2-utils");
const NO_516: Skip =
  NO_XMLLINT ||
  requireFile(
    XSD,
    "the ActiveMQ 5.16.8 broker schema",
    "CI has it there (../shared/schemas beside the clone); to run this check elsewhere, set ACTIVEMQ_516_XSD to a " +
      "copy of activemq.xsd from activemq-spring-5.16.8.jar",
  );

/** Settings with release digests given: a deployed release needs one, and no test here is about them. */
function settingsOf(raw: RawSettings): StackSettings {
  return parseSettings({ activemqSha512: "a".repeat(128), zookeeperSha512: "b".repeat(128), ...raw });
}

/** appDestinations that confine the application's user: entries for each pattern, and the advisory topics. */
const CONFINED = '["orders.>", "billing.*"]';

/** The broker element of node 1, with a check that the elements this file is about are in it. */
function brokerWithLimitsAndAuthorization(settings: StackSettings): string {
  const facts = factsFor(3, { sharedStoreHost: "fs-1.efs.example" });
  const broker = renderBrokerElement(settings, facts, facts.nodes[0] as NodeFacts);
  for (const element of [
    "<authorizationPlugin>",
    "<authorizationEntry ",
    "<tempDestinationAuthorizationEntry ",
    '<authenticationUser username="${activemq.adminUsername}"',
    "<storeUsage limit=",
    "<tempUsage limit=",
  ]) {
    assert.ok(broker.includes(element), `no ${element} in the broker element`);
  }
  return broker;
}

/** xmllint on `content`, in a temporary directory that `after` removes. */
function xmllintIn(): {
  xmllint: (content: string, ...options: string[]) => { status: number | null; stderr: string };
} {
  let dir = "";
  let counter = 0;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "amq-xsd-"));
  });
  after(() => {
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return {
    xmllint: (content, ...options) => {
      const file = path.join(dir, `doc-${++counter}.xml`);
      writeFileSync(file, content);
      const result = spawnSync("xmllint", ["--noout", "--nonet", ...options, file], { encoding: "utf8" });
      assert.equal(result.error, undefined, `xmllint did not run: ${String(result.error)}`);
      return { status: result.status, stderr: result.stderr };
    },
  };
}

void describe("lib/render/activemq: well-formed XML (xmllint)", { skip: NO_XMLLINT }, () => {
  const { xmllint } = xmllintIn();

  void it("renders well-formed activemq.xml and jetty.xml", () => {
    for (const [name, settings] of [
      ["replicated-leveldb", settingsOf({})],
      ["shared-kahadb", settingsOf({ haMode: "shared-kahadb", consoleCidrs: "203.0.113.0/24" })],
      ["replicated-leveldb, confined", settingsOf({ appDestinations: CONFINED })],
    ] as const) {
      const facts = factsFor(3, { sharedStoreHost: "fs-1.efs.example" });
      for (const node of facts.nodes) {
        const r = xmllint(renderActivemqXml(settings, facts, node));
        assert.equal(r.status, 0, `${name} activemq.xml, node ${node.index}:\n${r.stderr}`);
      }
      const j = xmllint(renderJettyXml(settings));
      assert.equal(j.status, 0, `${name} jetty.xml:\n${j.stderr}`);
    }
  });

  void it("well-formedness is checked for real: a broken document is refused", () => {
    const r = xmllint("<beans><bean></beans>\n");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /mismatch/i);
  });
});

void describe("lib/render/activemq against the ActiveMQ 5.16.8 schema (xmllint)", { skip: NO_516 }, () => {
  const { xmllint } = xmllintIn();
  const schema = XSD;

  function assertValid(content: string, what: string): void {
    const r = xmllint(content, "--schema", schema);
    assert.equal(r.status, 0, `${what} does not validate:\n${r.stderr}`);
  }

  const cases: [string, StackSettings, number][] = [
    ["replicated-leveldb, 3 nodes", settingsOf({}), 3],
    ["replicated-leveldb, 5 nodes", settingsOf({ nodeCount: "5", replicationSync: "quorum_disk" }), 5],
    ["replicated-leveldb, 7 nodes, other ports", settingsOf({ nodeCount: "7", replicationPort: "41619" }), 7],
    ["shared-kahadb, 3 nodes", settingsOf({ haMode: "shared-kahadb" }), 3],
    [
      "TLS and plain TCP, client certificates optional",
      settingsOf({ clientTransport: "tls+tcp", clientCertificates: "optional" }),
      3,
    ],
    ["plain TCP only", settingsOf({ clientTransport: "tcp" }), 3],
  ];
  for (const [name, settings, count] of cases) {
    void it(`validates the broker element of every node: ${name}`, () => {
      const facts = factsFor(count, { sharedStoreHost: "fs-1.efs.example" });
      for (const node of facts.nodes) {
        assertValid(renderBrokerElement(settings, facts, node), `node ${node.index}`);
      }
    });
  }

  const networks: [string, RawSettings, number][] = [
    ["2 groups, TLS with client certificates", { groups: "2" }, 2],
    ["3 groups, TLS with client certificates", { groups: "3" }, 3],
    ["3 groups, plain TCP", { groups: "3", clientTransport: "tcp" }, 3],
    ["2 groups, 5 nodes each, TLS and TCP", { groups: "2", nodeCount: "5", clientTransport: "tls+tcp" }, 2],
  ];
  for (const [name, raw, groups] of networks) {
    void it(`validates the network connectors of every group and node: ${name}`, () => {
      const stack = settingsOf(raw);
      for (let g = 1; g <= groups; g++) {
        const settings = settingsForGroup(stack, g);
        const facts = factsFor(stack.nodeCount, { peers: peersFor(groups, g, stack.nodeCount) });
        for (const node of facts.nodes) {
          const broker = renderBrokerElement(settings, facts, node);
          assert.equal(broker.split("<networkConnector\n").length - 1, 2 * (groups - 1), broker);
          assertValid(broker, `group ${g} node ${node.index}`);
        }
      }
    });
  }

  void it("rejects a misspelt networkConnector attribute (the connectors are validated for real)", () => {
    const facts = factsFor(3, { peers: peersFor(2) });
    const broker = renderBrokerElement(settingsOf({ groups: "2" }), facts, facts.nodes[0] as NodeFacts);
    assert.ok(broker.includes("decreaseNetworkConsumerPriority="));
    const r = xmllint(
      broker.replace("decreaseNetworkConsumerPriority=", "decreaseNetworkConsumerPriorty="),
      "--schema",
      schema,
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /attribute 'decreaseNetworkConsumerPriorty'/);
  });

  void it("validates the authorization and the volume-derived limits: 10, 20 and 1024 GiB, both modes", () => {
    for (const raw of [
      { rootVolumeSizeGiB: "10" },
      { rootVolumeSizeGiB: "20" },
      { rootVolumeSizeGiB: "1024" },
      { haMode: "shared-kahadb", rootVolumeSizeGiB: "20" },
    ]) {
      const broker = brokerWithLimitsAndAuthorization(settingsOf(raw));
      assertValid(broker, JSON.stringify(raw));
    }
  });

  void it("validates a confined application (appDestinations), both modes", () => {
    for (const raw of [
      { appDestinations: CONFINED },
      { haMode: "shared-kahadb", appDestinations: CONFINED },
      { appDestinations: '["events"]' },
    ]) {
      const broker = brokerWithLimitsAndAuthorization(settingsOf(raw));
      assert.ok(broker.includes('<authorizationEntry topic="ActiveMQ.Advisory.>"'), "not confined");
      assertValid(broker, JSON.stringify(raw));
    }
  });

  void it("rejects a misspelt authorizationEntry or tempUsage attribute", () => {
    const broker = brokerWithLimitsAndAuthorization(settingsOf({}));
    for (const [from, to, error] of [
      ['<authorizationEntry queue=">" read=', '<authorizationEntry queue=">" reed=', /attribute 'reed'/],
      ['<tempUsage limit="', '<tempUsage limt="', /attribute 'limt'/],
    ] as const) {
      assert.ok(broker.includes(from), from);
      const r = xmllint(broker.replace(from, to), "--schema", schema);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, error);
    }
  });

  void it("rejects a misspelt replicatedLevelDB attribute (the validation is real)", () => {
    const facts = factsFor(3);
    const broker = renderBrokerElement(settingsOf({}), facts, facts.nodes[0] as NodeFacts);
    assert.ok(broker.includes("zkSessionTimeout="));
    const r = xmllint(broker.replace("zkSessionTimeout=", "zkSessionTimout="), "--schema", schema);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /attribute 'zkSessionTimout': The attribute 'zkSessionTimout' is not allowed/);
  });

  void it("validates the SSL context and TLS connector, and rejects a misspelt sslContext attribute", () => {
    const facts = factsFor(3);
    const broker = renderBrokerElement(settingsOf({}), facts, facts.nodes[0] as NodeFacts);
    for (const part of ["<sslContext>", 'trustStoreType="PKCS12"', 'name="openwire-tls" uri="ssl://']) {
      assert.ok(broker.includes(part), `no ${part}`);
    }
    assertValid(broker, "the default (TLS, client certificates required)");
    const r = xmllint(broker.replace("trustStoreType=", "trustStorType="), "--schema", schema);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /attribute 'trustStorType'/);
  });

  void it("rejects an unknown element in the broker", () => {
    const facts = factsFor(3);
    const broker = renderBrokerElement(settingsOf({}), facts, facts.nodes[0] as NodeFacts);
    const r = xmllint(broker.replace("<replicatedLevelDB", "<replicatedLevelDb"), "--schema", schema);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /replicatedLevelDb': This element is not expected/);
  });
});

/**
 * The schema of Debian's ActiveMQ (5.17.2 on Debian 12), extracted from its activemq-spring jar by
 * test/support/debian-activemq-xsd.sh, never committed. Done while the file loads, so that a package that cannot be
 * had here (no package lists, no archive) skips the suite; under CI that fails, as a missing tool does.
 */
function debianSchema(): { dir: string; schema: string; version: string; skip: Skip; error: string } {
  const none = { dir: "", schema: "", version: "", error: "" };
  const tools =
    NO_XMLLINT ||
    requireTools([
      ["apt-cache", "apt"],
      ["apt-get", "apt"],
      ["dpkg-deb", "dpkg"],
      ["python3", "python3"],
    ]);
  if (tools) {
    return { ...none, skip: tools };
  }
  const dir = mkdtempSync(path.join(tmpdir(), "amq-xsd-517-"));
  const schema = path.join(dir, "activemq.xsd");
  const r = spawnSync("bash", [path.resolve(__dirname, "../support/debian-activemq-xsd.sh"), schema], {
    encoding: "utf8",
  });
  if (r.status === 3) {
    rmSync(dir, { recursive: true, force: true });
    const reason = r.stderr.trim().split("\n").pop() ?? "";
    return {
      ...none,
      skip: missing(
        `Debian's ActiveMQ 5.17 schema cannot be had here (${reason})`,
        "it comes from the libactivemq-java package: apt-get update, then run the tests again",
      ),
    };
  }
  const error = r.status === 0 ? "" : `extracting the 5.17 schema failed (exit ${r.status}):\n${r.stderr}`;
  return { dir, schema, version: r.stdout.trim(), skip: false, error };
}

const DEBIAN = debianSchema();

const DEBIAN_SUITE = "lib/render/activemq in shared-kahadb against a 5.17+ broker schema (xmllint)";
void describe(DEBIAN_SUITE, { skip: DEBIAN.skip }, () => {
  // The 5.16.8 schema has no say over 5.17+ brokers.
  const { dir, schema, version } = DEBIAN;

  before(() => {
    if (DEBIAN.error) {
      assert.fail(DEBIAN.error);
    }
  });

  after(() => {
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it("validates the broker element of every node (3 and 5 nodes, other lock keep-alive)", () => {
    assert.match(version, /^5\.(1[7-9]|[2-9]\d)\./, `a 5.17+ schema, got ${version}`);
    for (const [raw, count, groups] of [
      [{ haMode: "shared-kahadb" }, 3, 1],
      [{ haMode: "shared-kahadb", nodeCount: "5", lockKeepAlivePeriodMs: "5000", webConsole: "false" }, 5, 1],
      [{ haMode: "shared-kahadb", groups: "2" }, 3, 2],
      [{ haMode: "shared-kahadb", groups: "3", clientTransport: "tcp" }, 3, 3],
    ] as const) {
      const settings = settingsForGroup(settingsOf(raw), groups);
      const peers = peersFor(groups, groups, count);
      const facts = factsFor(count, {
        sharedStoreHost: "fs-1.efs.example",
        ...(groups > 1 ? { peers } : {}),
      });
      assert.equal(
        renderBrokerElement(settings, facts, facts.nodes[0] as NodeFacts).includes("<networkConnectors>"),
        groups > 1,
      );
      for (const node of facts.nodes) {
        const file = path.join(dir, `broker-${count}-${node.index}.xml`);
        writeFileSync(file, renderBrokerElement(settings, facts, node));
        const r = spawnSync("xmllint", ["--noout", "--nonet", "--schema", schema, file], {
          encoding: "utf8",
        });
        assert.equal(r.status, 0, `node ${node.index} does not validate against ${version}:\n${r.stderr}`);
      }
    }
  });

  void it("validates the authorization and the EFS store limit with its total (20 and 1024 GiB volumes)", () => {
    for (const gib of ["20", "1024"]) {
      const broker = brokerWithLimitsAndAuthorization(
        settingsOf({ haMode: "shared-kahadb", rootVolumeSizeGiB: gib }),
      );
      assert.ok(broker.includes('<storeUsage limit="51200 mb" total="51200 mb"/>'), broker);
      const file = path.join(dir, `limits-${gib}.xml`);
      writeFileSync(file, broker);
      const r = spawnSync("xmllint", ["--noout", "--nonet", "--schema", schema, file], { encoding: "utf8" });
      assert.equal(r.status, 0, `${gib} GiB does not validate against ${version}:\n${r.stderr}`);
    }
  });

  void it("validates a confined application (appDestinations) in shared-kahadb", () => {
    const broker = brokerWithLimitsAndAuthorization(
      settingsOf({ haMode: "shared-kahadb", appDestinations: CONFINED }),
    );
    assert.ok(broker.includes('<authorizationEntry queue="billing.*" read="users"'), "not confined");
    const file = path.join(dir, "confined.xml");
    writeFileSync(file, broker);
    const r = spawnSync("xmllint", ["--noout", "--nonet", "--schema", schema, file], { encoding: "utf8" });
    assert.equal(r.status, 0, `the confined render does not validate against ${version}:\n${r.stderr}`);
  });

  void it("the 5.17 schema has no replicatedLevelDB: a LevelDB render is refused by it", () => {
    const facts = factsFor(3);
    const file = path.join(dir, "leveldb.xml");
    writeFileSync(file, renderBrokerElement(settingsOf({}), facts, facts.nodes[0] as NodeFacts));
    const r = spawnSync("xmllint", ["--noout", "--nonet", "--schema", schema, file], { encoding: "utf8" });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /replicatedLevelDB/);
  });
});

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { NodeFacts } from "../../lib/facts";
import { renderActivemqXml, renderBrokerElement } from "../../lib/render/activemq";
import { renderJettyXml } from "../../lib/render/jetty";
import { parseSettings, StackSettings } from "../../lib/settings";
import { factsFor } from "./helpers";

const XSD = path.resolve(__dirname, "../../../shared/schemas/activemq-5.16.8.xsd");
void describe("lib/render/activemq against the ActiveMQ 5.16.8 schema (xmllint)", () => {
  let dir = "";
  let schema = "";
  let counter = 0;

  before(() => {
    assert.ok(existsSync(XSD), `the broker schema is missing: ${XSD}`);
    const probe = spawnSync("xmllint", ["--version"], { encoding: "utf8" });
    assert.equal(probe.error, undefined, "xmllint is not installed (Debian package libxml2-utils)");
    dir = mkdtempSync(path.join(tmpdir(), "amq-xsd-"));
    schema = XSD;
  });

  after(() => {
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  function xmllint(content: string, ...options: string[]): { status: number | null; stderr: string } {
    const file = path.join(dir, `doc-${++counter}.xml`);
    writeFileSync(file, content);
    const result = spawnSync("xmllint", ["--noout", "--nonet", ...options, file], { encoding: "utf8" });
    return { status: result.status, stderr: result.stderr };
  }

  function assertValid(content: string, what: string): void {
    const r = xmllint(content, "--schema", schema);
    assert.equal(r.status, 0, `${what} does not validate:\n${r.stderr}`);
  }

  const cases: [string, StackSettings, number][] = [
    ["replicated-leveldb, 3 nodes", parseSettings({}), 3],
    ["replicated-leveldb, 5 nodes", parseSettings({ nodeCount: "5", replicationSync: "quorum_disk" }), 5],
    [
      "replicated-leveldb, 7 nodes, other ports",
      parseSettings({ nodeCount: "7", replicationPort: "41619" }),
      7,
    ],
    ["shared-kahadb, 3 nodes", parseSettings({ haMode: "shared-kahadb" }), 3],
  ];
  for (const [name, settings, count] of cases) {
    void it(`validates the broker element of every node: ${name}`, () => {
      const facts = factsFor(count, { sharedStoreHost: "fs-1.efs.example" });
      for (const node of facts.nodes) {
        assertValid(renderBrokerElement(settings, facts, node), `node ${node.index}`);
      }
    });
  }

  void it("rejects a misspelt replicatedLevelDB attribute (the validation is real)", () => {
    const facts = factsFor(3);
    const broker = renderBrokerElement(parseSettings({}), facts, facts.nodes[0] as NodeFacts);
    assert.ok(broker.includes("zkSessionTimeout="));
    const r = xmllint(broker.replace("zkSessionTimeout=", "zkSessionTimout="), "--schema", schema);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /attribute 'zkSessionTimout': The attribute 'zkSessionTimout' is not allowed/);
  });

  void it("rejects an unknown element in the broker", () => {
    const facts = factsFor(3);
    const broker = renderBrokerElement(parseSettings({}), facts, facts.nodes[0] as NodeFacts);
    const r = xmllint(broker.replace("<replicatedLevelDB", "<replicatedLevelDb"), "--schema", schema);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /replicatedLevelDb': This element is not expected/);
  });

  void it("renders well-formed activemq.xml and jetty.xml", () => {
    for (const [name, settings] of [
      ["replicated-leveldb", parseSettings({})],
      ["shared-kahadb", parseSettings({ haMode: "shared-kahadb", consoleCidrs: "203.0.113.0/24" })],
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

void describe("lib/render/activemq in shared-kahadb against a 5.17+ broker schema (xmllint)", () => {
  // The 5.16.8 schema has no say over 5.17+ brokers; the schema of Debian's ActiveMQ 5.17.2 is extracted at test
  // time from its activemq-spring jar (test/support/debian-activemq-xsd.sh), never committed.
  let dir = "";
  let schema = "";
  let version = "";

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "amq-xsd-517-"));
    schema = path.join(dir, "activemq.xsd");
    const r = spawnSync("bash", [path.resolve(__dirname, "../support/debian-activemq-xsd.sh"), schema], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, `extracting the 5.17 schema failed:\n${r.stderr}`);
    version = r.stdout.trim();
  });

  after(() => {
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it("validates the broker element of every node (3 and 5 nodes, other lock keep-alive)", () => {
    assert.match(version, /^5\.(1[7-9]|[2-9]\d)\./, `a 5.17+ schema, got ${version}`);
    for (const [raw, count] of [
      [{ haMode: "shared-kahadb" }, 3],
      [{ haMode: "shared-kahadb", nodeCount: "5", lockKeepAlivePeriodMs: "5000", webConsole: "false" }, 5],
    ] as const) {
      const settings = parseSettings(raw);
      const facts = factsFor(count, { sharedStoreHost: "fs-1.efs.example" });
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

  void it("the 5.17 schema has no replicatedLevelDB: a LevelDB render is refused by it", () => {
    const facts = factsFor(3);
    const file = path.join(dir, "leveldb.xml");
    writeFileSync(file, renderBrokerElement(parseSettings({}), facts, facts.nodes[0] as NodeFacts));
    const r = spawnSync("xmllint", ["--noout", "--nonet", "--schema", schema, file], { encoding: "utf8" });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /replicatedLevelDB/);
  });
});

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  artifactFileName,
  checkActiveMqVersion,
  checkZookeeperVersion,
  DEFAULT_KAHADB_ACTIVEMQ_VERSION,
  DEFAULT_ZOOKEEPER_VERSION,
  KNOWN_SHA512,
  SUPPORTED_ACTIVEMQ_FLOORS,
} from "../../lib/versions";

void describe("lib/versions", () => {
  void it("runs shared-kahadb on 5.19.x from 5.19.11 only (CVE-2026-74761), by default 5.19.11", () => {
    assert.deepStrictEqual(SUPPORTED_ACTIVEMQ_FLOORS, [{ line: "5.19", floor: "5.19.11" }]);
    assert.equal(DEFAULT_KAHADB_ACTIVEMQ_VERSION, "5.19.11");
    assert.equal(checkActiveMqVersion("shared-kahadb", "5.19.11"), undefined);
    assert.equal(checkActiveMqVersion("shared-kahadb", "5.19.12"), undefined);
    const refused = checkActiveMqVersion("shared-kahadb", "5.19.10") ?? "";
    assert.match(refused, /^5\.19\.x from 5\.19\.11 /);
    assert.ok(refused.includes("CVE-2026-74761"), refused);
  });

  void it("runs ZooKeeper from 3.8.7 or 3.9.6 (CVE-2026-79993 and four more), by default 3.8.7", () => {
    assert.equal(DEFAULT_ZOOKEEPER_VERSION, "3.8.7");
    for (const good of ["3.8.7", "3.8.10", "3.9.6", "3.9.7"]) {
      assert.equal(checkZookeeperVersion(good), undefined, good);
    }
    for (const bad of ["3.8.6", "3.8.0", "3.9.5", "3.7.2", "3.10.0", "latest"]) {
      const refused = checkZookeeperVersion(bad) ?? "";
      assert.ok(refused.startsWith("3.8.x from 3.8.7 or 3.9.x from 3.9.6"), `${bad}: ${refused}`);
      assert.ok(refused.includes("CVE-2026-79993"), refused);
    }
  });

  void it("refuses 6.x, saying why", () => {
    for (const six of ["6.0.0", "6.2.4", "6.9.9"]) {
      const allowed = checkActiveMqVersion("shared-kahadb", six) ?? "";
      assert.ok(allowed.startsWith("5.19.x from 5.19.11"), allowed);
      assert.ok(allowed.includes("Jetty 11"), allowed);
      assert.ok(allowed.includes("the 5.x jetty.xml stops a 6.x broker when the console is on"), allowed);
      assert.ok(allowed.includes("has not run in the project's cluster-in-a-box"), allowed);
    }
  });

  void it("names the tarballs as the Apache dist layout does", () => {
    assert.equal(artifactFileName("activemq", "5.16.8"), "apache-activemq-5.16.8-bin.tar.gz");
    assert.equal(artifactFileName("zookeeper", "3.8.6"), "apache-zookeeper-3.8.6-bin.tar.gz");
  });

  void it("holds in KNOWN_SHA512 only digests of tarballs by their file names", () => {
    for (const [file, digest] of Object.entries(KNOWN_SHA512)) {
      assert.match(file, /^apache-(activemq|zookeeper)-\d+\.\d+\.\d+-bin\.tar\.gz$/);
      assert.match(digest, /^[0-9a-f]{128}$/, file);
    }
  });
});

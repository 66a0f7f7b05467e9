// The provisioning plan's shape: which steps exist in each mode, in what order, and what they depend on.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { buildPlan, PlanStep } from "../../lib/plan";
import { parseSettings, RawSettings } from "../../lib/settings";
import { factsFor } from "./helpers";

const planFor = (raw: RawSettings) => buildPlan(parseSettings(raw));
const index = (plan: PlanStep[], id: string) => plan.findIndex((s) => s.id === id);

describe("lib/plan buildPlan", () => {
  for (const nodeCount of [3, 5]) {
    it(`orders every step after what it depends on, and runs each host's steps in order (${nodeCount} nodes)`, () => {
      const plan = planFor({ nodeCount: String(nodeCount) });
      const ids = plan.map((s) => s.id);
      assert.equal(new Set(ids).size, ids.length, "step ids are unique");
      plan.forEach((step, i) => {
        for (const dep of [...step.dependsOn, ...step.rerunWith]) {
          const at = index(plan, dep);
          assert.ok(at >= 0 && at < i, `${step.id} comes after ${dep}`);
        }
      });
      for (let n = 1; n <= nodeCount; n++) {
        const own = plan.filter((s) => s.node === n && !s.action.endsWith("-gate")).map((s) => s.action);
        assert.deepEqual(own, [
          "host-ready",
          "jdk",
          "zookeeper-install",
          "zookeeper-configure",
          "zookeeper-settle",
          "activemq-install",
          "activemq-configure",
          "activemq-settle",
          "monitor-configure",
        ]);
      }
    });

    it(`configures every ZooKeeper before any broker starts, and ends the brokers with their readiness gate (${nodeCount} nodes)`, () => {
      const plan = planFor({ nodeCount: String(nodeCount) });
      const lastZk = Math.max(
        ...plan.filter((s) => s.action.startsWith("zookeeper-")).map((s) => index(plan, s.id)),
      );
      const firstBroker = Math.min(
        ...plan.filter((s) => s.action === "activemq-configure").map((s) => index(plan, s.id)),
      );
      assert.ok(lastZk < firstBroker);
      assert.equal(plan[lastZk]?.action, "zookeeper-gate");
      const services = plan.filter((s) => s.action !== "monitor-configure");
      assert.equal(services[services.length - 1]?.action, "activemq-gate");
      // The monitors wait for their own broker's configuration only: they touch no service, so nothing rolls.
      for (const monitor of plan.filter((s) => s.action === "monitor-configure")) {
        assert.deepEqual(monitor.dependsOn, [`n${monitor.node}-activemq-configure`], monitor.id);
      }
      for (const configure of plan.filter((s) => s.action === "activemq-configure")) {
        assert.ok(configure.dependsOn.includes(`n${nodeCount}-zookeeper-gate`), configure.id);
      }
      // One host at a time: node n's configure waits for node n-1's.
      for (let n = 2; n <= nodeCount; n++) {
        for (const service of ["zookeeper", "activemq"]) {
          const step = plan.find((s) => s.id === `n${n}-${service}-configure`) as PlanStep;
          assert.ok(step.dependsOn.includes(`n${n - 1}-${service}-configure`), step.id);
        }
      }
    });
  }

  it("re-runs what follows a changed step: configure with install, settle with configure, gates with every configure", () => {
    const plan = planFor({});
    const step = (id: string) => plan.find((s) => s.id === id) as PlanStep;
    assert.deepEqual(step("n2-zookeeper-configure").rerunWith, ["n2-zookeeper-install"]);
    // A ZooKeeper change re-checks the replicated brokers' election too (activemq-settle.sh heals a stuck one).
    const zookeeper = ["n1-zookeeper-configure", "n2-zookeeper-configure", "n3-zookeeper-configure"];
    assert.deepEqual(step("n2-activemq-settle").rerunWith, ["n2-activemq-configure", ...zookeeper]);
    assert.deepEqual(step("n3-activemq-gate").rerunWith, [
      "n1-activemq-configure",
      "n2-activemq-configure",
      "n3-activemq-configure",
      ...zookeeper,
    ]);
    const kahadb = buildPlan(parseSettings({ haMode: "shared-kahadb", zookeeperDeploy: "true" }));
    assert.deepEqual(
      (kahadb.find((s) => s.id === "n2-activemq-settle") as PlanStep).rerunWith,
      ["n2-activemq-configure"],
      "shared-kahadb's brokers do not use ZooKeeper",
    );
  });

  it("shared-kahadb without ZooKeeper: no ZooKeeper steps, a shared mount before each broker", () => {
    const plan = planFor({ haMode: "shared-kahadb" });
    assert.deepEqual(
      plan.filter((s) => s.action.startsWith("zookeeper")),
      [],
    );
    for (const n of [1, 2, 3]) {
      const configure = plan.find((s) => s.id === `n${n}-activemq-configure`) as PlanStep;
      assert.ok(configure.dependsOn.includes(`n${n}-shared-mount`));
      const mount = plan.find((s) => s.id === `n${n}-shared-mount`) as PlanStep;
      const files = mount.input(factsFor(3, { sharedStoreHost: "fs-1.efs.example" })).files;
      assert.deepEqual(
        files.map((f) => f.path),
        ["/etc/systemd/system/mnt-activemq\\x2dshared.mount"],
      );
      assert.match(files[0]?.content ?? "", /^What=fs-1\.efs\.example:\/$/m);
    }
    const install = plan.find((s) => s.id === "n1-activemq-install") as PlanStep;
    assert.equal(
      install.input(factsFor(3)).inputs.EXTRA_JARS,
      "",
      "no extra jars outside replicated-leveldb",
    );
  });

  it("pins the signing keys the settings name instead of the release managers'", () => {
    const key = "0123 4567 89ab cdef 0123 4567 89AB CDEF 0123 4567";
    const zk = (
      planFor({ zookeeperSigningKeys: key }).find((s) => s.id === "n1-zookeeper-install") as PlanStep
    ).input(factsFor(3)).inputs;
    assert.equal(zk.RELEASE_SIGNERS, "0123456789ABCDEF0123456789ABCDEF01234567");
  });

  it("replicated-leveldb installs the election watchdog with each broker; shared-kahadb does not", () => {
    const configure = (raw: RawSettings) =>
      (planFor(raw).find((s) => s.id === "n2-activemq-configure") as PlanStep).input(factsFor(3));
    const replicated = configure({});
    const watchdog = replicated.files.filter((f) => /election-watchdog/.test(f.path));
    assert.deepEqual(
      watchdog.map((f) => [f.path, f.owner, f.mode]),
      [
        ["/usr/local/libexec/activemq-ha/election-watchdog", "root", "0755"],
        ["/etc/systemd/system/activemq-election-watchdog.service", "root", "0644"],
        ["/etc/systemd/system/activemq-election-watchdog.timer", "root", "0644"],
      ],
    );
    assert.equal(
      watchdog[0]?.content,
      readFileSync(path.resolve(__dirname, "../../scripts/host/election-watchdog.sh"), "utf8"),
    );
    const addresses = factsFor(3)
      .nodes.map((n) => n.privateIp)
      .join(" ");
    const service = (watchdog[1]?.content ?? "").split("\n");
    assert.deepEqual(
      service.filter((l) => /^(Environment|ExecStart)=/.test(l)),
      [
        "Environment=BROKER_PORT=61617 SELF_INDEX=2",
        `Environment=STATE_DIR=/var/lib/activemq-election-watchdog "BROKERS=${addresses}"`,
        `Environment="ZOOKEEPERS=${addresses
          .split(" ")
          .map((a) => `${a}:2181`)
          .join(" ")}"`,
        "ExecStart=/usr/local/libexec/activemq-ha/election-watchdog",
      ],
    );
    assert.match(watchdog[2]?.content ?? "", /^OnUnitActiveSec=15$/m);
    assert.equal(replicated.inputs.WATCHDOG_TIMER, "activemq-election-watchdog.timer");
    const kahadb = configure({ haMode: "shared-kahadb" });
    assert.deepEqual(
      kahadb.files.filter((f) => /election-watchdog/.test(f.path)),
      [],
    );
    assert.equal(kahadb.inputs.WATCHDOG_TIMER, "");
  });

  it("shared-kahadb with zookeeperDeploy keeps the ensemble", () => {
    const plan = planFor({ haMode: "shared-kahadb", zookeeperDeploy: "true" });
    assert.equal(plan.filter((s) => s.action === "zookeeper-configure").length, 3);
  });

  it("webConsole=false: no console files and no jetty import", () => {
    const files = (raw: RawSettings) =>
      (planFor(raw).find((s) => s.id === "n1-activemq-configure") as PlanStep).input(factsFor(3)).files;
    const on = files({});
    const off = files({ webConsole: "false" });
    assert.deepEqual(
      on.map((f) => f.path).filter((p) => !off.map((f) => f.path).includes(p)),
      ["/etc/activemq/jetty-realm.properties", "/etc/activemq/jetty.xml"],
    );
    const xml = (list: typeof on) => list.find((f) => f.path === "/etc/activemq/activemq.xml")?.content ?? "";
    assert.match(xml(on), /<import resource="jetty.xml"\/>/);
    assert.doesNotMatch(xml(off), /jetty/);
  });

  it("downloads from the configured mirrors, signed by the release managers' keys, with the pinned checksum when given", () => {
    const pin = "a".repeat(128);
    const plan = planFor({ artifactBaseUrl: "https://mirror.example/apache/", zookeeperSha512: pin });
    const zk = (plan.find((s) => s.id === "n1-zookeeper-install") as PlanStep).input(factsFor(3)).inputs;
    assert.deepEqual(zk, {
      RELEASE_URL:
        "https://mirror.example/apache/zookeeper/zookeeper-3.8.7/apache-zookeeper-3.8.7-bin.tar.gz",
      RELEASE_SHA512: pin,
      RELEASE_HOME: "/opt/apache-zookeeper-3.8.7-bin",
      RELEASE_LINK: "/opt/zookeeper",
      RELEASE_KEYS_URL: "https://mirror.example/apache/zookeeper/KEYS",
      RELEASE_SIGNERS: "3F7A1D16FA4217B1DC75E1C9FFE35B7F15DFA1BA,AF3D175EC05DB249738D01AC8D8C3C3ED0B02E66",
    });
    const amq = (plan.find((s) => s.id === "n1-activemq-install") as PlanStep).input(factsFor(3)).inputs;
    // The JDK 17 fixes: two jars from the Maven mirror, each with its SHA-1 pin.
    const maven = "https://repo1.maven.org/maven2";
    assert.deepEqual(amq, {
      RELEASE_URL: "https://mirror.example/apache/activemq/5.16.8/apache-activemq-5.16.8-bin.tar.gz",
      RELEASE_SHA512: "",
      RELEASE_HOME: "/opt/apache-activemq-5.16.8",
      RELEASE_LINK: "/opt/activemq",
      RELEASE_KEYS_URL: "https://mirror.example/apache/activemq/KEYS",
      RELEASE_SIGNERS: "1AA8CF92D409A73393D0B736BFF2EE42C8282E76,C8FFDCEEEEFACB320FB87B6587A7F75A6A8BA5FC",
      ACTIVEMQ_BASE: "/opt/activemq-base",
      EXTRA_JARS:
        `${maven}/com/google/guava/failureaccess/1.0.1/failureaccess-1.0.1.jar 1dcf1de382a0bf95a3d8b0849546c88bac1292c9 ` +
        `${maven}/org/apache/zookeeper/zookeeper/3.4.6/zookeeper-3.4.6.jar 01b2502e29da1ebaade2357cd1de35a855fa3755`,
    });
  });

  it("runs the host monitor on every host and the node exporter only where monitoringCidrs let someone scrape it", () => {
    const facts = factsFor(3);
    const monitorOf = (raw: RawSettings) =>
      (planFor(raw).find((s) => s.id === "n2-monitor-configure") as PlanStep).input(facts);
    const off = monitorOf({});
    assert.deepEqual(off.inputs, {
      MONITOR_PORT: "9404",
      MONITOR_UNIT: "activemq-ha-monitor.service",
      NODE_EXPORTER_PACKAGE: "",
      NODE_EXPORTER_UNIT: "prometheus-node-exporter.service",
      NODE_EXPORTER_PORT: "",
    });
    assert.deepEqual(
      off.files.map((f) => [f.path, f.owner, f.group, f.mode]),
      [
        ["/usr/local/libexec/activemq-ha/HostMonitor.java", "root", "root", "0644"],
        ["/etc/systemd/system/activemq-ha-monitor.service", "root", "root", "0644"],
      ],
    );
    const unit = off.files[1]?.content ?? "";
    const addresses = facts.nodes.map((n) => `${n.index}=${n.privateIp}`).join(" ");
    for (const line of [
      "User=activemq",
      "JoinsNamespaceOf=activemq.service",
      "PrivateTmp=true",
      'Environment="MONITOR_PORT=9404"',
      'Environment="BROKER_PORT=61617"',
      'Environment="ZOOKEEPER_CLIENT_PORT=2181"',
      'Environment="SELF_INDEX=2"',
      `Environment="NODES=${addresses}"`,
      "ExecStart=/usr/bin/java -Xms16m -Xmx48m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k " +
        "/usr/local/libexec/activemq-ha/HostMonitor.java",
    ]) {
      assert.ok(unit.split("\n").includes(line), `the unit has ${line}`);
    }
    const on = monitorOf({ monitoringCidrs: "10.20.0.0/16", monitorPort: "9500", nodeExporterPort: "9101" });
    assert.equal(on.inputs.NODE_EXPORTER_PACKAGE, "prometheus-node-exporter");
    assert.equal(on.inputs.NODE_EXPORTER_PORT, "9101");
    assert.equal(on.inputs.MONITOR_PORT, "9500");
    const dropIn = on.files.find((f) =>
      f.path.endsWith("prometheus-node-exporter.service.d/activemq-ha.conf"),
    );
    assert.ok(dropIn, "the node exporter's drop-in is managed");
    assert.match(
      dropIn.content,
      /^ExecStart=\n^ExecStart=\/usr\/bin\/prometheus-node-exporter --web\.listen-address=:9101$/m,
    );
    const noZookeeper = monitorOf({ haMode: "shared-kahadb", zookeeperDeploy: "false" });
    assert.ok((noZookeeper.files[1]?.content ?? "").includes('Environment="ZOOKEEPER_CLIENT_PORT="'));
  });

  it("on a group's first deployment every host configures at once; the steps and what they send are the same", () => {
    const facts = factsFor(3, { sharedStoreHost: "fs-1.efs.eu-west-1.amazonaws.com" });
    for (const raw of [{}, { haMode: "shared-kahadb", zookeeperDeploy: "true" }] as RawSettings[]) {
      const rolling = planFor(raw);
      const first = buildPlan(parseSettings(raw), { firstDeployment: true });
      assert.deepEqual(
        first.map((s) => s.id),
        rolling.map((s) => s.id),
      );
      for (const step of first) {
        const before = rolling.find((s) => s.id === step.id) as PlanStep;
        assert.deepEqual(step.input(facts), before.input(facts), step.id);
        assert.deepEqual(step.rerunWith, before.rerunWith, step.id);
        // Only the wait for the previous node's same step is gone.
        const dropped = before.dependsOn.filter((d) => !step.dependsOn.includes(d));
        assert.deepEqual(
          dropped,
          step.node > 1 && /-(configure|settle)$/.test(step.action) && step.action !== "monitor-configure"
            ? [`n${step.node - 1}-${step.action}`]
            : [],
          step.id,
        );
        assert.ok(
          step.dependsOn.every((d) => before.dependsOn.includes(d)),
          step.id,
        );
      }
      // Still ZooKeeper's gate before any broker, and the brokers' gate after every broker settled.
      const gate = first.find((s) => s.action === "activemq-gate") as PlanStep;
      assert.deepEqual(
        ["n1", "n2", "n3"].every((n) => gate.dependsOn.includes(`${n}-activemq-settle`)),
        true,
      );
    }
  });
});

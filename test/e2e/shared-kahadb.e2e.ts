// Cluster-in-a-box, shared-kahadb mode: the program's own plan on three real Debian 12 hosts, every broker's
// KahaDB on one shared directory, the lock holder master. The broker is built at test time from Debian's
// activemq 5.17.2 packages (older than the production default, so it runs only through the test-only setting).
// This kernel has no NFS support, so the shared store is one directory of the outer machine bind-mounted into
// every host; the summary says so.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { ClusterFacts } from "../../lib/facts";
import { SHARED_STORE } from "../../lib/layout";
import { buildPlan, PlanStep } from "../../lib/plan";
import { StackSettings } from "../../lib/settings";
import { box, BoxInfo, boxUp, sshRun, waitFor } from "./lib/box";
import {
  boxFacts,
  boxSettings,
  brokersAccepting,
  buildProbe,
  failoverRounds,
  Figures,
  publish,
  resetBox,
  extraSettings,
  runBuildScript,
  assertPlanChangesNothing,
  assertRollingRestart,
  changedSteps,
  unpackDist,
  WORK,
} from "./lib/cluster-box";
import { runPlan } from "./lib/executor";

const DEBIAN_ACTIVEMQ = "5.17.2";
const ROUNDS = Number(process.env.E2E_ROUNDS ?? "5");
const SHARED_DIR = path.join(WORK, "shared-store");
const RAW_SETTINGS = {
  haMode: "shared-kahadb",
  activemqVersion: DEBIAN_ACTIVEMQ,
  testOnlyAllowUnsupportedActiveMq: "true",
  // Debian's ActiveMQ has no web console.
  webConsole: "false",
  ...extraSettings(),
};

const figures = new Figures();
let info: BoxInfo;
let settings: StackSettings;
let facts: ClusterFacts;
let plan: PlanStep[];
let tarball: string;

/** Whether host K's broker listens on OpenWire, seen inside its own network namespace (works with its link down). */
function listensInside(host: number, port: number): boolean {
  const out = execFileSync(
    "ip",
    ["netns", "exec", `amqbox-n${host}`, "ss", "-Hltn", `( sport = :${port} )`],
    {
      encoding: "utf8",
    },
  );
  return out.trim() !== "";
}

describe("cluster-in-a-box: shared-kahadb", { concurrency: 1 }, () => {
  before(() => {
    resetBox();
    rmSync(SHARED_DIR, { recursive: true, force: true });
    mkdirSync(SHARED_DIR, { recursive: true });
    let t = Date.now();
    runBuildScript("test/e2e/artifacts/build-activemq-from-debian.sh", path.join(WORK, "built"));
    tarball = publish(
      path.join(WORK, "built", "activemq", DEBIAN_ACTIVEMQ, `apache-activemq-${DEBIAN_ACTIVEMQ}-bin.tar.gz`),
      `activemq/${DEBIAN_ACTIVEMQ}`,
    );
    figures.add(
      `broker artifact: ActiveMQ ${DEBIAN_ACTIVEMQ} built from Debian's packages in ${((Date.now() - t) / 1000).toFixed(1)} s`,
    );
    t = Date.now();
    process.env.BOX_SHARED_DIR = SHARED_DIR;
    process.env.BOX_SHARED_MOUNT = SHARED_STORE.mountPoint;
    info = boxUp(3);
    figures.add(`hosts up: ${((Date.now() - t) / 1000).toFixed(1)} s`);
    figures.add(
      `shared store: ${SHARED_DIR} bind-mounted into every host at ${SHARED_STORE.mountPoint} ` +
        `(this kernel has no NFS client or server, so no NFSv4 server could run)`,
    );
    box("mirror", path.join(WORK, "mirror"));
    settings = boxSettings(info, RAW_SETTINGS);
    facts = boxFacts(info, "shared-store.box");
    plan = buildPlan(settings);
  });

  after(() => {
    figures.print(
      `cluster-in-a-box summary (shared-kahadb, ActiveMQ ${DEBIAN_ACTIVEMQ} from Debian packages)`,
    );
    if (!process.env.E2E_KEEP) {
      box("down");
    }
  });

  it("provisions with the program's own plan: one broker holds the lock and serves, the others wait", async () => {
    const runs = await runPlan(plan, facts, info, ({ step, result }) =>
      figures.add(`step ${step.id}: ${result.seconds.toFixed(1)} s`),
    );
    // The first run changes every host, and says so: the idempotency check relies on that mark.
    assert.ok(changedSteps(runs).includes("n1-activemq-configure"), changedSteps(runs).join(", "));
    const masters = await brokersAccepting(info, settings.ports.openwire);
    assert.equal(masters.length, 1, `accepting: ${JSON.stringify(masters)}`);
    for (const h of info.hosts.filter((x) => x.index !== masters[0])) {
      const r = await sshRun(info, h.address, "systemctl is-active activemq.service; ps -o user= -C java");
      assert.match(r.stdout, /^active$/m, `node ${h.index}'s broker runs`);
      assert.match(r.stdout, /activemq/);
    }
    // The lock file is in the outer directory that every host mounts: KahaDB lives on the shared store.
    assert.ok(
      existsSync(path.join(SHARED_DIR, "kahadb", "lock")),
      "KahaDB's lock file is on the shared store",
    );
    figures.add(`master node ${masters[0]}, the others wait for the lock — PASS`);
  });

  it("idempotency: running the whole plan again changes and restarts nothing", async () => {
    const steps = await assertPlanChangesNothing(info, plan, facts, ["activemq.service"]);
    figures.add(`idempotency: ${steps} steps re-run, nothing changed — PASS`);
  });

  it("a changed setting restarts the brokers one host at a time, the master last", async () => {
    const [master] = await brokersAccepting(info, settings.ports.openwire);
    assert.ok(master);
    const changed = boxSettings(info, { ...RAW_SETTINGS, brokerHeapMb: "768" });
    const order = await assertRollingRestart(info, buildPlan(changed), facts, "activemq.service", master);
    const masters = await waitFor(async () => {
      const m = await brokersAccepting(info, settings.ports.openwire);
      return m.length === 1 ? m : undefined;
    }, 60_000);
    assert.ok(masters, "one master serves after the rolling restart");
    settings = changed;
    plan = buildPlan(changed);
    figures.add(
      `rolling restart (brokerHeapMb changed): order ${order.join(", ")}, master node ${master} last — PASS`,
    );
  });

  it(`failover: no acknowledged message lost over ${ROUNDS} master power-offs`, async () => {
    const classpath = buildProbe(unpackDist(tarball));
    const result = await failoverRounds(info, settings, facts, classpath, {
      rounds: ROUNDS,
      figures,
      roundTimeoutMs: 60_000,
      // A shared-store slave is a running broker waiting for the lock.
      standingBy: "systemctl is-active --quiet activemq.service",
    });
    assert.deepEqual(result.lost, [], "zero acknowledged messages lost");
    assert.equal(result.failoverMs.length, ROUNDS);
  });

  it("partition: the master's link cut → clients cannot reach it and no second master appears; link back → one master", async () => {
    const [master] = await brokersAccepting(info, settings.ports.openwire);
    assert.ok(master);
    box("linkdown", String(master));
    try {
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const reachable = await brokersAccepting(info, settings.ports.openwire);
      assert.deepEqual(reachable, [], "no broker accepts clients while the lock holder is cut off");
      const listening = info.hosts
        .filter((h) => listensInside(h.index, settings.ports.openwire))
        .map((h) => h.index);
      assert.deepEqual(listening, [master], "only the lock holder serves (inside its own namespace)");
      figures.add(
        `partition of node ${master}: unreachable for clients, the others keep waiting, no split brain — PASS ` +
          `(a bind-mounted store cannot lose its lock; on EFS the NFS lease ends and a slave takes over, see README)`,
      );
    } finally {
      box("linkup", String(master));
    }
    const after = await waitFor(async () => {
      const m = await brokersAccepting(info, settings.ports.openwire);
      return m.length === 1 ? m : undefined;
    }, 30_000);
    assert.deepEqual(after, [master]);
  });
});

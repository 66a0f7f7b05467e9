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
import { ClusterFacts, TlsFacts } from "../../lib/facts";
import { SHARED_STORE } from "../../lib/layout";
import { buildPlan, PlanStep } from "../../lib/plan";
import { StackSettings } from "../../lib/settings";
import { box, BoxInfo, boxUp, sleep, sshRun, waitFor } from "./lib/box";
import { checkChange, deployedSettingsRecord } from "../../lib/dayTwo";
import {
  assertForeignHostRefused,
  assertPlanChangesNothing,
  assertRollingRestart,
  boxFacts,
  boxSettings,
  brokersAccepting,
  buildProbe,
  renewedBoxCertificates,
  changedSteps,
  extraSettings,
  failoverRounds,
  Figures,
  pinnedSigner,
  portOpen,
  closeSigners,
  standingBy,
  resetBox,
  unpackDist,
  theMaster,
  withCountingClient,
  WORK,
} from "./lib/cluster-box";
import { boxHosts, replaceAndRebuild, replaceInstances, rollInstanceType } from "./lib/host-changes";
import { assertTlsOnMaster } from "./lib/tls-checks";
import { masterPort, tlsOn } from "../../lib/tls";
import { BoxCluster, runPlan, StepState } from "./lib/executor";
import {
  everyHostLost,
  FaultContext,
  guaranteeLine,
  masterCutFromPeers,
  twoOfThreeLost,
} from "./lib/fault-matrix";
import { DEBIAN_ACTIVEMQ, debianActiveMqSettings, publishDebianActiveMq } from "./lib/artifacts";

const ROUNDS = Number(process.env.E2E_ROUNDS ?? "5");
const SHARED_DIR = path.join(WORK, "shared-store");
let RAW_SETTINGS: Record<string, string> = {};

const figures = new Figures();
let cluster: BoxCluster;
/** What the stack's state holds: the inputs each step last ran with (the executor decides like `pulumi up`). */
const state = new StepState();
let classpath: string[] | undefined;
let info: BoxInfo;
let settings: StackSettings;
let facts: ClusterFacts;
let plan: PlanStep[];
let tarball: string;
/** The group as the fault matrix plays it. */
const faults = (): FaultContext => ({
  info,
  settings,
  facts,
  classpath: probeClasspath(),
  figures,
});

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

/** The failover client, compiled once against the broker distribution. */
function probeClasspath(): string[] {
  classpath ??= buildProbe(unpackDist(tarball));
  return classpath;
}

describe("cluster-in-a-box: shared-kahadb", { concurrency: 1 }, () => {
  before(() => {
    resetBox();
    rmSync(SHARED_DIR, { recursive: true, force: true });
    mkdirSync(SHARED_DIR, { recursive: true });
    let t = Date.now();
    tarball = publishDebianActiveMq();
    RAW_SETTINGS = {
      ...debianActiveMqSettings(),
      ...pinnedSigner(),
      ...extraSettings(),
    };
    figures.add(
      `broker artifact: ActiveMQ ${DEBIAN_ACTIVEMQ} built from Debian's packages in ${((Date.now() - t) / 1000).toFixed(1)} s`,
    );
    t = Date.now();
    process.env.BOX_SHARED_DIR = SHARED_DIR;
    process.env.BOX_SHARED_MOUNT = SHARED_STORE.mountPoint;
    cluster = BoxCluster.up(3, path.join(WORK, "host-keys"), boxUp);
    info = cluster.info;
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
    closeSigners();
    if (!process.env.E2E_KEEP) {
      box("down");
    }
  });

  it("provisions with the program's own plan: one broker holds the lock and serves, the others wait", async () => {
    const runs = await runPlan(plan, facts, cluster, {
      state,
      // The instances and their rejoin steps are created too: a rejoin step on a group that serves nothing yet
      // has nothing to wait for.
      hosts: boxHosts(settings),
      onStep: ({ step, result }) => figures.add(`step ${step.id}: ${result.seconds.toFixed(1)} s`),
    });
    // The first run changes every host, and says so: the idempotency check relies on that mark.
    assert.ok(changedSteps(runs).includes("n1-activemq-configure"), changedSteps(runs).join(", "));
    const masters = await brokersAccepting(info, masterPort(settings));
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

  it("TLS: a client that trusts the stack's CA is served over TLS, one that trusts another CA is refused", async (t) => {
    if (!tlsOn(settings)) {
      t.skip(`clientTransport ${settings.tls.transport}: no TLS port`);
      return;
    }
    figures.add(`${await assertTlsOnMaster(cluster, settings)} — PASS`);
  });

  it("idempotency: running the whole plan again changes and restarts nothing", async () => {
    const steps = await assertPlanChangesNothing(cluster, plan, facts, ["activemq.service"], state);
    figures.add(`idempotency: ${steps} steps re-run, nothing changed — PASS`);
  });

  it("a changed setting restarts the brokers one host at a time, the master last", async () => {
    const [master] = await brokersAccepting(info, masterPort(settings));
    assert.ok(master);
    const changed = boxSettings(info, { ...RAW_SETTINGS, brokerHeapMb: "768" });
    const rolled = ["configure", "settle"].flatMap((a) => [1, 2, 3].map((n) => `n${n}-activemq-${a}`));
    const order = await assertRollingRestart(
      cluster,
      buildPlan(changed),
      facts,
      "activemq.service",
      master,
      state,
      [...rolled, "n3-activemq-gate"],
    );
    const masters = await waitFor(async () => {
      const m = await brokersAccepting(info, masterPort(settings));
      return m.length === 1 ? m : undefined;
    }, 60_000);
    assert.ok(masters, "one master serves after the rolling restart");
    settings = changed;
    plan = buildPlan(changed);
    figures.add(
      `rolling restart (brokerHeapMb changed): order ${order.join(", ")}, master node ${master} last — PASS`,
    );
  });

  it("certificate renewal: new certificates from the same CA roll one host at a time, the master last, a TLS client keeps sending, nothing lost", async (t) => {
    if (!tlsOn(settings)) {
      t.skip(`clientTransport ${settings.tls.transport}: no certificates`);
      return;
    }
    const master = await theMaster(info, masterPort(settings));
    const before = await sshRun(info, cluster.address(master), "sudo sha256sum /etc/activemq/tls/broker.p12");
    const renewed: ClusterFacts = {
      ...facts,
      tls: { ...(facts.tls as TlsFacts), nodes: renewedBoxCertificates(info) },
    };
    const rolled = ["configure", "settle"].flatMap((a) => [1, 2, 3].map((n) => `n${n}-activemq-${a}`));
    let order: number[] = [];
    const counted = await withCountingClient(
      settings,
      renewed,
      probeClasspath(),
      figures,
      "renewal",
      async () => {
        order = await assertRollingRestart(cluster, plan, renewed, "activemq.service", master, state, [
          ...rolled,
          "n3-activemq-gate",
        ]);
      },
    );
    assert.deepEqual(counted.lost, [], "zero acknowledged messages lost");
    const after = await sshRun(info, cluster.address(master), "sudo sha256sum /etc/activemq/tls/broker.p12");
    assert.notEqual(after.stdout, before.stdout, "the key store was rebuilt from the new certificate");
    const policy = await assertTlsOnMaster(cluster, settings);
    facts = renewed;
    figures.add(
      `certificate renewal: order ${order.join(", ")}, master node ${master} last; then ${policy} — PASS`,
    );
  });

  it("clientTransport tls → tls+tcp rolls one host at a time, the master last; then one producer over each transport in the same run", async (t) => {
    if (settings.tls.transport !== "tls") {
      t.skip(`clientTransport ${settings.tls.transport}: starts from tls only`);
      return;
    }
    const master = await theMaster(info, masterPort(settings));
    const both = boxSettings(info, { ...RAW_SETTINGS, clientTransport: "tls+tcp" });
    const record = (s: StackSettings) => deployedSettingsRecord(s, { clusterName: "box" });
    assert.deepEqual(checkChange(record(settings), record(both)), [], "a running stack may take tls+tcp");
    const rolled = ["configure", "settle"].flatMap((a) => [1, 2, 3].map((n) => `n${n}-activemq-${a}`));
    const order = await assertRollingRestart(
      cluster,
      buildPlan(both),
      facts,
      "activemq.service",
      master,
      state,
      [...rolled, "n3-activemq-gate"],
    );
    settings = both;
    plan = buildPlan(both);
    const now = await theMaster(info, masterPort(settings));
    assert.equal(
      await portOpen(cluster.address(now), settings.ports.openwire),
      true,
      "the plain port is open too",
    );
    const figuresOf = async (scheme: "ssl" | "tcp") => {
      const counted = await withCountingClient(
        settings,
        facts,
        probeClasspath(),
        figures,
        `one run, ${scheme}`,
        async () => {
          await sleep(20_000);
        },
        scheme,
      );
      assert.deepEqual(counted.lost, [], `${scheme}: zero acknowledged messages lost`);
    };
    await figuresOf("ssl");
    await figuresOf("tcp");
    figures.add(
      `clientTransport tls → tls+tcp: order ${order.join(", ")}, master node ${master} last; both ports serve — PASS`,
    );
  });

  it("day 2: a host presenting another key is refused; the master's host replaced by a blank one is rebuilt by the next `pulumi up`, no acknowledged message lost", async () => {
    const target = await theMaster(info, masterPort(settings));
    const counted = await withCountingClient(
      settings,
      facts,
      probeClasspath(),
      figures,
      "replacement",
      async (probe) => {
        // The host dies first, so the client's pause is measured from its death.
        box("poweroff", String(target));
        probe.fault();
        const refusal = await assertForeignHostRefused(cluster, plan, facts, state, target);
        figures.add(
          `host key: node ${target} replaced by a host with another key → refused at n${target}-host-ready, nothing sent ("${refusal}") — PASS`,
        );
        const { ran } = await replaceAndRebuild(cluster, plan, facts, state, settings, target);
        figures.add(
          `replacement: node ${target} rebuilt by the next run, which ran only ${ran.length} steps: ${ran.join(", ")} — PASS`,
        );
      },
    );
    assert.deepEqual(counted.lost, [], "zero acknowledged messages lost");
    const masters = await brokersAccepting(info, masterPort(settings));
    assert.equal(masters.length, 1, `one master after the replacement: ${JSON.stringify(masters)}`);
    assert.notEqual(masters[0], target, "the blank host waits for the lock");
    const r = await sshRun(info, info.hosts[target - 1]!.address, "systemctl is-active activemq.service");
    assert.equal(r.stdout.trim(), "active", `node ${target}'s broker runs and waits`);
  });

  for (const [instanceType, stop] of [
    ["t3.large", "clean"],
    ["t3.xlarge", "power-loss"],
  ] as const) {
    it(`day 2: a new instanceType (${stop} stops) rolls the hosts one at a time as the providers play it, a master serving between nodes, nothing acknowledged lost`, async () => {
      const changed: StackSettings = { ...settings, instanceType };
      await rollInstanceType(
        cluster,
        buildPlan(changed),
        facts,
        state,
        changed,
        stop,
        figures,
        probeClasspath(),
      );
      await theMaster(info, masterPort(settings));
      for (const h of info.hosts) {
        const r = await sshRun(info, h.address, "systemctl is-active activemq.service");
        assert.equal(r.stdout.trim(), "active", `node ${h.index}'s broker runs`);
      }
      settings = changed;
      plan = buildPlan(changed);
    });
  }

  it("day 2: two instances replaced in one update are rebuilt one after the other, a master serving, nothing acknowledged lost", async () => {
    await replaceInstances(cluster, plan, facts, state, settings, [1, 2], figures, probeClasspath());
    await theMaster(info, masterPort(settings));
  });

  it(`failover: no acknowledged message lost over ${ROUNDS} master power-offs`, async () => {
    const result = await failoverRounds(info, settings, facts, probeClasspath(), {
      rounds: ROUNDS,
      figures,
      roundTimeoutMs: 60_000,
      standingBy: standingBy(settings),
    });
    assert.deepEqual(result.lost, [], "zero acknowledged messages lost");
    assert.equal(result.failoverMs.length, ROUNDS);
    guaranteeLine(faults(), "the master's host powered off", result, "recovers by itself");
  });

  it("partition: the master's link cut → clients cannot reach it and no second master appears; link back → one master", async () => {
    const [master] = await brokersAccepting(info, masterPort(settings));
    assert.ok(master);
    box("linkdown", String(master));
    try {
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const reachable = await brokersAccepting(info, masterPort(settings));
      assert.deepEqual(reachable, [], "no broker accepts clients while the lock holder is cut off");
      const listening = info.hosts
        .filter((h) => listensInside(h.index, masterPort(settings)))
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
      const m = await brokersAccepting(info, masterPort(settings));
      return m.length === 1 ? m : undefined;
    }, 30_000);
    assert.deepEqual(after, [master]);
  });

  // The fault matrix (test/e2e/lib/fault-matrix.ts): nothing acknowledged may be lost in this mode.
  it("faults: the master cut off from its peers but not its clients → it keeps the lock and serves, never two masters, nothing lost", async () => {
    await masterCutFromPeers(faults(), 1, 30_000, 5_000);
  });

  it("faults: two of three hosts powered off, the master among them → the host left serves; back one at a time, nothing lost", async () => {
    await twoOfThreeLost(faults());
  });

  it("faults: every host powered off, then on → the group comes back by itself with every acknowledged message", async () => {
    await everyHostLost(faults(), 10_000);
  });
});

// Cluster-in-a-box, replicated-leveldb mode: the program's own provisioning plan on three real Debian 12 hosts
// (systemd-nspawn, one network namespace each, a private bridge), downloading from a local mirror.
// ZooKeeper is built from Debian's packages at test time. The broker checks need a 5.16.x distribution:
// E2E_ACTIVEMQ_DIST=/path/apache-activemq-5.16.8-bin.tar.gz and E2E_MAVEN_DIR=<dir in Maven layout holding the
// extra jars of lib/plan.ts LEVELDB_EXTRA_JARS>; without them those checks are skipped, and the summary says so.
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { ClusterFacts } from "../../lib/facts";
import { zookeeperHome } from "../../lib/layout";
import { buildPlan, PlanStep } from "../../lib/plan";
import { StackSettings } from "../../lib/settings";
import { box, BoxInfo, boxUp, sshRun, waitFor } from "./lib/box";
import {
  assertForeignHostRefused,
  assertPlanChangesNothing,
  assertRollingRestart,
  boxFacts,
  boxSettings,
  brokersAccepting,
  buildProbe,
  changedSteps,
  extraSettings,
  failoverRounds,
  Figures,
  MIRROR,
  pinnedSigner,
  closeSigners,
  publishTampered,
  standingBy,
  zookeeperMode,
  resetBox,
  unpackDist,
  theMaster,
  withCountingClient,
  WORK,
} from "./lib/cluster-box";
import { boxHosts, replaceAndRebuild, replaceInstances, rollInstanceType } from "./lib/host-changes";
import { assertTlsOnMaster } from "./lib/tls-checks";
import { masterPort, tlsOn } from "../../lib/tls";
import { BoxCluster, runPlan, StepFailed, StepState } from "./lib/executor";
import {
  everyHostLost,
  FaultContext,
  guaranteeLine,
  masterCutFromPeers,
  promotionUnderZookeeperLoss,
  RECOVERY_BOUND_MS,
  twoOfThreeLost,
  watchdogRestarts,
  zookeeperLeaderLost,
} from "./lib/fault-matrix";
import {
  buildDebianActiveMq,
  DEBIAN_ZOOKEEPER,
  debianZookeeperSettings,
  publishDebianZookeeper,
  publishLevelDbDistribution,
  suppliedLevelDbDistribution,
} from "./lib/artifacts";

const ZOOKEEPER_VERSION = DEBIAN_ZOOKEEPER;
const ROUNDS = Number(process.env.E2E_ROUNDS ?? "5");
const levelDb = suppliedLevelDbDistribution();
const brokerSkip = levelDb
  ? false
  : "no ActiveMQ 5.16.x distribution given (set E2E_ACTIVEMQ_DIST and E2E_MAVEN_DIR): broker checks NOT run";
const amqVersion = levelDb?.version;

let rawSettings: Record<string, string> = {};
const figures = new Figures();
let cluster: BoxCluster;
/** What the stack's state holds: the inputs each step last ran with (the executor decides like `pulumi up`). */
const state = new StepState();
let info: BoxInfo;
let settings: StackSettings;
let facts: ClusterFacts;
let plan: PlanStep[];
/** The hosts and ZooKeeper: what the first phase provisions before any broker (or its monitor) exists. */
const isZookeeperPhase = (s: PlanStep) =>
  ["host-ready", "jdk"].includes(s.action) || s.action.startsWith("zookeeper-");

function stepTimer(label: string) {
  return ({ step, result }: { step: PlanStep; result: { seconds: number; code: number } }) =>
    figures.add(
      `${label} ${step.id}: ${result.seconds.toFixed(1)} s${result.code === 0 ? "" : ` (exit ${result.code})`}`,
    );
}

async function zkModes(): Promise<Map<number, string>> {
  const modes = new Map<number, string>();
  for (const h of info.hosts) {
    modes.set(h.index, await zookeeperMode(info, h.address));
  }
  return modes;
}

let classpath: string[] | undefined;
/** The group as the fault matrix plays it. */
const faults = (): FaultContext => ({
  info,
  settings,
  facts,
  classpath: probeClasspath(),
  figures,
});
/** The failover client, compiled once against the broker distribution. */
/**
 * The client as users meet it: a current client library (Debian's ActiveMQ, as `npm run bench` uses), not the
 * brokers' 5.16.8 one, whose failover transport waits 10 s more after a silent death (README, Connecting).
 */
function probeClasspath(): string[] {
  classpath ??= buildProbe(unpackDist(buildDebianActiveMq()));
  return classpath;
}

const leaders = (modes: Map<number, string>) => [...modes].filter(([, m]) => m === "leader").map(([n]) => n);

describe("cluster-in-a-box: replicated-leveldb", { concurrency: 1 }, () => {
  before(() => {
    resetBox();
    let t = Date.now();
    const zookeeper = publishDebianZookeeper();
    publishTampered(zookeeper, `zookeeper/zookeeper-${ZOOKEEPER_VERSION}`);
    if (levelDb) {
      publishLevelDbDistribution(levelDb);
    }
    rawSettings = {
      ...debianZookeeperSettings(),
      ...(amqVersion ? { activemqVersion: amqVersion } : {}),
      ...pinnedSigner(),
      ...extraSettings(),
    };
    figures.add(`artifacts ready: ${((Date.now() - t) / 1000).toFixed(1)} s`);
    t = Date.now();
    cluster = BoxCluster.up(3, path.join(WORK, "host-keys"), boxUp);
    info = cluster.info;
    figures.add(`hosts up (rootfs + boot of 3 hosts): ${((Date.now() - t) / 1000).toFixed(1)} s`);
    box("mirror", MIRROR);
    settings = boxSettings(info, rawSettings);
    facts = boxFacts(info);
    plan = buildPlan(settings);
  });

  after(() => {
    figures.print(`cluster-in-a-box summary (replicated-leveldb${brokerSkip ? "; " + brokerSkip : ""})`);
    closeSigners();
    if (!process.env.E2E_KEEP) {
      box("down");
    }
  });

  for (const [kind, refusal] of [
    [
      "forged",
      /apache-zookeeper-3\.8\.0-bin\.tar\.gz is signed by key [0-9A-F]{40}, which is not a pinned release key/,
    ],
    ["corrupt", /checksum mismatch for apache-zookeeper-3\.8\.0-bin\.tar\.gz/],
  ] as const) {
    it(`tampered artifact (${kind}): refused with a clear message, nothing installed or running`, async () => {
      const tamperedSettings = boxSettings(info, {
        ...rawSettings,
        artifactBaseUrl: `http://${info.bridgeAddress}:8080/${kind}`,
      });
      const steps = buildPlan(tamperedSettings).filter(
        (s) => s.node === 1 && ["host-ready", "jdk", "zookeeper-install"].includes(s.action),
      );
      const error = await runPlan(steps, facts, cluster).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof StepFailed, "the install step must fail");
      assert.equal(error.run.step.action, "zookeeper-install");
      assert.match(error.run.result.stderr, refusal);
      assert.match(error.run.result.stderr, /Nothing was installed/);
      const host = info.hosts[0]!.address;
      const left = await sshRun(
        info,
        host,
        `ls -d ${zookeeperHome(ZOOKEEPER_VERSION)} /opt/zookeeper 2>&1; systemctl is-active zookeeper.service`,
      );
      assert.match(left.stdout, /No such file or directory[\s\S]*No such file or directory/);
      assert.match(left.stdout, /^inactive$/m);
      figures.add(
        `tampered artifact (${kind}): install refused, nothing installed, no service running — PASS`,
      );
    });
  }

  it("provisions the ZooKeeper ensemble with the program's own plan", async () => {
    const runs = await runPlan(plan.filter(isZookeeperPhase), facts, cluster, {
      state,
      plan,
      // The instances and their rejoin steps are created too: a rejoin step on a group that serves nothing yet
      // has nothing to wait for.
      hosts: boxHosts(settings),
      onStep: stepTimer("step"),
    });
    // The first run changes every host, and says so: the idempotency check relies on that mark.
    assert.ok(changedSteps(runs).includes("n1-zookeeper-configure"), changedSteps(runs).join(", "));
  });

  it("ZooKeeper: active as user zookeeper everywhere, exactly one leader, myid matches server.N, data replicates", async () => {
    for (const h of info.hosts) {
      const ask = async (command: string) => (await sshRun(info, h.address, `sudo ${command}`)).stdout.trim();
      assert.equal(
        await ask("systemctl is-active zookeeper.service"),
        "active",
        `zookeeper on node ${h.index}`,
      );
      const pid = await ask("systemctl show -p MainPID --value zookeeper.service");
      assert.equal(await ask(`ps -o user= -p ${pid}`), "zookeeper");
      const myid = await ask("cat /var/lib/zookeeper/myid");
      assert.equal(myid, String(h.index));
      const servers = (await ask("grep '^server\\.' /etc/zookeeper/zoo.cfg")).split("\n");
      assert.ok(
        servers.includes(`server.${myid}=${h.address}:2888:3888`),
        `server.${myid} names ${h.address}`,
      );
      assert.equal(servers.length, 3);
    }
    const modes = await zkModes();
    assert.equal(leaders(modes).length, 1, `modes: ${JSON.stringify([...modes])}`);
    assert.equal([...modes.values()].filter((m) => m === "follower").length, 2);
    const zkCli = (address: string, args: string) =>
      sshRun(
        info,
        address,
        `java -cp '/opt/zookeeper/lib/*' org.apache.zookeeper.ZooKeeperMain -server 127.0.0.1:2181 ${args} 2>&1`,
      );
    const value = `written-on-node-1-${Date.now()}`;
    await zkCli(info.hosts[0]!.address, `create /e2e-probe ${value}`);
    const read = await zkCli(info.hosts[2]!.address, "get /e2e-probe");
    assert.match(read.stdout, new RegExp(value), "a znode written on node 1 is read on node 3");
    figures.add(`ZooKeeper: ${JSON.stringify(Object.fromEntries(modes))}; znode replicated — PASS`);
  });

  it("ZooKeeper fault: the leader's host powered off → a new leader; powered on → it rejoins as follower", async () => {
    const [leader] = leaders(await zkModes());
    assert.ok(leader);
    const t = Date.now();
    box("poweroff", String(leader));
    const others = info.hosts.filter((h) => h.index !== leader);
    const newLeader = await waitFor(
      async () => {
        for (const h of others) {
          if ((await zookeeperMode(info, h.address)) === "leader") {
            return h.index;
          }
        }
        return undefined;
      },
      60_000,
      100,
    );
    assert.ok(newLeader, "a new leader within 60 s");
    figures.add(
      `ZooKeeper leader node ${leader} powered off: node ${newLeader} leads after ${((Date.now() - t) / 1000).toFixed(1)} s`,
    );
    const t2 = Date.now();
    box("poweron", String(leader));
    const back = await waitFor(
      async () => {
        return (await zookeeperMode(info, info.hosts[leader - 1]!.address)) === "follower" ? true : undefined;
      },
      120_000,
      500,
    );
    assert.ok(back, `node ${leader} rejoins as follower within 120 s`);
    figures.add(
      `node ${leader} powered on: follower again after ${((Date.now() - t2) / 1000).toFixed(1)} s — PASS`,
    );
  });

  it(
    "brokers: the plan starts one master accepting clients, the others replicate as slaves",
    { skip: brokerSkip },
    async () => {
      await runPlan(
        plan.filter((s) => !isZookeeperPhase(s)),
        facts,
        cluster,
        { state, plan, onStep: stepTimer("step") },
      );
      const masters = await brokersAccepting(info, masterPort(settings));
      assert.equal(masters.length, 1, `accepting: ${JSON.stringify(masters)}`);
      for (const h of info.hosts.filter((x) => x.index !== masters[0])) {
        const r = await sshRun(
          info,
          h.address,
          `ss -Htn state established '( dport = :${settings.ports.replication} )'`,
        );
        assert.match(
          r.stdout,
          // ss shows IPv4 peers of a dual-stack socket as [::ffff:a.b.c.d].
          new RegExp(
            `${info.hosts[masters[0]! - 1]!.address.replace(/\./g, "\\.")}\\]?:${settings.ports.replication}\\b`,
          ),
          `node ${h.index} replicates from the master`,
        );
      }
      figures.add(`brokers: master node ${masters[0]}, slaves replicating — PASS`);
    },
  );

  it(
    "TLS: only a client that trusts the stack's CA and presents its client certificate gets past the handshake",
    { skip: brokerSkip },
    async (t) => {
      if (!tlsOn(settings)) {
        t.skip(`clientTransport ${settings.tls.transport}: no TLS port`);
        return;
      }
      figures.add(`${await assertTlsOnMaster(cluster, settings)} — PASS`);
    },
  );

  it("idempotency: running the whole plan again changes and restarts nothing", async () => {
    const units = brokerSkip ? ["zookeeper.service"] : ["zookeeper.service", "activemq.service"];
    const steps = await assertPlanChangesNothing(
      cluster,
      brokerSkip ? plan.filter(isZookeeperPhase) : plan,
      facts,
      units,
      state,
    );
    figures.add(`idempotency: ${steps} steps re-run, nothing changed, no restart — PASS`);
  });

  it("a changed zoo.cfg setting restarts ZooKeeper one host at a time, the leader last", async () => {
    const [leader] = leaders(await zkModes());
    assert.ok(leader);
    const changed = boxSettings(info, { ...rawSettings, zookeeperSyncLimit: "3" });
    const steps = buildPlan(changed).filter((s) => isZookeeperPhase(s) || !brokerSkip);
    const rolled = ["configure", "settle"].flatMap((a) => [1, 2, 3].map((n) => `n${n}-zookeeper-${a}`));
    // With brokers, a ZooKeeper change also re-checks (and, if stuck, heals) their election, and the gate.
    const brokerChecks = brokerSkip
      ? []
      : [...[1, 2, 3].map((n) => `n${n}-activemq-settle`), "n3-activemq-gate"];
    const healed: string[] = [];
    const order = await assertRollingRestart(
      cluster,
      steps,
      facts,
      "zookeeper.service",
      leader,
      state,
      [...rolled, "n3-zookeeper-gate", ...brokerChecks],
      (run) => {
        if (run.step.action === "activemq-settle" && changedSteps([run]).length > 0) {
          healed.push(run.step.id);
        }
      },
    );
    const modes = await zkModes();
    assert.equal(
      leaders(modes).length,
      1,
      `one leader after the rolling restart: ${JSON.stringify([...modes])}`,
    );
    if (!brokerSkip) {
      await theMaster(info, masterPort(settings));
      figures.add(
        `rolling restart (zoo.cfg changed): the brokers' election ${healed.length ? `was stuck and healed by ${healed.join(", ")}` : "held"}; one master serves — PASS`,
      );
    }
    settings = changed;
    plan = buildPlan(changed);
    figures.add(
      `rolling restart (zoo.cfg changed): order ${order.join(", ")}, leader node ${leader} last — PASS`,
    );
  });

  it("day 2: a host presenting another key is refused; a node's host replaced by a blank one is rebuilt by the next `pulumi up`", async () => {
    const steps = brokerSkip ? plan.filter(isZookeeperPhase) : plan;
    // With brokers, the master's host is the one that dies, while a client keeps sending.
    const target = brokerSkip ? 2 : await theMaster(info, masterPort(settings));
    const replaceTarget = async () => {
      const refusal = await assertForeignHostRefused(cluster, steps, facts, state, target);
      figures.add(
        `host key: node ${target} replaced by a host with another key → refused at n${target}-host-ready, nothing sent ("${refusal}") — PASS`,
      );
      const { ran } = await replaceAndRebuild(cluster, steps, facts, state, settings, target);
      figures.add(
        `replacement: node ${target} rebuilt by the next run, which ran only ${ran.length} steps: ${ran.join(", ")} — PASS`,
      );
    };
    if (brokerSkip) {
      await replaceTarget();
    } else {
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
          await replaceTarget();
        },
      );
      assert.equal(counted.failoverMs.length, 1);
      const masters = await brokersAccepting(info, masterPort(settings));
      assert.equal(masters.length, 1, `one master after the replacement: ${JSON.stringify(masters)}`);
      assert.notEqual(masters[0], target, "the blank host joined as a slave");
      const replicating = await sshRun(
        info,
        info.hosts[target - 1]!.address,
        `ss -Htn state established '( dport = :${settings.ports.replication} )'`,
      );
      assert.match(
        replicating.stdout,
        new RegExp(`:${settings.ports.replication}\\b`),
        `node ${target} replicates from the master`,
      );
    }
    const modes = await zkModes();
    assert.equal(leaders(modes).length, 1, `one leader: ${JSON.stringify([...modes])}`);
    assert.match(modes.get(target) ?? "", /^(leader|follower)$/, `node ${target} is a member again`);
    const address = info.hosts[target - 1]!.address;
    assert.equal(
      (await sshRun(info, address, "sudo cat /var/lib/zookeeper/myid")).stdout.trim(),
      String(target),
    );
    const read = await sshRun(
      info,
      address,
      "java -cp '/opt/zookeeper/lib/*' org.apache.zookeeper.ZooKeeperMain -server 127.0.0.1:2181 get /e2e-probe 2>&1",
    );
    assert.match(read.stdout, /written-on-node-1-/, `node ${target} has the ensemble's data again`);
    figures.add(
      `replacement: node ${target} is ZooKeeper ${modes.get(target)} with myid ${target} and the ensemble's data — PASS`,
    );
  });

  for (const [instanceType, stop] of [
    ["t3.large", "clean"],
    ["t3.xlarge", "power-loss"],
  ] as const) {
    it(`day 2: a new instanceType (${stop} stops) rolls the hosts one at a time as the providers play it, each back and caught up before the next, a master serving, at most the send in flight lost per master change`, async () => {
      const changed: StackSettings = { ...settings, instanceType };
      const steps = brokerSkip ? buildPlan(changed).filter(isZookeeperPhase) : buildPlan(changed);
      await rollInstanceType(
        cluster,
        steps,
        facts,
        state,
        changed,
        stop,
        figures,
        brokerSkip ? undefined : probeClasspath(),
      );
      const modes = await zkModes();
      assert.equal(leaders(modes).length, 1, `one leader: ${JSON.stringify([...modes])}`);
      assert.ok(
        [...modes.values()].every((m) => m === "leader" || m === "follower"),
        "all members",
      );
      if (!brokerSkip) {
        await theMaster(info, masterPort(settings));
      }
      settings = changed;
      plan = buildPlan(changed);
    });
  }

  it("day 2: two instances replaced in one update are rebuilt one after the other, each caught up before the next, at most the send in flight lost per master change", async () => {
    const steps = brokerSkip ? plan.filter(isZookeeperPhase) : plan;
    await replaceInstances(
      cluster,
      steps,
      facts,
      state,
      settings,
      [1, 2],
      figures,
      brokerSkip ? undefined : probeClasspath(),
    );
    const modes = await zkModes();
    assert.equal(leaders(modes).length, 1, `one leader: ${JSON.stringify([...modes])}`);
    if (!brokerSkip) {
      await theMaster(info, masterPort(settings));
    }
  });

  it(
    `failover: a client on failoverUrl keeps sending while the master's host dies, ${ROUNDS} rounds`,
    { skip: brokerSkip },
    async () => {
      const result = await failoverRounds(info, settings, facts, probeClasspath(), {
        rounds: ROUNDS,
        figures,
        roundTimeoutMs: 60_000,
        standingBy: standingBy(settings),
      });
      // Lost and duplicated messages are this store's measured weakness (NOTES): at most the send in flight.
      assert.equal(result.failoverMs.length, ROUNDS);
      assert.ok(result.lost.length <= ROUNDS, `lost ${result.lost.length}: at most one per master change`);
      guaranteeLine(faults(), "the master's host powered off", result, "recovers by itself");
    },
  );

  // The fault matrix (test/e2e/lib/fault-matrix.ts): at most the send in flight lost per master change (NOTES).
  it(
    "faults: the master cut off from its peers but not its clients, 3 times, healed each time → never two masters, one serves again by itself",
    { skip: brokerSkip },
    async () => {
      await masterCutFromPeers(faults(), 3, 30_000, 25_000);
    },
  );

  it(
    "faults: the ZooKeeper leader's host powered off while another host is master → a master serves throughout or again",
    { skip: brokerSkip },
    async () => {
      await zookeeperLeaderLost(faults());
    },
  );

  it(
    "faults: two of three hosts powered off → no broker serves without a quorum; a second host back → it resumes by itself",
    { skip: brokerSkip },
    async () => {
      await twoOfThreeLost(faults());
    },
  );

  it(
    "faults: every host powered off, then on → the group comes back by itself, the store intact",
    { skip: brokerSkip },
    async () => {
      await everyHostLost(faults(), 10_000);
    },
  );

  it(
    "a quick ZooKeeper roll under the brokers: a stuck election is healed by the election watchdog",
    { skip: brokerSkip },
    async () => {
      // Last, after the failover rounds (where the stuck election was seen by hand): ZooKeeper restarted host after host, each as soon as the previous one is back (faster than the plan's own
      // roll): what left 5.16.8's election stuck in 4 of 4 tries by hand.
      // Up to 3 rolls, until one leaves the election stuck, so the healing is exercised when the fault shows.
      const startedS = Math.floor(Date.now() / 1000);
      let serving: number[] | undefined;
      let rolls = 0;
      do {
        rolls += 1;
        const [leader] = leaders(await zkModes());
        const order = [...info.hosts.map((h) => h.index).filter((n) => n !== leader), leader as number];
        for (const n of order) {
          await sshRun(
            info,
            info.hosts[n - 1]!.address,
            "sudo systemctl restart zookeeper && for i in $(seq 60); do " +
              "(exec 3<>/dev/tcp/127.0.0.1/2181 && printf srvr >&3 && grep -qE 'Mode: (leader|follower)' <&3) " +
              "2>/dev/null && break; sleep 1; done",
          );
        }
        serving = await waitFor(async () => {
          const m = await brokersAccepting(info, masterPort(settings));
          return m.length === 1 ? m : undefined;
        }, 20_000);
      } while (serving !== undefined && rolls < 3);
      // The election watchdog on each host restarts a stuck group's brokers one at a time (fault-matrix.ts).
      const healed = await waitFor(async () => {
        const m = await brokersAccepting(info, masterPort(settings));
        return m.length === 1 ? m : undefined;
      }, RECOVERY_BOUND_MS);
      assert.ok(healed, `one broker serves again within ${RECOVERY_BOUND_MS / 1000} s`);
      const restartedBy = await watchdogRestarts(info, startedS);
      figures.add(
        `quick ZooKeeper rolls: ${rolls}, ${serving ? "the election held every time" : "after the last no broker served for 20 s (stuck election)"}; ` +
          `the election watchdog restarted ${restartedBy.length ? restartedBy.join("; ") : "nothing"}; one master serves — PASS`,
      );
    },
  );

  it(
    "a stuck-election trigger: ZooKeeper connections lost while a slave is promoted → one broker serves again by itself",
    { skip: brokerSkip },
    async () => {
      await promotionUnderZookeeperLoss(faults());
    },
  );
});

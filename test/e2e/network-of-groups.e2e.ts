// Cluster-in-a-box, a network of HA groups (groups: 2): six real Debian 12 hosts as two groups of three, each
// provisioned with its own plan, in each mode. A producer and a consumer on each group count every message across
// the bridges in both directions while B's master, A's master, all of B and all of A lose power, silently.
// shared-kahadb runs on Debian's ActiveMQ; replicated-leveldb needs a supplied 5.16.x distribution
// (E2E_ACTIVEMQ_DIST, E2E_MAVEN_DIR, as test/e2e/replicated-leveldb.e2e.ts) and is skipped without one.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { SHARED_STORE } from "../../lib/layout";
import { RawSettings } from "../../lib/settings";
import { masterPort } from "../../lib/tls";
import {
  buildDebianActiveMq,
  debianZookeeperSettings,
  debianActiveMqSettings,
  publishDebianActiveMq,
  publishDebianZookeeper,
  publishLevelDbDistribution,
  suppliedLevelDbDistribution,
} from "./lib/artifacts";
import { box, boxUp, sleep, sshRun, waitFor } from "./lib/box";
import {
  buildProbe,
  closeSigners,
  extraSettings,
  Figures,
  MIRROR,
  pinnedSigner,
  powerOnStandingBy,
  resetBox,
  unpackDist,
  WORK,
  standingBy,
} from "./lib/cluster-box";
import { BoxCluster, runPlan } from "./lib/executor";
import { RECOVERY_BOUND_MS } from "./lib/fault-matrix";
import {
  BoxGroup,
  boxGroups,
  connectionsOn,
  groupMaster,
  groupMasters,
  monitorGet,
  samples,
  runStatus,
  statusMasters,
  withBridgedClients,
} from "./lib/groups-box";

const GROUP_SIZE = 3;
/**
 * How soon after a master's silent death both directions deliver again: the client's and the bridges' dead-peer
 * bound (2 × failoverMaxInactivityMs), the election, and a bridge's reconnect pause, with room to spare.
 */
const BRIDGE_BOUND_MS = 60_000;
/** Six hosts on a 2-core, 24 GiB machine: a quarter of the default heaps (settings, as any stack may set them). */
const SMALL_HEAPS = { brokerHeapMb: "512", zookeeperHeapMb: "256" };
/** The outer machine's address on the box's bridge: where a monitoring server would poll from. */
const MONITORING_CIDR = "10.88.0.1/32";

/** What differs between the modes: the artifacts, the settings, and how a rejoined node shows it stands by. */
interface Mode {
  readonly haMode: "shared-kahadb" | "replicated-leveldb";
  readonly skip: string | false;
  /** Publishes the mode's artifacts on the mirror; returns the broker tarball the client compiles against. */
  prepare(): string;
  readonly settings: () => RawSettings;
  /** The shared store's outer directory (one subdirectory per group), for shared-kahadb. */
  readonly sharedDir?: string;
  /** Whether every acknowledged message must arrive: the replicated store loses a few on failover (NOTES). */
  readonly noLoss: boolean;
}

const levelDb = suppliedLevelDbDistribution();
const MODES: Mode[] = [
  {
    haMode: "shared-kahadb",
    skip: false,
    prepare: publishDebianActiveMq,
    settings: debianActiveMqSettings,
    sharedDir: path.join(WORK, "shared-store-groups"),
    noLoss: true,
  },
  {
    haMode: "replicated-leveldb",
    skip: levelDb
      ? false
      : "no ActiveMQ 5.16.x distribution given (set E2E_ACTIVEMQ_DIST and E2E_MAVEN_DIR): NOT run",
    prepare: () => {
      publishDebianZookeeper();
      publishLevelDbDistribution(levelDb!);
      // The client as users meet it: a current client library, as in the replicated-leveldb suite.
      return buildDebianActiveMq();
    },
    settings: () => ({ ...debianZookeeperSettings(), activemqVersion: levelDb!.version }),
    noLoss: false,
  },
];

for (const mode of MODES) {
  describe(
    `cluster-in-a-box: network of 2 HA groups, ${mode.haMode}`,
    { concurrency: 1, skip: mode.skip },
    () => {
      const figures = new Figures();
      let groups: BoxGroup[] = [];
      let classpath: string[] = [];
      const groupOf = (g: number) => groups[g - 1] as BoxGroup;

      before(() => {
        resetBox();
        let t = Date.now();
        const tarball = mode.prepare();
        figures.add(`artifacts ready: ${((Date.now() - t) / 1000).toFixed(1)} s`);
        if (mode.sharedDir) {
          rmSync(mode.sharedDir, { recursive: true, force: true });
          mkdirSync(mode.sharedDir, { recursive: true });
          // Each group mounts a directory of its own, as each group of the stack has its own file system.
          process.env.BOX_SHARED_DIR = mode.sharedDir;
          process.env.BOX_SHARED_MOUNT = SHARED_STORE.mountPoint;
          process.env.BOX_SHARED_GROUP_SIZE = String(GROUP_SIZE);
        }
        t = Date.now();
        const whole = BoxCluster.up(2 * GROUP_SIZE, path.join(WORK, "host-keys"), boxUp);
        figures.add(`hosts up (6): ${((Date.now() - t) / 1000).toFixed(1)} s`);
        box("mirror", MIRROR);
        groups = boxGroups(
          whole,
          {
            ...mode.settings(),
            groups: "2",
            // The outer machine plays the monitoring server: the node exporters run.
            monitoringCidrs: MONITORING_CIDR,
            ...SMALL_HEAPS,
            ...pinnedSigner(),
            ...extraSettings(),
          },
          GROUP_SIZE,
          mode.sharedDir ? "shared-store.box" : undefined,
        );
        classpath = buildProbe(unpackDist(tarball));
      });

      after(() => {
        figures.print(`cluster-in-a-box summary (network of 2 HA groups, ${mode.haMode})`);
        closeSigners();
        delete process.env.BOX_SHARED_DIR;
        delete process.env.BOX_SHARED_MOUNT;
        delete process.env.BOX_SHARED_GROUP_SIZE;
        if (!process.env.E2E_KEEP) {
          box("down");
        }
      });

      it("provisions both groups at once, each with its own plan: one master in each group, each group's election on its own hosts", async () => {
        const t = Date.now();
        const runs = await Promise.all(
          groups.map((g) => runPlan(g.plan, g.facts, g.cluster, { state: g.state })),
        );
        const wall = (Date.now() - t) / 1000;
        // One host's own steps, end to end: what a first deployment costs at the least.
        const ownSteps = (runs[0] ?? [])
          .filter((r) => r.step.node === 1 && !r.step.action.endsWith("-gate"))
          .reduce((sum, r) => sum + r.result.seconds, 0);
        figures.add(
          `both groups provisioned at once (first deployment: every host configures at once): ${wall.toFixed(1)} s; ` +
            `node 1's own steps add up to ${ownSteps.toFixed(1)} s (six hosts at once on the box's cores)`,
        );
        for (const g of groups) {
          const master = await groupMaster(g);
          assert.deepEqual(await groupMasters(g), [master], `${g.brokerName}: exactly one broker serves`);
          const own = g.cluster.info.hosts.map((h) => h.address);
          if (mode.haMode === "replicated-leveldb") {
            for (const h of g.cluster.info.hosts) {
              const r = await sshRun(g.cluster.info, h.address, "grep '^server\\.' /etc/zookeeper/zoo.cfg");
              const servers = r.stdout.trim().split("\n");
              assert.deepEqual(
                servers.map((l) => /=([\d.]+):/.exec(l)?.[1]),
                own,
                `host ${h.index}'s ensemble is its own group's hosts`,
              );
            }
          } else {
            assert.ok(
              existsSync(path.join(mode.sharedDir as string, `g${g.index}`, "kahadb", "lock")),
              `${g.brokerName}'s KahaDB lock is on its own file system`,
            );
          }
          figures.add(
            `${g.brokerName}: master on host ${master} (hosts ${g.cluster.hostOf(1)}–${g.cluster.hostOf(own.length)}), its own ${mode.haMode === "replicated-leveldb" ? "ZooKeeper ensemble" : "shared store"} — PASS`,
          );
        }
      });

      it("npm run status, given the stack's outputs for these hosts: one master per group, where the box sees it; exit status 0", async () => {
        const run = await runStatus(groups);
        assert.equal(run.code, 0, `${run.stderr}\n${JSON.stringify(run.problems)}`);
        for (const g of groups) {
          const master = g.cluster.nodeOf(await groupMaster(g));
          assert.deepEqual(statusMasters(run, g), [master], `${g.brokerName}'s master`);
          assert.deepEqual(
            run.rows.filter((r) => r.group === g.brokerName && r.node !== master).map((r) => r.status.broker),
            ["slave", "slave"],
          );
        }
        // The monitor's figures: every broker JVM's heap (the box's brokerHeapMb), and each master's queues.
        for (const row of run.rows) {
          assert.equal(
            row.status.heapMaxMb,
            Number(SMALL_HEAPS.brokerHeapMb),
            `${row.group} node ${row.node}'s heap`,
          );
          if (row.status.broker === "master") {
            assert.equal(row.status.dlqDepth, 0, `${row.group} node ${row.node}: an empty DLQ`);
          }
        }
        figures.add(
          `npm run status: ${groups.map((g) => `${g.brokerName} master node ${statusMasters(run, g).join(",")}`).join("; ")}, ` +
            `heaps ${run.rows.map((r) => `${r.status.heapUsedMb}/${r.status.heapMaxMb}M`).join(" ")}, exit 0 — PASS`,
        );
      });

      it("host monitors: /health/master 200 on exactly one host per group (its master), /health/group 200 on every host", async () => {
        for (const g of groups) {
          const master = await groupMaster(g);
          const hosts = g.cluster.info.hosts.map((h) => h.index);
          const answers = await Promise.all(hosts.map((h) => monitorGet(g, h, "/health/master")));
          assert.deepEqual(
            answers.map((a) => a.code),
            hosts.map((h) => (h === master ? 200 : 503)),
            `${g.brokerName}: 200 from master host ${master} only`,
          );
          const group = await Promise.all(hosts.map((h) => monitorGet(g, h, "/health/group")));
          assert.deepEqual(
            group.map((a) => a.code),
            hosts.map(() => 200),
            group.map((a) => a.body).join(""),
          );
          figures.add(
            `health: ${g.brokerName} /health/master ${answers.map((a) => a.code).join(",")}; /health/group ${group.map((a) => a.code).join(",")} — PASS`,
          );
        }
      });

      it("bridges: each group's master dials the other group's master on the client port, and nothing else between the groups", async () => {
        const port = masterPort(groupOf(1).settings);
        for (const [self, other] of [
          [groupOf(1), groupOf(2)],
          [groupOf(2), groupOf(1)],
        ] as const) {
          const master = await groupMaster(self);
          const peer = other.cluster.address(other.cluster.nodeOf(await groupMaster(other)));
          // Two connectors to each peer (queues, topics): two connections, made within a few reconnect delays.
          const dialled = await waitFor(async () => {
            const c = await connectionsOn(self, master, port);
            return c.outbound.filter((a) => a === peer).length === 2 ? c : undefined;
          }, 60_000);
          assert.ok(
            dialled,
            `${self.brokerName}'s master holds two bridge connections to ${other.brokerName}'s master ${peer}`,
          );
          const others = other.cluster.info.hosts.map((h) => h.address);
          assert.deepEqual(
            dialled.outbound.filter((a) => others.includes(a)).sort(),
            [peer, peer],
            `${self.brokerName} dials only ${other.brokerName}'s master`,
          );
          figures.add(
            `${self.brokerName} → ${other.brokerName}: 2 bridge connections from master host ${master} to ${peer}:${port} — PASS`,
          );
        }
      });

      it("both directions of the mesh: each group's master, then each whole group, die silently; the bridges follow, every acknowledged message is counted", async () => {
        const [a, b] = [groupOf(1), groupOf(2)];
        const standsBy = standingBy(a.settings);
        const counts = await withBridgedClients(
          [
            [a, b],
            [b, a],
          ],
          classpath,
          figures,
          "bridged",
          async (probe) => {
            // A master's silent death: its successor's bridge must take the client ID that the dead one still
            // holds on the other group (allowLinkStealing), and the other group's bridge must find the new master.
            for (const [dying, other] of [
              [b, a],
              [a, b],
            ] as const) {
              const master = await groupMaster(dying);
              box("poweroff", String(master));
              probe.fault();
              assert.ok(
                await probe.resumed(dying, 60_000),
                `${dying.brokerName}'s producer is acknowledged again after its master's host ${master} died`,
              );
              assert.ok(
                await probe.delivered(BRIDGE_BOUND_MS),
                `both consumers receive again within ${BRIDGE_BOUND_MS / 1000} s after ${dying.brokerName}'s master died`,
              );
              const successor = await groupMaster(dying);
              assert.notEqual(successor, master);
              if (dying === b) {
                const seen = await runStatus(groups);
                assert.deepEqual(
                  statusMasters(seen, b),
                  [b.cluster.nodeOf(successor)],
                  "status shows B's new master",
                );
                assert.equal(
                  seen.rows.find((r) => r.group === b.brokerName && r.node === b.cluster.nodeOf(master))
                    ?.status.broker,
                  "down",
                  "and B's old master down",
                );
              }
              figures.add(
                `${dying.brokerName}'s master host ${master} powered off (silently) → master ${successor}; the bridges ` +
                  `to and from ${other.brokerName} follow it — PASS`,
              );
              await powerOnStandingBy(dying.cluster.info, master, standsBy, dying.brokerName);
              await sleep(5000);
            }
            // A whole group dies: the other keeps serving its own clients, and what waits for the dead group is
            // delivered once it is back.
            for (const [dying, other] of [
              [b, a],
              [a, b],
            ] as const) {
              const hosts = dying.cluster.info.hosts.map((h) => h.index);
              hosts.forEach((h) => box("poweroff", String(h)));
              probe.fault();
              const before = probe.acknowledged(other);
              const outage = Date.now();
              if (dying === b) {
                const whileDown = await runStatus(groups);
                assert.equal(whileDown.code, 1, "status exits non-zero while a group has no master");
                assert.ok(
                  whileDown.problems.includes(`group ${b.brokerName}: no master (no broker accepts clients)`),
                  JSON.stringify(whileDown.problems),
                );
              }
              await sleep(Math.max(0, 15_000 - (Date.now() - outage)));
              const during = probe.acknowledged(other) - before;
              assert.ok(
                during >= 50,
                `${other.brokerName} keeps serving while ${dying.brokerName} is down: ${during} sends acknowledged in 15 s`,
              );
              for (const h of hosts) {
                box("poweron", String(h));
              }
              await groupMaster(dying, RECOVERY_BOUND_MS);
              assert.ok(
                await probe.delivered(180_000),
                `both consumers receive again once ${dying.brokerName} is back`,
              );
              figures.add(
                `all of ${dying.brokerName} powered off (silently) for 15 s: ${other.brokerName} acknowledged ${during} ` +
                  `sends meanwhile; ${dying.brokerName} back → the bridges deliver what waited — PASS`,
              );
              await sleep(5000);
            }
          },
        );
        for (const counted of counts) {
          if (mode.noLoss) {
            assert.deepEqual(counted.lost, [], `${counted.label}: zero acknowledged messages lost`);
          }
          // Replicated LevelDB's losses on failover and either store's redeliveries are reported, as in the
          // failover rounds.
          figures.add(
            `${counted.label} (${mode.haMode}): lost ${counted.lost.length}, duplicated ${counted.duplicated.length}; ` +
              `producer pauses ${counted.producerPauseMs.map((t) => (t === null ? "-" : (t / 1000).toFixed(2))).join(", ")} s; ` +
              `consumer pauses ${counted.deliveryPauseMs.map((t) => (t === null ? "-" : (t / 1000).toFixed(2))).join(", ")} s`,
          );
        }
        const counted = counts[0] as (typeof counts)[number];
        // What the monitors say about the traffic: A's master enqueued the producer's messages, B's master counts
        // the consumer; ZooKeeper (where deployed) reports its ensemble; the node exporters answer.
        for (const g of [a, b]) {
          const master = await groupMaster(g);
          const figuresOf = samples((await monitorGet(g, master, "/metrics")).body);
          const queue = `{destination="${counted.queue}"}`;
          assert.ok(
            (figuresOf.get(`activemq_queue_enqueue_count${queue}`) ?? 0) > 0,
            `${g.brokerName}: enqueue count`,
          );
          assert.ok(figuresOf.has(`activemq_queue_size${queue}`), `${g.brokerName}: queue size`);
          assert.equal(figuresOf.get("activemq_ha_broker_master"), 1);
          if (g.settings.zookeeper.deploy) {
            assert.equal(
              figuresOf.get("zookeeper_quorum_size"),
              GROUP_SIZE,
              `${g.brokerName}: ZooKeeper quorum size`,
            );
          }
          const host = g.cluster.address(g.cluster.nodeOf(master));
          const node = await fetch(`http://${host}:${g.settings.ports.nodeExporter}/metrics`, {
            signal: AbortSignal.timeout(10_000),
          }).then((r) => r.text());
          assert.ok(
            samples(node).has("node_load1"),
            `${g.brokerName}: the node exporter answers with node_load1`,
          );
          figures.add(
            `metrics: ${g.brokerName} master ${master}: enqueue_count ${figuresOf.get(`activemq_queue_enqueue_count${queue}`)}, ` +
              `queue_size ${figuresOf.get(`activemq_queue_size${queue}`)}, zookeeper_quorum_size ${figuresOf.get("zookeeper_quorum_size") ?? "-"}, node_load1 ${samples(node).get("node_load1")} — PASS`,
          );
        }
      });
    },
  );
}

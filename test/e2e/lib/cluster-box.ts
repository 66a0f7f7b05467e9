// What both end-to-end suites share: artifacts on the box's mirror, the settings and facts a box cluster is
// provisioned with, role probes, the failover client and the figures it yields.
import { execFileSync, spawn, ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { ClusterFacts } from "../../../lib/facts";
import { parseSettings, RawSettings, StackSettings } from "../../../lib/settings";
import { failoverUrl } from "../../../lib/urls";
import { box, BoxHost, BoxInfo, sshRun, sleep, waitFor } from "./box";
import { analyze } from "./failover-figures";
import { runPlan, StepRun } from "./executor";
import { PlanStep } from "../../../lib/plan";
import assert from "node:assert/strict";

export const REPO = path.resolve(__dirname, "..", "..", "..");
/** Work files of a run (gitignored): the mirror, the compiled client, the client's records. */
export const WORK = path.join(REPO, ".e2e");
export const MIRROR = path.join(WORK, "mirror");

/** Figures printed at the end, never asserted on (speed is measured, not tested). */
export class Figures {
  private readonly lines: string[] = [];
  add(line: string): void {
    this.lines.push(line);
    console.log(`# figure: ${line}`);
  }
  print(title: string): void {
    console.log(`\n==== ${title} ====\n${this.lines.join("\n")}\n`);
  }
}

export function sha512File(file: string): string {
  return createHash("sha512").update(readFileSync(file)).digest("hex");
}

/** Puts a release tarball on the mirror in the Apache dist layout, with its .sha512 beside it. */
export function publish(tarball: string, relativeDir: string): string {
  const dir = path.join(MIRROR, relativeDir);
  mkdirSync(dir, { recursive: true });
  const target = path.join(dir, path.basename(tarball));
  if (path.resolve(tarball) !== target) {
    copyFileSync(tarball, target);
  }
  writeFileSync(`${target}.sha512`, `${sha512File(target)}  ${path.basename(target)}\n`);
  return target;
}

/** A release tarball whose published checksum is wrong: the same bytes under `tampered/`, a .sha512 of zeros. */
export function publishTampered(tarball: string, relativeDir: string): void {
  const copy = publish(tarball, `tampered/${relativeDir}`);
  writeFileSync(`${copy}.sha512`, `${"0".repeat(128)}  ${path.basename(copy)}\n`);
}

/** Runs a build script of the e2e (test/e2e/...) with its output on this process's. */
export function runBuildScript(relativeScript: string, ...args: string[]): void {
  execFileSync("bash", [path.join(REPO, relativeScript), ...args], {
    stdio: ["ignore", "inherit", "inherit"],
  });
}

/** Starts from a clean box and an empty mirror directory; the box needs root. */
export function resetBox(): void {
  assert.equal(process.getuid?.(), 0, "the cluster-in-a-box needs root (network namespaces, systemd-nspawn)");
  box("down");
  rmSync(MIRROR, { recursive: true, force: true });
  mkdirSync(MIRROR, { recursive: true });
}

export function mirrorBaseUrl(info: BoxInfo): string {
  return `http://${info.bridgeAddress}:8080`;
}

/** Settings to try in a run: E2E_SETTINGS='{"zookeeperSyncLimit":"2"}' (names as in Pulumi.yaml). */
export function extraSettings(): Record<string, string> {
  const text = process.env.E2E_SETTINGS;
  return text ? (JSON.parse(text) as Record<string, string>) : {};
}

export function boxSettings(info: BoxInfo, extra: RawSettings): StackSettings {
  return parseSettings({
    artifactBaseUrl: mirrorBaseUrl(info),
    mavenBaseUrl: `${mirrorBaseUrl(info)}/maven`,
    sshCidrs: `${info.bridgeAddress}/32`,
    ...extra,
  });
}

export function boxFacts(info: BoxInfo, sharedStoreHost?: string): ClusterFacts {
  const secret = () => randomBytes(18).toString("base64url");
  return {
    nodes: info.hosts.map((h) => ({ index: h.index, privateIp: h.address })),
    secrets: { brokerPassword: secret(), consolePassword: secret(), replicationToken: secret() },
    ...(sharedStoreHost ? { sharedStoreHost } : {}),
  };
}

export function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** The nodes accepting on the OpenWire port right now. */
export async function brokersAccepting(info: BoxInfo, port: number): Promise<number[]> {
  const open = await Promise.all(info.hosts.map((h) => portOpen(h.address, port)));
  return info.hosts.filter((_, i) => open[i]).map((h) => h.index);
}

export async function serviceStartStamp(info: BoxInfo, address: string, unit: string): Promise<string> {
  const r = await sshRun(
    info,
    address,
    `systemctl show -p ActiveEnterTimestampMonotonic,MainPID --value ${unit}`,
  );
  return r.stdout.trim().replace(/\n/g, " ");
}

/** When each node's unit last became active (CLOCK_MONOTONIC µs, which all hosts of the box share). */
export async function activeSince(info: BoxInfo, unit: string): Promise<number[]> {
  return Promise.all(
    info.hosts.map(async (h) => {
      const r = await sshRun(
        info,
        h.address,
        `systemctl show -p ActiveEnterTimestampMonotonic --value ${unit}`,
      );
      return Number(r.stdout.trim());
    }),
  );
}

/** How a step reports a change it made to a host (log_change in scripts/lib/common.sh). */
const CHANGE_MARK = /^\[[^\]]+\] changed: /m;

/** The ids of the steps that reported a change. */
export function changedSteps(runs: readonly StepRun[]): string[] {
  return runs.filter((r) => CHANGE_MARK.test(r.result.stdout)).map((r) => r.step.id);
}

/**
 * Runs the whole plan again on a provisioned box and asserts that no step changed anything and no unit was
 * restarted. Returns how many steps ran.
 */
export async function assertPlanChangesNothing(
  info: BoxInfo,
  plan: readonly PlanStep[],
  facts: ClusterFacts,
  units: readonly string[],
): Promise<number> {
  const stamps = () =>
    Promise.all(info.hosts.flatMap((h) => units.map((u) => serviceStartStamp(info, h.address, u))));
  const before = await stamps();
  const runs = await runPlan(plan, facts, info);
  assert.deepEqual(await stamps(), before, "no service was restarted");
  assert.deepEqual(
    changedSteps(runs),
    [],
    `no step changed anything:\n${runs.map((r) => r.result.stdout.trim()).join("\n")}`,
  );
  return runs.length;
}

/**
 * Applies a changed plan and asserts the rolling restart: every node's unit restarted, the group's leader
 * (ZooKeeper leader, broker master) last. Returns the order in which the nodes restarted.
 */
export async function assertRollingRestart(
  info: BoxInfo,
  plan: readonly PlanStep[],
  facts: ClusterFacts,
  unit: string,
  leader: number,
): Promise<number[]> {
  const before = await activeSince(info, unit);
  await runPlan(plan, facts, info);
  const after = await activeSince(info, unit);
  after.forEach((t, i) => assert.ok(t > (before[i] as number), `node ${i + 1}'s ${unit} restarted`));
  const order = info.hosts
    .map((h) => h.index)
    .sort((a, b) => (after[a - 1] as number) - (after[b - 1] as number));
  assert.equal(
    order[order.length - 1],
    leader,
    `the leader (node ${leader}) restarts last; order ${order.join(", ")}`,
  );
  return order;
}

/** Compiles test/e2e/client/FailoverProbe.java against an unpacked broker distribution. */
export function buildProbe(distDir: string): string[] {
  const out = path.join(WORK, "client");
  mkdirSync(out, { recursive: true });
  const classpath = [`${distDir}/lib/*`, `${distDir}/lib/optional/*`];
  execFileSync("javac", [
    "-d",
    out,
    "-cp",
    classpath.join(":"),
    path.join(REPO, "test", "e2e", "client", "FailoverProbe.java"),
  ]);
  return [out, ...classpath];
}

export function unpackDist(tarball: string): string {
  const dir = path.join(WORK, "dist");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", dir]);
  const top = execFileSync("ls", [dir], { encoding: "utf8" }).trim().split("\n")[0] as string;
  return path.join(dir, top);
}

export interface FailoverRun {
  readonly rounds: number;
  readonly figures: Figures;
  /** The shell command that succeeds on a host once its broker stands by again after a power-on. */
  readonly standingBy: string;
  readonly roundTimeoutMs: number;
}

/**
 * A producer on the stack's failoverUrl sends persistent messages without pause while the master's host is
 * powered off, round after round; then every queue is drained and acknowledged sends are matched with
 * received messages. Returns the figures; throws when a round does not fail over within its bound.
 */
export async function failoverRounds(
  info: BoxInfo,
  settings: StackSettings,
  facts: ClusterFacts,
  classpath: string[],
  run: FailoverRun,
): Promise<{ lost: number[]; duplicated: number[]; failoverMs: (number | null)[] }> {
  const url = failoverUrl(
    settings,
    facts.nodes.map((n) => n.privateIp),
  );
  const state = path.join(WORK, `acks-${Date.now()}.log`);
  const received = path.join(WORK, `received-${Date.now()}.log`);
  const user = settings.activemq.brokerUser;
  const password = facts.secrets.brokerPassword;
  const java = (mode: string, file: string): ChildProcess =>
    spawn(
      "java",
      ["-cp", classpath.join(":"), "FailoverProbe", mode, url, user, password, "e2e.failover", file],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
  const ackLines = () =>
    existsSync(state)
      ? readFileSync(state, "utf8")
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => l.split(" ").map(Number) as [number, number])
      : [];

  const producer = java("send", state);
  let producerLog = "";
  producer.stderr?.on("data", (d: Buffer) => (producerLog += d.toString()));
  const kills: number[] = [];
  try {
    const started = await waitFor(async () => (ackLines().length >= 50 ? true : undefined), 60_000);
    if (!started) {
      throw new Error(`the producer got no acknowledgements within 60 s:\n${producerLog.slice(-2000)}`);
    }
    for (let round = 1; round <= run.rounds; round++) {
      const masters = await brokersAccepting(info, settings.ports.openwire);
      if (masters.length !== 1) {
        throw new Error(`round ${round}: expected one master, found ${JSON.stringify(masters)}`);
      }
      const master = masters[0] as number;
      box("poweroff", String(master));
      // The host is gone only once killMaster returns: acknowledgements until then came from the old master.
      const killAt = Date.now();
      kills.push(killAt);
      const resumed = await waitFor(async () => {
        const acks = ackLines();
        const last = acks[acks.length - 1];
        return last && acks.filter((a) => a[1] > killAt).length >= 5 ? true : undefined;
      }, run.roundTimeoutMs);
      if (!resumed) {
        const logs = await Promise.all(
          info.hosts.map(async (h) => {
            const r = await sshRun(info, h.address, "sudo tail -n 25 /var/log/activemq/activemq.out");
            return `--- node ${h.index} (${h.address}) ---\n${r.stdout}${r.stderr}`;
          }),
        );
        throw new Error(
          `round ${round}: the client did not resume within ${run.roundTimeoutMs} ms after node ${master} died\n` +
            logs.join("\n"),
        );
      }
      const newMaster = await brokersAccepting(info, settings.ports.openwire);
      run.figures.add(
        `round ${round}: master node ${master} powered off; new master ${JSON.stringify(newMaster)}`,
      );
      box("poweron", String(master));
      const address = (info.hosts[master - 1] as BoxHost).address;
      const back = await waitFor(
        async () => ((await sshRun(info, address, run.standingBy)).code === 0 ? true : undefined),
        180_000,
        1000,
      );
      if (!back) {
        throw new Error(`round ${round}: node ${master} did not stand by again within 180 s of its power-on`);
      }
      // Let the rejoined broker catch up before the next master dies.
      await sleep(5000);
    }
  } finally {
    writeFileSync(`${state}.stop`, "");
    await new Promise((resolve) => {
      const timer = setTimeout(() => {
        producer.kill("SIGKILL");
        resolve(undefined);
      }, 30_000);
      producer.once("exit", () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }
  const drain = java("drain", received);
  let drainLog = "";
  drain.stderr?.on("data", (d: Buffer) => (drainLog += d.toString()));
  const drainCode = await new Promise<number>((resolve) => drain.once("exit", (code) => resolve(code ?? -1)));
  if (drainCode !== 0) {
    throw new Error(`draining failed (exit ${drainCode}):\n${drainLog.slice(-2000)}`);
  }
  const acked = ackLines().map(([seq, at]) => ({ seq, at }));
  const got = readFileSync(received, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map(Number);
  const figures = analyze(acked, got, kills);
  // Sends per second while a master served: the whole run less the failover pauses.
  const gaps = figures.rounds.reduce((sum, r) => sum + (r.failoverMs ?? 0), 0);
  if (acked.length > 1) {
    const seconds =
      ((acked[acked.length - 1] as { at: number }).at - (acked[0] as { at: number }).at - gaps) / 1000;
    run.figures.add(
      `throughput: ${(acked.length / seconds).toFixed(0)} msg/s (one producer, synchronous persistent sends of ` +
        `small text messages, failover pauses excluded)`,
    );
  }
  figures.rounds.forEach((r, i) =>
    run.figures.add(
      `round ${i + 1}: failover ${r.failoverMs === null ? "none" : `${(r.failoverMs / 1000).toFixed(2)} s`} (last ack before the kill to first after)`,
    ),
  );
  const times = figures.rounds
    .map((r) => r.failoverMs)
    .filter((t): t is number => t !== null)
    .sort((a, b) => a - b);
  if (times.length > 0) {
    run.figures.add(
      `failover median ${(times[Math.floor(times.length / 2)]! / 1000).toFixed(2)} s, worst ${(times[times.length - 1]! / 1000).toFixed(2)} s over ${times.length} rounds`,
    );
  }
  run.figures.add(
    `messages: acknowledged ${figures.acknowledged}, received ${figures.received}, lost ${figures.lost.length}` +
      `${figures.lost.length ? ` (seq ${figures.lost.join(",")})` : ""}, duplicated ${figures.duplicated.length}`,
  );
  return {
    lost: figures.lost,
    duplicated: figures.duplicated,
    failoverMs: figures.rounds.map((r) => r.failoverMs),
  };
}

// What both end-to-end suites share: artifacts on the box's mirror, the settings and facts a box cluster is
// provisioned with, role probes, the failover client and the figures it yields.
import { execFileSync, spawn, ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { ClusterFacts, NodeCertificate, PeerGroup } from "../../../lib/facts";
import { parseSettings, RawSettings, StackSettings } from "../../../lib/settings";
import { masterPort } from "../../../lib/tls";
import { failoverUrl, preferredScheme } from "../../../lib/urls";
import {
  issueNodeCertificates,
  javaClientTls,
  makeTestPki,
  NodeCertificateUse,
  TestPki,
} from "../../support/certificates";
import { box, BoxInfo, sshRun, sleep, waitFor } from "./box";
import { Ack, analyze } from "./failover-figures";
import { BoxCluster, runPlan, StepFailed, StepRun, StepState } from "./executor";
import { ReleaseSigner } from "../../support/signing";
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

const signers = new Map<string, ReleaseSigner>();
/** A signing key of the e2e's, made once a run: "release manager" signs what the mirror serves, "mirror" forges. */
export function signer(role: "release manager" | "mirror"): ReleaseSigner {
  let key = signers.get(role);
  if (key === undefined) {
    key = ReleaseSigner.create(path.join(WORK, "gnupg", role.replace(" ", "-")), `e2e ${role}`);
    signers.set(role, key);
  }
  return key;
}

/** Stops the gpg agents of the run's signing keys. */
export function closeSigners(): void {
  signers.forEach((key) => key.close());
  signers.clear();
}

/**
 * Puts a release tarball on the mirror in the Apache dist layout: its .sha512 and its .asc (by `by`) beside it,
 * and the KEYS file with `keys` one folder up, where lib/plan.ts artifactUrls looks for it.
 */
export function publish(
  tarball: string,
  relativeDir: string,
  by: ReleaseSigner = signer("release manager"),
  keys: readonly ReleaseSigner[] = [by],
): string {
  const dir = path.join(MIRROR, relativeDir);
  mkdirSync(dir, { recursive: true });
  const target = path.join(dir, path.basename(tarball));
  if (path.resolve(tarball) !== target) {
    copyFileSync(tarball, target);
  }
  writeFileSync(`${target}.sha512`, `${sha512File(target)}  ${path.basename(target)}\n`);
  by.sign(target);
  writeFileSync(path.join(path.dirname(dir), "KEYS"), keys.map((k) => k.publicKey()).join("\n"));
  return target;
}

/**
 * Two bad mirrors for a release tarball: under `forged/`, other bytes with a .sha512 that matches them and a
 * signature by the mirror's own key, which its KEYS file lists beside the release manager's (what a mirror serving
 * a tampered release would publish); under `corrupt/`, other bytes beside the true .sha512 and signature.
 */
export function publishTampered(tarball: string, relativeDir: string): void {
  const tampered = path.join(WORK, "tampered", path.basename(tarball));
  mkdirSync(path.dirname(tampered), { recursive: true });
  writeFileSync(tampered, Buffer.concat([readFileSync(tarball), Buffer.from("tampered")]));
  const manager = signer("release manager");
  publish(tampered, `forged/${relativeDir}`, signer("mirror"), [manager, signer("mirror")]);
  const corrupt = publish(tarball, `corrupt/${relativeDir}`);
  copyFileSync(tampered, corrupt);
}

/** Settings that pin the e2e's release manager as the only signer of what the box's mirror serves. */
export function pinnedSigner(): Record<string, string> {
  const fingerprint = signer("release manager").fingerprint;
  return { zookeeperSigningKeys: fingerprint, activemqSigningKeys: fingerprint };
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
    // The box's mirror has no TLS; everywhere else downloads must be https.
    testOnlyAllowPlainHttp: "true",
    sshCidrs: `${info.bridgeAddress}/32`,
    ...extra,
  });
}

/** The box's nodes as the stack knows them: index and private address. */
const boxNodes = (info: BoxInfo) => info.hosts.map((h) => ({ index: h.index, privateIp: h.address }));

let pki: TestPki | undefined;
/**
 * The box's CA and certificates, as the stack would make them (test/support/certificates.ts), once a run: the
 * first call's `use` holds for the run (boxFacts makes them with the defaults unless boxPki ran before).
 */
export function boxPki(info: BoxInfo, use: NodeCertificateUse = {}): TestPki {
  pki ??= makeTestPki(path.join(WORK, "pki"), boxNodes(info), "box", use);
  return pki;
}

/** New certificates and keys for every node from the box's CA: what `pulumi up` sends after a renewal. */
export function renewedBoxCertificates(info: BoxInfo): NodeCertificate[] {
  return issueNodeCertificates(path.join(WORK, "pki"), boxNodes(info), "box");
}

/** Another CA with its own certificates: what a client that trusts the wrong CA, or a forged broker, holds. */
export function strangerPki(info: BoxInfo): TestPki {
  return makeTestPki(path.join(WORK, "pki-stranger"), boxNodes(info), "stranger");
}

export function boxFacts(info: BoxInfo, sharedStoreHost?: string): ClusterFacts {
  const secret = () => randomBytes(18).toString("base64url");
  return {
    nodes: boxNodes(info),
    secrets: { brokerPassword: secret(), consolePassword: secret(), replicationToken: secret() },
    ...(sharedStoreHost ? { sharedStoreHost } : {}),
    // Sent only where clientTransport turns TLS on (lib/steps/broker.ts).
    tls: {
      nodes: boxPki(info).nodes,
      trustedCaCertificates: boxPki(info).caCertificate,
      keystorePassword: secret(),
    },
  };
}

/**
 * One HA group's facts on a box of several (BoxCluster.group): the box-wide facts (boxFacts: one set of secrets and
 * certificates, as the stack shares them) narrowed to the group's hosts as its nodes 1…size, with the other groups
 * as the peers its brokers bridge to.
 */
export function boxGroupFacts(
  group: BoxCluster,
  boxWide: ClusterFacts,
  peers: readonly PeerGroup[],
): ClusterFacts {
  const inGroup = (host: number) => group.info.hosts.some((h) => h.index === host);
  const tls = boxWide.tls;
  return {
    ...boxWide,
    nodes: group.info.hosts.map((h) => ({ index: group.nodeOf(h.index), privateIp: h.address })),
    ...(peers.length > 0 ? { peers } : {}),
    ...(tls
      ? {
          tls: {
            ...tls,
            nodes: tls.nodes
              .filter((n) => inGroup(n.index))
              .map((n) => ({ ...n, index: group.nodeOf(n.index) })),
          },
        }
      : {}),
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

/** The nodes (all, or those of `hosts`) accepting on the OpenWire port right now. */
export async function brokersAccepting(
  info: BoxInfo,
  port: number,
  hosts: readonly BoxInfo["hosts"][number][] = info.hosts,
  timeoutMs = 1000,
): Promise<number[]> {
  const open = await Promise.all(hosts.map((h) => portOpen(h.address, port, timeoutMs)));
  return hosts.filter((_, i) => open[i]).map((h) => h.index);
}

/**
 * The one broker that serves, once exactly one does (right after a rolling restart none may yet); throws, naming
 * `what` and the brokers that accepted last, when none or several serve for `timeoutMs`.
 */
export async function theMaster(
  info: BoxInfo,
  port: number,
  timeoutMs = 60_000,
  what = "the cluster",
): Promise<number> {
  let last: number[] = [];
  const master = await waitFor(async () => {
    last = await brokersAccepting(info, port);
    return last.length === 1 ? last[0] : undefined;
  }, timeoutMs);
  if (master === undefined) {
    throw new Error(
      `${what}: no single master within ${timeoutMs / 1000} s (accepting: ${JSON.stringify(last)})`,
    );
  }
  return master;
}

/**
 * Powers the box's host on and waits until `standingBy` succeeds on it (its broker is back as a slave); throws when
 * it does not within 180 s.
 */
export async function powerOnStandingBy(
  info: BoxInfo,
  host: number,
  standingBy: string,
  what: string,
): Promise<void> {
  box("poweron", String(host));
  const address = info.hosts.find((h) => h.index === host)?.address;
  assert.ok(address !== undefined, `host ${host} is one of the box's`);
  const back = await waitFor(
    async () => ((await sshRun(info, address, standingBy)).code === 0 ? true : undefined),
    180_000,
    1000,
  );
  if (!back) {
    throw new Error(`${what}: host ${host} did not stand by again within 180 s of its power-on`);
  }
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
 * Runs the whole plan again on a provisioned box, every step regardless of state (so the scripts themselves are
 * proven idempotent), and asserts that no step changed anything and no unit was restarted. Then asks the model of
 * Pulumi's diff, which must run nothing at all. Returns how many steps ran the first time.
 */
export async function assertPlanChangesNothing(
  cluster: BoxCluster,
  plan: readonly PlanStep[],
  facts: ClusterFacts,
  units: readonly string[],
  state: StepState,
): Promise<number> {
  const info = cluster.info;
  const stamps = () =>
    Promise.all(info.hosts.flatMap((h) => units.map((u) => serviceStartStamp(info, h.address, u))));
  const before = await stamps();
  const runs = await runPlan(plan, facts, cluster);
  assert.deepEqual(await stamps(), before, "no service was restarted");
  assert.deepEqual(
    changedSteps(runs),
    [],
    `no step changed anything:\n${runs.map((r) => r.result.stdout.trim()).join("\n")}`,
  );
  const due = await runPlan(plan, facts, cluster, { state });
  assert.deepEqual(
    due.map((r) => r.step.id),
    [],
    "with nothing changed, `pulumi up` runs no step",
  );
  return runs.length;
}

/**
 * Applies a changed plan as `pulumi up` would (only the steps whose inputs changed) and asserts which steps ran
 * and the rolling restart: every node's unit restarted, the group's leader (ZooKeeper leader, broker master)
 * last. Returns the order in which the nodes restarted.
 */
export async function assertRollingRestart(
  cluster: BoxCluster,
  plan: readonly PlanStep[],
  facts: ClusterFacts,
  unit: string,
  leader: number,
  state: StepState,
  expectedSteps: readonly string[],
  onStep?: (run: StepRun) => void,
): Promise<number[]> {
  const info = cluster.info;
  const before = await activeSince(info, unit);
  const runs = await runPlan(plan, facts, cluster, { state, ...(onStep ? { onStep } : {}) });
  assert.deepEqual(
    runs.map((r) => r.step.id).sort(),
    [...expectedSteps].sort(),
    "the steps `pulumi up` runs",
  );
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

/** The ids of the steps of a plan that `pulumi up` re-runs for a replaced host: all of its node's, and the gates. */
export function stepsOfReplacedHost(plan: readonly PlanStep[], node: number): string[] {
  return plan.filter((s) => s.hostTriggers.includes(node)).map((s) => s.id);
}

/** How many logins sshd on host `index` has accepted since it booted (read through the box's own SSH). */
async function acceptedLogins(cluster: BoxCluster, index: number): Promise<number> {
  const r = await sshRun(
    cluster.info,
    cluster.address(index),
    "sudo journalctl -b -u ssh.service --no-pager -o cat | grep -c '^Accepted publickey' || true",
  );
  return Number(r.stdout.trim());
}

/**
 * Day 2, a host that presents another key: node `index` is replaced by a blank host with a key of its own. The
 * next `pulumi up` must stop at that node's first step, refused by host-key verification, having sent nothing:
 * the host's sshd saw no login but the box's own checks.
 */
export async function assertForeignHostRefused(
  cluster: BoxCluster,
  plan: readonly PlanStep[],
  facts: ClusterFacts,
  state: StepState,
  index: number,
): Promise<string> {
  cluster.replace(index, "foreign");
  const before = await acceptedLogins(cluster, index);
  const error = await runPlan(plan, facts, cluster, { state }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof StepFailed, "`pulumi up` must fail");
  assert.equal(error.run.step.id, `n${index}-host-ready`, "it fails at the replaced host's first step");
  assert.match(error.run.result.stderr, /Host key verification failed/);
  const after = await acceptedLogins(cluster, index);
  assert.equal(after, before + 1, "the only login the host accepted is this check's own");
  const left = await sshRun(cluster.info, cluster.address(index), "ls /tmp | grep -c '^amq-step' || true");
  assert.equal(left.stdout.trim(), "0", "no payload reached the host");
  return error.run.result.stderr.trim().split("\n").pop() ?? "";
}

/** What the `pulumi up` after a host's replacement ran, and how long it took (the host's boot not counted). */
export interface Rebuilt {
  readonly ran: string[];
  readonly seconds: number;
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

/**
 * The shell command that succeeds on a host once its broker stands by again after a power-on: a replicated slave
 * holds a replication connection to the master; a shared-store slave is a running broker waiting for the lock.
 */
export function standingBy(settings: StackSettings): string {
  return settings.haMode === "replicated-leveldb"
    ? `ss -Htn state established '( dport = :${settings.ports.replication} )' | grep -q .`
    : "systemctl is-active --quiet activemq.service";
}

export interface FailoverRun {
  readonly rounds: number;
  readonly figures: Figures;
  /** The shell command that succeeds on a host once its broker stands by again after a power-on. */
  readonly standingBy: string;
  readonly roundTimeoutMs: number;
  /** What the figure lines are headed with (default "failover"). */
  readonly label?: string;
}

/** What the counting client saw: acknowledged sends matched with received messages. */
export interface Counted {
  /** Every acknowledged send, in the order the acknowledgements came. */
  readonly acked: readonly Ack[];
  readonly lost: number[];
  readonly duplicated: number[];
  readonly failoverMs: (number | null)[];
}

/** The client's moments of trouble: `fault` marks when one began, `resumed` waits until sends succeed again. */
export interface ClientProbe {
  fault(): void;
  resumed(timeoutMs: number): Promise<boolean>;
}

/** The failover probe (test/e2e/client/FailoverProbe.java) as one run of it starts it: one queue, one login. */
export interface ProbeRun {
  /** A queue of the run's own: a message of an earlier run that reappears is not counted as this run's duplicate. */
  readonly queue: string;
  /** Starts the probe in `mode` against `url`, recording into `file`; its stderr is kept for errors. */
  start(mode: "send" | "receive" | "drain", url: string, file: string): ProbeProcess;
}

export interface ProbeProcess {
  readonly child: ChildProcess;
  /** What the probe wrote to stderr so far. */
  log(): string;
}

/**
 * How the probe connects: the stack's broker login, and over TLS the stores the README has users build from the
 * stack's outputs: trust in the stack's CA (caCertificate), and the stack's client certificate where the brokers ask
 * for one (clientCertificate, clientKey).
 */
export function probeRun(
  settings: StackSettings,
  facts: ClusterFacts,
  classpath: string[],
  label: string,
  scheme: "ssl" | "tcp",
): ProbeRun {
  const clientTls =
    scheme === "ssl" && pki !== undefined
      ? javaClientTls(
          path.join(WORK, "client-tls"),
          pki.caCertificate,
          settings.tls.clientCertificates !== "off" ? pki.client : undefined,
        ).jvmOptions
      : [];
  const queue = `e2e.${label.replace(/[^A-Za-z0-9]+/g, "-")}.${Date.now()}`;
  const user = settings.activemq.brokerUser;
  const password = facts.secrets.brokerPassword;
  return {
    queue,
    start: (mode, url, file) => {
      const child = spawn(
        "java",
        [...clientTls, "-cp", classpath.join(":"), "FailoverProbe", mode, url, user, password, queue, file],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      let log = "";
      child.stderr?.on("data", (d: Buffer) => (log += d.toString()));
      return { child, log: () => log };
    },
  };
}

/** A probe record's lines, `seq epochMillis` each (send's acknowledgements, receive's messages). */
export function recordLines(file: string): [number, number][] {
  return existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.split(" ").map(Number) as [number, number])
    : [];
}

/** Asks a running probe to stop (its FILE.stop) and waits for it, killing it after `timeoutMs`. */
export async function stopProbe(probe: ProbeProcess, file: string, timeoutMs = 30_000): Promise<void> {
  writeFileSync(`${file}.stop`, "");
  await new Promise((resolve) => {
    const timer = setTimeout(() => {
      probe.child.kill("SIGKILL");
      resolve(undefined);
    }, timeoutMs);
    probe.child.once("exit", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

/** Drains the run's queue and the DLQ on `url`; returns every seq received. */
export async function drainQueue(run: ProbeRun, url: string, file: string): Promise<number[]> {
  const drain = run.start("drain", url, file);
  const code = await new Promise<number>((resolve) => drain.child.once("exit", (c) => resolve(c ?? -1)));
  if (code !== 0) {
    throw new Error(`draining ${url} failed (exit ${code}):\n${drain.log().slice(-2000)}`);
  }
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map(Number);
}

/** A fault marker and a wait for a record to grow again after the latest fault. */
export function faultClock(): {
  readonly faults: number[];
  fault(): void;
  growsAgain(file: string, timeoutMs: number): Promise<boolean>;
} {
  const faults: number[] = [];
  return {
    faults,
    fault: () => faults.push(Date.now()),
    growsAgain: async (file, timeoutMs) => {
      const since = faults[faults.length - 1] ?? 0;
      const ok = await waitFor(
        async () => (recordLines(file).filter((a) => a[1] > since).length >= 5 ? true : undefined),
        timeoutMs,
      );
      return ok === true;
    },
  };
}

/**
 * A producer on the stack's failoverUrl sends persistent messages without pause while `during` runs (which marks
 * each fault it causes); then every queue is drained and acknowledged sends are matched with received messages.
 * Prints the figures under `label`.
 */
export async function withCountingClient(
  settings: StackSettings,
  facts: ClusterFacts,
  classpath: string[],
  figures: Figures,
  label: string,
  during: (probe: ClientProbe) => Promise<void>,
  /** Which of the client ports that are on: by default TLS whenever it is on, as the stack's failoverUrl. */
  scheme: "ssl" | "tcp" = preferredScheme(settings),
): Promise<Counted> {
  const url = failoverUrl(
    settings,
    facts.nodes.map((n) => n.privateIp),
    scheme,
  );
  const run = probeRun(settings, facts, classpath, label, scheme);
  const acks = path.join(WORK, `acks-${Date.now()}.log`);
  const clock = faultClock();
  const producer = run.start("send", url, acks);
  try {
    const started = await waitFor(async () => (recordLines(acks).length >= 50 ? true : undefined), 60_000);
    if (!started) {
      throw new Error(`the producer got no acknowledgements within 60 s:\n${producer.log().slice(-2000)}`);
    }
    await during({ fault: clock.fault, resumed: (timeoutMs) => clock.growsAgain(acks, timeoutMs) });
  } finally {
    await stopProbe(producer, acks);
  }
  const got = await drainQueue(run, url, path.join(WORK, `received-${Date.now()}.log`));
  const acked = recordLines(acks).map(([seq, at]) => ({ seq, at }));
  const counted = analyze(acked, got, clock.faults);
  reportCounts(figures, label, acked, counted);
  return {
    acked,
    lost: counted.lost,
    duplicated: counted.duplicated,
    failoverMs: counted.rounds.map((r) => r.failoverMs),
  };
}

/** Throughput, the pause after each fault, and the message accounting, as figure lines. */
export function reportCounts(
  figures: Figures,
  label: string,
  acked: { seq: number; at: number }[],
  counted: ReturnType<typeof analyze>,
): void {
  // Sends per second while a master served: the whole run less the pauses.
  const gaps = counted.rounds.reduce((sum, r) => sum + (r.failoverMs ?? 0), 0);
  if (acked.length > 1) {
    const seconds =
      ((acked[acked.length - 1] as { at: number }).at - (acked[0] as { at: number }).at - gaps) / 1000;
    figures.add(
      `${label}: throughput ${(acked.length / seconds).toFixed(0)} msg/s (one producer, synchronous persistent ` +
        `sends of small text messages, pauses excluded)`,
    );
  }
  counted.rounds.forEach((r, i) =>
    figures.add(
      `${label} fault ${i + 1}: pause ${r.failoverMs === null ? "none" : `${(r.failoverMs / 1000).toFixed(2)} s`} (last ack before the fault to first after)`,
    ),
  );
  const times = counted.rounds
    .map((r) => r.failoverMs)
    .filter((t): t is number => t !== null)
    .sort((a, b) => a - b);
  if (times.length > 0) {
    figures.add(
      `${label}: pause median ${(times[Math.floor(times.length / 2)]! / 1000).toFixed(2)} s, worst ${(times[times.length - 1]! / 1000).toFixed(2)} s over ${times.length} faults`,
    );
  }
  figures.add(
    `${label}: messages acknowledged ${counted.acknowledged}, received ${counted.received}, lost ${counted.lost.length}` +
      `${counted.lost.length ? ` (seq ${counted.lost.join(",")})` : ""}, duplicated ${counted.duplicated.length}`,
  );
}

/** The ZooKeeper server's role on a host, as its srvr answer says (leader, follower, …); "none" where none answers. */
export async function zookeeperMode(info: BoxInfo, address: string): Promise<string> {
  const r = await sshRun(
    info,
    address,
    "timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/2181 && printf srvr >&3 && cat <&3'",
  );
  return /^Mode: (\w+)/m.exec(r.stdout)?.[1] ?? "none";
}

/** Dumps the brokers' recent logs, for a round that did not fail over. */
async function brokerLogs(info: BoxInfo): Promise<string> {
  const logs = await Promise.all(
    info.hosts.map(async (h) => {
      const r = await sshRun(info, h.address, "sudo journalctl -u activemq.service -n 25 --no-pager");
      return `--- node ${h.index} (${h.address}) ---\n${r.stdout}${r.stderr}`;
    }),
  );
  return logs.join("\n");
}

/**
 * The master's host is powered off while the counting client sends, round after round, and powered on again
 * once a new master serves; throws when a round does not fail over within its bound.
 */
export async function failoverRounds(
  info: BoxInfo,
  settings: StackSettings,
  facts: ClusterFacts,
  classpath: string[],
  run: FailoverRun,
): Promise<Counted> {
  const label = run.label ?? "failover";
  return withCountingClient(settings, facts, classpath, run.figures, label, async (probe) => {
    for (let round = 1; round <= run.rounds; round++) {
      const masters = await brokersAccepting(info, masterPort(settings));
      if (masters.length !== 1) {
        throw new Error(`round ${round}: expected one master, found ${JSON.stringify(masters)}`);
      }
      const master = masters[0] as number;
      // A round whose host also leads ZooKeeper costs the ensemble an election too: say which rounds were.
      const zookeeper = await zookeeperMode(info, (info.hosts[master - 1] as { address: string }).address);
      const offAt = Date.now();
      box("poweroff", String(master));
      // The host is gone only once poweroff returns: acknowledgements until then came from the old master.
      probe.fault();
      const goneAt = Date.now();
      const survivors = info.hosts.filter((h) => h.index !== master);
      // When a survivor first accepts clients: the servers' share of the pause, against the client's.
      const listening = waitFor(
        // A short connect bound: the survivors are live hosts on the box's bridge.
        async () =>
          (await brokersAccepting(info, masterPort(settings), survivors, 200)).length > 0
            ? Date.now()
            : undefined,
        run.roundTimeoutMs,
        50,
      );
      if (!(await probe.resumed(run.roundTimeoutMs))) {
        throw new Error(
          `round ${round}: the client did not resume within ${run.roundTimeoutMs} ms after node ${master} died\n` +
            (await brokerLogs(info)),
        );
      }
      const listeningAt = await listening;
      const newMaster = await brokersAccepting(info, masterPort(settings));
      const since = (t: number | undefined) =>
        t === undefined ? "-" : `+${((t - offAt) / 1000).toFixed(2)} s`;
      run.figures.add(
        `${label} round ${round}: master node ${master} (ZooKeeper ${zookeeper}) powered off (power-off began at 0, ` +
          `host gone ${since(goneAt)}); new master ${JSON.stringify(newMaster)} accepting ${since(listeningAt)}`,
      );
      await powerOnStandingBy(info, master, run.standingBy, `round ${round}`);
      // Let the rejoined broker catch up before the next master dies.
      await sleep(5000);
    }
  });
}

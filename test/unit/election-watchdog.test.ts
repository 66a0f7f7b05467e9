// scripts/host/election-watchdog.sh, run by bash with stand-ins for systemctl and journalctl and a ZooKeeper
// stand-in that answers srvr: it restarts this host's broker only when no broker has served for a while although
// ZooKeeper has a quorum, the stuck elector first and every other broker after its node's turn, never a broker
// that serves or one whose promotion is young.
import assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

const SCRIPT = path.resolve(__dirname, "../../scripts/host/election-watchdog.sh");
/** A journal line as `journalctl -o short-unix` prints the broker's log, `ago` seconds back. */
const line = (message: string, ago = 600) =>
  `${Math.floor(Date.now() / 1000) - ago}.123456 amq-n2 activemq[812]: ${message}`;
/** The forms of a stuck election the box produced (5.16.8's own lines), and what the watchdog calls them. */
const STUCK = line(" INFO | Not enough cluster members have reported their update positions yet.");
const FORMS: [string, string[]][] = [
  ["too-few-members", [line(" INFO | Not enough cluster members connected to elect a master.")]],
  [
    "replication-stopped",
    [line(" INFO | Demoted to slave"), line("java.lang.IllegalStateException: Store replication stopped")],
  ],
  [
    "bad-version",
    [
      line(
        " WARN | org.apache.zookeeper.KeeperException$BadVersionException: KeeperErrorCode = BadVersion for /default/00000000005",
      ),
    ],
  ],
  [
    "lock-timeout",
    [line("java.util.concurrent.TimeoutException: timeout reached while waiting on the lock")],
  ],
  ["no-master", [line(" INFO | Slave started"), line(" INFO | Slave stopped")]],
  ["promotion-never-finished", [line(" INFO | Promoted to master", 400)]],
];

describe("scripts/host/election-watchdog.sh", () => {
  let dir = "";
  let server: net.Server;
  let zookeeper: ChildProcess;
  let openPort = 0;
  let zookeeperPort = 0;
  const closedPort = 1; // nothing listens on port 1 of 127.0.0.1

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "amq-watchdog-"));
    const bin = path.join(dir, "bin");
    mkdirSync(bin);
    // systemctl: is-active answers from $ACTIVE; restart is recorded.
    writeFileSync(
      path.join(bin, "systemctl"),
      '#!/bin/sh\ncase "$1" in is-active) [ "$ACTIVE" = yes ];; restart) echo "$2" >> "$DIR/restarts";; esac\n',
    );
    writeFileSync(path.join(bin, "journalctl"), '#!/bin/sh\ncat "$DIR/journal"\n');
    chmodSync(path.join(bin, "systemctl"), 0o755);
    chmodSync(path.join(bin, "journalctl"), 0o755);
    server = net.createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    openPort = (server.address() as net.AddressInfo).port;
    // A ZooKeeper server in the ensemble, as srvr shows one. In a process of its own: spawnSync blocks this one's
    // event loop while the script asks.
    zookeeper = spawn(
      process.execPath,
      [
        "-e",
        `const s = require("node:net").createServer((c) => c.once("data", () => ` +
          `c.end("Zookeeper version: 3.8.7\\nMode: follower\\n")));` +
          `s.listen(0, "127.0.0.1", () => console.log(s.address().port));`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    zookeeperPort = await new Promise<number>((resolve) =>
      zookeeper.stdout?.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
  });
  after(() => {
    server?.close();
    zookeeper?.kill();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  interface Run {
    /** The group's client port: open (a broker serves) or closed (none does). */
    readonly port: number;
    /** How long ago the no-master period began (undefined: not yet noted). */
    readonly since?: number;
    readonly journal: string[];
    readonly active?: "yes" | "no";
    readonly selfIndex?: number;
    /** Whether a ZooKeeper server serves (default) or none answers. */
    readonly quorum?: boolean;
    readonly replicationPort?: number;
  }

  function run(r: Run) {
    const state = mkdtempSync(path.join(dir, "state-"));
    if (r.since !== undefined) {
      writeFileSync(path.join(state, "no-master-since"), `${Math.floor(Date.now() / 1000) - r.since}\n`);
    }
    writeFileSync(path.join(dir, "journal"), r.journal.join("\n") + "\n");
    rmSync(path.join(dir, "restarts"), { force: true });
    const p = spawnSync("bash", [SCRIPT], {
      encoding: "utf8",
      env: {
        ...process.env,
        BROKER_PORT: String(r.port),
        // Set, though the script does not read it: a replication connection must not change its verdict.
        REPLICATION_PORT: String(r.replicationPort ?? closedPort),
        STATE_DIR: state,
        // A remote broker that does not answer, then this host's own address.
        BROKERS: "192.0.2.1 127.0.0.1",
        SELF_INDEX: String(r.selfIndex ?? 2),
        // A server that does not answer first, then the stand-in (or nothing).
        ZOOKEEPERS: `192.0.2.1:2181 127.0.0.1:${r.quorum === false ? closedPort : zookeeperPort}`,
        PATH: `${path.join(dir, "bin")}:${process.env.PATH ?? ""}`,
        DIR: dir,
        ACTIVE: r.active ?? "yes",
      },
    });
    const restarts = existsSync(path.join(dir, "restarts"))
      ? readFileSync(path.join(dir, "restarts"), "utf8")
      : "";
    return {
      status: p.status,
      stdout: p.stdout,
      stderr: p.stderr,
      restarts,
      stateFile: path.join(state, "no-master-since"),
    };
  }

  it("never restarts a broker while one serves, whatever its log says, and forgets an earlier no-master period", () => {
    for (const [, journal] of [["elector-waiting", [STUCK]], ...FORMS] as [string, string[]][]) {
      const r = run({ port: openPort, since: 3600, journal, selfIndex: 1 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.restarts, "");
      assert.equal(existsSync(r.stateFile), false);
    }
  });

  it("does not take a replication connection to a master for a served group (a stuck elector may hold one)", async () => {
    const master = net.createServer(() => undefined);
    await new Promise<void>((resolve) => master.listen(0, "127.0.0.1", resolve));
    const replicationPort = (master.address() as net.AddressInfo).port;
    const slave = net.connect(replicationPort, "127.0.0.1");
    await new Promise((resolve) => slave.once("connect", resolve));
    try {
      const r = run({ port: closedPort, since: 300, journal: [STUCK], replicationPort });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.restarts, "activemq.service\n", "the stuck elector is restarted all the same");
    } finally {
      slave.destroy();
      master.close();
    }
  });

  it("refuses to run without its inputs", () => {
    const r = spawnSync("bash", [SCRIPT], { encoding: "utf8", env: { PATH: process.env.PATH ?? "" } });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /BROKER_PORT/);
  });

  it("only notes the time when no broker serves for the first time", () => {
    const r = run({ port: closedPort, journal: [STUCK] });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.restarts, "");
    assert.equal(existsSync(r.stateFile), true);
  });

  it("without a ZooKeeper quorum no election can happen: it restarts nothing and the period starts again later", () => {
    const r = run({ port: closedPort, since: 3600, journal: [STUCK], quorum: false });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.restarts, "");
    assert.equal(existsSync(r.stateFile), false);
  });

  it("restarts the stuck elector a minute after the last master, whatever its node", () => {
    assert.equal(run({ port: closedPort, since: 30, journal: [STUCK], selfIndex: 3 }).restarts, "");
    const r = run({
      port: closedPort,
      since: 61,
      journal: [line(" INFO | Slave started"), STUCK],
      selfIndex: 3,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.restarts, "activemq.service\n");
    assert.match(r.stdout, /this broker's state: elector-waiting: restarting it/);
    // A whole period before it acts again.
    assert.ok(Number(readFileSync(r.stateFile, "utf8")) >= Math.floor(Date.now() / 1000) - 5);
  });

  it("restarts a broker in every other stuck form the box produced, after its node's turn (node 2: 60 + 2 × 45 s)", () => {
    for (const [form, journal] of FORMS) {
      assert.equal(
        run({ port: closedPort, since: 61, journal }).restarts,
        "",
        `${form}: not before its turn`,
      );
      assert.equal(
        run({ port: closedPort, since: 145, journal }).restarts,
        "",
        `${form}: not before its turn`,
      );
      const r = run({ port: closedPort, since: 151, journal });
      assert.equal(r.restarts, "activemq.service\n", `${form}: restarted at its turn`);
      assert.match(r.stdout, new RegExp(`this broker's state: ${form}: restarting it`));
    }
  });

  it("node turns do not overlap: node 1 acts at 105 s, node 3 at 195 s", () => {
    const journal = FORMS[0]![1];
    assert.equal(run({ port: closedPort, since: 106, journal, selfIndex: 1 }).restarts, "activemq.service\n");
    assert.equal(run({ port: closedPort, since: 190, journal, selfIndex: 3 }).restarts, "");
    assert.equal(run({ port: closedPort, since: 196, journal, selfIndex: 3 }).restarts, "activemq.service\n");
  });

  it("leaves a broker promoted less than 5 minutes ago alone: its store may still be opening", () => {
    const r = run({
      port: closedPort,
      since: 3600,
      journal: [STUCK, line(" INFO | Promoted to master", 200)],
    });
    assert.equal(r.restarts, "");
  });

  it("leaves a stopped broker alone (systemd restarts it)", () => {
    assert.equal(run({ port: closedPort, since: 3600, journal: [STUCK], active: "no" }).restarts, "");
  });
});

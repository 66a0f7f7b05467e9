// scripts/host/election-watchdog.sh, run by bash with stand-ins for systemctl and journalctl: it restarts this
// host's broker only when no broker has served for a minute and this broker's last election line is the stuck
// elector's.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

const SCRIPT = path.resolve(__dirname, "../../scripts/host/election-watchdog.sh");
const STUCK = " INFO | Not enough cluster members have reported their update positions yet.";

describe("scripts/host/election-watchdog.sh", () => {
  let dir = "";
  let server: net.Server;
  let openPort = 0;
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
  });
  after(() => {
    server?.close();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /**
   * One run: the group's client port, how long ago the no-master period began (undefined: not yet), the journal,
   * and the replication port (default: one nothing here is connected to).
   */
  function run(
    port: number,
    noMasterSinceSecondsAgo: number | undefined,
    journal: string[],
    active = "yes",
    replicationPort = closedPort,
  ) {
    const state = mkdtempSync(path.join(dir, "state-"));
    if (noMasterSinceSecondsAgo !== undefined) {
      writeFileSync(
        path.join(state, "no-master-since"),
        `${Math.floor(Date.now() / 1000) - noMasterSinceSecondsAgo}\n`,
      );
    }
    writeFileSync(path.join(dir, "journal"), journal.join("\n") + "\n");
    rmSync(path.join(dir, "restarts"), { force: true });
    const r = spawnSync("bash", [SCRIPT], {
      encoding: "utf8",
      env: {
        ...process.env,
        BROKER_PORT: String(port),
        // Set, though the script no longer reads it: a replication connection must not change its verdict.
        REPLICATION_PORT: String(replicationPort),
        STATE_DIR: state,
        // A remote broker that does not answer, then this host's own address.
        BROKERS: "192.0.2.1 127.0.0.1",
        PATH: `${path.join(dir, "bin")}:${process.env.PATH ?? ""}`,
        DIR: dir,
        ACTIVE: active,
      },
    });
    const restarts = existsSync(path.join(dir, "restarts"))
      ? readFileSync(path.join(dir, "restarts"), "utf8")
      : "";
    return { status: r.status, stdout: r.stdout, restarts, stateFile: path.join(state, "no-master-since") };
  }

  it("does nothing while a broker serves, and forgets an earlier no-master period", () => {
    const r = run(openPort, 300, [STUCK]);
    assert.equal(r.status, 0);
    assert.equal(r.restarts, "");
    assert.equal(existsSync(r.stateFile), false);
  });

  it("does not take a replication connection to a master for a served group (a stuck elector may hold one)", async () => {
    const master = net.createServer(() => undefined);
    await new Promise<void>((resolve) => master.listen(0, "127.0.0.1", resolve));
    const replicationPort = (master.address() as net.AddressInfo).port;
    const slave = net.connect(replicationPort, "127.0.0.1");
    await new Promise((resolve) => slave.once("connect", resolve));
    try {
      const r = run(closedPort, 300, [STUCK], "yes", replicationPort);
      assert.equal(r.status, 0);
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
    const r = run(closedPort, undefined, [STUCK]);
    assert.equal(r.status, 0);
    assert.equal(r.restarts, "");
    assert.equal(existsSync(r.stateFile), true);
  });

  it("waits a minute before it calls an election stuck", () => {
    assert.equal(run(closedPort, 30, [STUCK]).restarts, "");
  });

  it("restarts this broker when no broker served for a minute and its last election line is the stuck elector's", () => {
    const r = run(closedPort, 61, [" INFO | Slave started", STUCK]);
    assert.equal(r.status, 0);
    assert.equal(r.restarts, "activemq.service\n");
    assert.match(r.stdout, /this broker's election waits on a position that never comes: restarting it/);
  });

  it("leaves a broker alone whose last election line is not the stuck elector's (another host's is stuck)", () => {
    assert.equal(
      run(closedPort, 120, [STUCK, " INFO | Attaching to master: tcp://10.0.0.1:61619"]).restarts,
      "",
    );
    assert.equal(
      run(closedPort, 120, [" INFO | Not enough cluster members connected to elect a master."]).restarts,
      "",
    );
  });

  it("leaves a stopped broker alone", () => {
    assert.equal(run(closedPort, 120, [STUCK], "no").restarts, "");
  });
});

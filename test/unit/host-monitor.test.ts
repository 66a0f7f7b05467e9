// scripts/host/HostMonitor.java, compiled by javac with every warning an error, then run by the JRE's single-file
// launcher as on a host: real sockets stand for the broker's client port, ZooKeeper's mntr and a peer's monitor,
// and a process with a broker's command line stands for the broker's JVM. (Its JMX figures come from a real broker
// in the cluster-in-a-box: test/e2e/network-of-groups.e2e.ts.)
import assert from "node:assert/strict";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as http from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { waitFor } from "../e2e/lib/box";

const SOURCE = path.resolve(__dirname, "..", "..", "scripts", "host", "HostMonitor.java");

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function get(port: number, path: string, host = "127.0.0.1"): Promise<{ code: number; body: string }> {
  const response = await fetch(`http://${host}:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { code: response.status, body: await response.text() };
}

void describe("scripts/host/HostMonitor.java", () => {
  const servers: { close: () => void }[] = [];
  const children: ChildProcess[] = [];
  let dir = "";
  let monitorPort = 0;
  let brokerPort = 0;
  let peerMaster = false;
  let broker: net.Server | undefined;

  const startBroker = async () => {
    broker = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => (broker as net.Server).listen(brokerPort, "0.0.0.0", resolve));
  };
  const stopBroker = async () => {
    const listening = broker;
    broker = undefined;
    if (listening !== undefined) {
      await new Promise((resolve) => listening.close(resolve));
    }
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "host-monitor-"));
    monitorPort = await freePort();
    brokerPort = await freePort();
    // ZooKeeper's mntr, as a 3.8 follower answers it (tab-separated).
    const zookeeper = net.createServer((s) =>
      s.once("data", (d: Buffer) => {
        assert.equal(d.toString(), "mntr");
        s.end("zk_version\t3.8.6\nzk_server_state\tfollower\nzk_quorum_size\t3\nzk_znode_count\t42\n");
      }),
    );
    await new Promise<void>((resolve) => zookeeper.listen(0, "127.0.0.1", resolve));
    servers.push(zookeeper);
    // Node 2's monitor, on another loopback address with the same port.
    const peer = http.createServer((req, res) => {
      res.statusCode = req.url === "/health/master" && peerMaster ? 200 : 503;
      res.end();
    });
    await new Promise<void>((resolve) => peer.listen(monitorPort, "127.0.0.2", resolve));
    servers.push(peer);
    // What bin/activemq console leaves running, as far as the monitor looks: a JVM of this user whose command line
    // runs `activemq.jar console` (a JVM with no broker in it: no destinations, but a heap to read over JMX).
    const standIn = path.join(dir, "StandInBroker.java");
    writeFileSync(
      standIn,
      "class StandInBroker { public static void main(String[] a) throws Exception { Thread.sleep(600000); } }\n",
    );
    // Its own directory: an attach leaves its .attach_pid file in the target's working directory.
    children.push(
      spawn("java", ["-Xmx64m", standIn, "activemq.jar", "console"], { stdio: "ignore", cwd: dir }),
    );
    const monitor = spawn("java", ["-Xmx64m", SOURCE], {
      env: {
        ...process.env,
        MONITOR_PORT: String(monitorPort),
        BROKER_PORT: String(brokerPort),
        ZOOKEEPER_CLIENT_PORT: String((zookeeper.address() as net.AddressInfo).port),
        SELF_INDEX: "1",
        NODES: "1=127.0.0.1 2=127.0.0.2",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(monitor);
    let log = "";
    monitor.stdout?.on("data", (d: Buffer) => (log += d.toString()));
    monitor.stderr?.on("data", (d: Buffer) => (log += d.toString()));
    const up = await waitFor(
      () =>
        get(monitorPort, "/health/master").then(
          () => true,
          () => undefined,
        ),
      60_000,
      250,
    );
    assert.ok(up, `the monitor answers within 60 s:\n${log}`);
  });

  after(async () => {
    children.forEach((c) => c.kill("SIGKILL"));
    servers.forEach((s) => s.close());
    await stopBroker();
    rmSync(dir, { recursive: true, force: true });
  });

  void it("compiles with every javac warning an error", () => {
    execFileSync("javac", ["-Xlint:all", "-Werror", "-d", dir, SOURCE], { stdio: "pipe" });
  });

  void it("/health/master: 200 while this host's broker listens on the client port, 503 otherwise", async () => {
    assert.deepEqual(await get(monitorPort, "/health/master"), { code: 503, body: "not master\n" });
    await startBroker();
    assert.deepEqual(await get(monitorPort, "/health/master"), { code: 200, body: "master\n" });
    await stopBroker();
    assert.equal((await get(monitorPort, "/health/master")).code, 503);
  });

  void it("/health/group: 200 only with exactly one master among the members, asked of their monitors", async () => {
    peerMaster = false;
    assert.deepEqual(await get(monitorPort, "/health/group"), {
      code: 503,
      body: "the group has no master\n",
    });
    peerMaster = true;
    assert.deepEqual(await get(monitorPort, "/health/group"), {
      code: 200,
      body: "healthy: master node 2\n",
    });
    await startBroker();
    assert.deepEqual(await get(monitorPort, "/health/group"), {
      code: 503,
      body: "the group has 2 masters: nodes [1, 2]\n",
    });
    await stopBroker();
    peerMaster = false;
  });

  void it("/metrics: Prometheus text with this host's roles and ZooKeeper's mntr figures", async () => {
    const { code, body } = await get(monitorPort, "/metrics");
    assert.equal(code, 200);
    const samples = body.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    for (const sample of [
      "activemq_ha_broker_master 0",
      "activemq_ha_broker_running 1",
      "zookeeper_up 1",
      "zookeeper_quorum_size 3",
      "zookeeper_znode_count 42",
      'zookeeper_server_state{state="follower"} 1',
      'zookeeper_server_state{state="leader"} 0',
    ]) {
      assert.ok(samples.includes(sample), `${sample} in:\n${body}`);
    }
    // Every sample line is name{labels} value, every family typed once.
    for (const line of samples) {
      assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?\d+(\.\d+)?$/);
    }
    const types = body.split("\n").filter((l) => l.startsWith("# TYPE "));
    assert.equal(new Set(types).size, types.length, "no family typed twice");
    assert.ok(!samples.some((l) => l.startsWith("zookeeper_version")), "text figures are not samples");
  });

  void it("/status and /metrics: the broker JVM's heap, read over JMX by attaching to it; no destinations", async () => {
    const status = await waitFor(async () => {
      const { code, body } = await get(monitorPort, "/status");
      assert.equal(code, 200);
      return body === "" ? undefined : body;
    }, 30_000);
    assert.ok(status, "the monitor attached to the stand-in's JVM within 30 s");
    const fields = new Map(
      status
        .trim()
        .split("\n")
        .map((l) => l.split("=", 2) as [string, string]),
    );
    assert.deepEqual([...fields.keys()], ["heap_used_mb", "heap_max_mb", "queues", "dlq_depth", "deepest"]);
    assert.equal(fields.get("heap_max_mb"), "64", "the stand-in's -Xmx64m");
    assert.deepEqual([fields.get("queues"), fields.get("dlq_depth"), fields.get("deepest")], ["0", "0", ""]);
    const metrics = (await get(monitorPort, "/metrics")).body;
    assert.match(metrics, /^activemq_jvm_heap_max_bytes 67108864$/m);
    assert.match(metrics, /^# TYPE activemq_queue_size gauge$/m);
  });
});

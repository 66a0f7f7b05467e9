// lib/status.ts and scripts/host-status.sh: what `npm run status` asks each host (the payload run by bash, with real
// sockets for the broker's port, the replication link and ZooKeeper's srvr, and a stand-in for systemctl), how it
// reads the answers, what makes a group unhealthy, and which outputs it needs.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { renderStepPayload } from "../../lib/payload";
import {
  groupProblems,
  HostStatus,
  hostStatusStep,
  NoDeployedStack,
  parseHostStatus,
  renderStatusTable,
  StatusTarget,
  statusTargets,
} from "../../lib/status";

const node = (index: number) => ({
  index,
  availabilityZone: `us-east-1${"abc"[index - 1] ?? "a"}`,
  privateIp: `10.0.${(index - 1) * 64}.${10 + index}`,
  publicIp: `203.0.113.${index}`,
  hostKey: `ssh-ed25519 AAAAkey${index}`,
});

const TARGET: StatusTarget = {
  name: "amq-ha",
  haMode: "replicated-leveldb",
  brokerPort: 61617,
  replicationPort: 61619,
  zookeeperClientPort: 2181,
  nodes: [node(1), node(2), node(3)],
};

/** The target as a stack without ZooKeeper gives it. */
function withoutZookeeper(target: StatusTarget): StatusTarget {
  const copy: { -readonly [K in keyof StatusTarget]?: StatusTarget[K] } = { ...target };
  delete copy.zookeeperClientPort;
  return copy as StatusTarget;
}

const host = (broker: HostStatus["broker"], zookeeper = "follower", disk = 10): HostStatus => ({
  reachable: true,
  zookeeper,
  broker,
  storeDiskUsedPct: disk,
  activemqVersion: "5.16.8",
  zookeeperVersion: "3.8.6",
});

void describe("lib/status: a group's problems", () => {
  void it("a healthy group: one master, a ZooKeeper quorum, disks below the limit", () => {
    assert.deepEqual(groupProblems(TARGET, [host("master", "leader"), host("slave"), host("slave")]), []);
  });

  void it("no master, two masters, no quorum, a full disk: each named", () => {
    assert.deepEqual(groupProblems(TARGET, [host("slave", "leader"), host("starting"), host("slave")]), [
      "group amq-ha: no master (no broker accepts clients)",
    ]);
    assert.deepEqual(groupProblems(TARGET, [host("master", "leader"), host("slave"), host("master")]), [
      "group amq-ha: 2 masters (nodes 1, 3): split brain",
    ]);
    assert.deepEqual(
      groupProblems(TARGET, [host("master", "leader"), parseHostStatus(undefined), host("slave", "down")]),
      ["group amq-ha: ZooKeeper has no quorum (1 of 3 serving, 2 needed)"],
    );
    assert.deepEqual(
      groupProblems(TARGET, [host("master", "leader"), host("slave", "follower", 91), host("slave")]),
      ["group amq-ha node 2: the store's disk is 91% full (limit 85%)"],
    );
  });

  void it("without ZooKeeper (shared-kahadb), its roles are not checked", () => {
    const kahadb: StatusTarget = { ...TARGET, haMode: "shared-kahadb" };
    const withoutZk = withoutZookeeper(kahadb);
    assert.deepEqual(
      groupProblems(withoutZk, [host("master", "none"), host("slave", "none"), host("slave", "none")]),
      [],
    );
  });
});

void describe("lib/status: the outputs it reads", () => {
  const outputs = {
    haMode: "replicated-leveldb",
    deployedSettings: {
      brokerName: "amq-ha",
      replicationPort: 61619,
      zookeeperClientPort: 2181,
      zookeeperDeploy: true,
    },
    failoverUrl:
      "failover:(ssl://10.0.0.11:61617,ssl://10.0.64.12:61617,ssl://10.0.128.13:61617)?randomize=false",
    nodes: [node(1), node(2), node(3)],
  };

  void it("every group of the groups output, the master port from its failoverUrl", () => {
    const targets = statusTargets({
      ...outputs,
      groups: [
        { name: "amq-ha", failoverUrl: "failover:(ssl://10.0.0.11:61617)?x", nodes: [node(1)] },
        { name: "amq-ha-2", failoverUrl: "failover:(tcp://10.0.0.21:61616)?x", nodes: [node(2)] },
      ],
    });
    assert.deepEqual(
      targets.map((t) => [t.name, t.brokerPort, t.replicationPort, t.zookeeperClientPort, t.nodes.length]),
      [
        ["amq-ha", 61617, 61619, 2181, 1],
        ["amq-ha-2", 61616, 61619, 2181, 1],
      ],
    );
  });

  void it("a stack without the groups output is its one group", () => {
    assert.deepEqual(statusTargets(outputs), [{ ...TARGET }]);
  });

  void it("no stack, or nodes without host keys: refused in one sentence that says what to do", () => {
    assert.throws(() => statusTargets({}), NoDeployedStack);
    assert.throws(() => statusTargets({}), /no cluster outputs.*run `npm run deploy` first/);
    const old = { ...outputs, nodes: outputs.nodes.map((n) => ({ ...n, hostKey: "" })) };
    assert.throws(
      () => statusTargets(old),
      /no host key for node 1, 2, 3.*status logs in only to verified hosts/,
    );
  });
});

void describe("lib/status: the table", () => {
  void it("one aligned line per host, then each master's dead letters and deepest queues", () => {
    const rows = [
      {
        group: "amq-ha",
        node: 1,
        availabilityZone: "us-east-1a",
        address: "203.0.113.1",
        status: {
          ...host("master", "leader"),
          replicationLinks: 2,
          hostUptimeS: 90061,
          brokerUptimeS: 3720,
          heapUsedMb: 34,
          heapMaxMb: 256,
          dlqDepth: 1,
          deepest: [
            { name: "orders", size: 7 },
            { name: "a,b", size: 3 },
          ],
        },
      },
      {
        group: "amq-ha",
        node: 2,
        availabilityZone: "us-east-1b",
        address: "203.0.113.2",
        status: parseHostStatus(undefined),
      },
    ];
    assert.equal(
      renderStatusTable(rows),
      [
        "GROUP   NODE  ZONE        ADDRESS      ZOOKEEPER  BROKER  REPLICATION  DISK  HEAP     UP    BROKER UP  VERSIONS",
        "amq-ha  1     us-east-1a  203.0.113.1  leader     master  2 links      10%   34/256M  1d1h  1h2m       activemq 5.16.8, zookeeper 3.8.6",
        "amq-ha  2     us-east-1b  203.0.113.2  down       down    -            -     -        -     -          -",
        "amq-ha master (node 1): DLQ 1 message; deepest queues: orders 7, a,b 3",
      ].join("\n"),
    );
  });

  void it("reads the monitor's figures, and none when it gave none", () => {
    const read = parseHostStatus("broker=master\nheap_used_mb=34\nheap_max_mb=256\ndlq_depth=0\ndeepest=\n");
    assert.deepEqual([read.heapUsedMb, read.heapMaxMb, read.dlqDepth, read.deepest], [34, 256, 0, []]);
    assert.deepEqual(parseHostStatus("deepest=orders:7,a%2Cb:3,odd\n").deepest, [
      { name: "orders", size: 7 },
      { name: "a,b", size: 3 },
    ]);
    const none = parseHostStatus("broker=slave\n");
    assert.deepEqual([none.heapUsedMb, none.dlqDepth, none.deepest], [undefined, undefined, undefined]);
  });
});

void describe("scripts/host-status.sh, run by bash as the payload a host receives", () => {
  let dir = "";
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  const listen = async (onConnect: (s: net.Socket) => void): Promise<number> => {
    const server = net.createServer(onConnect);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as net.AddressInfo).port;
  };
  let brokerPort = 0;
  let replicationPort = 0;
  let zookeeperPort = 0;
  let monitorPort = 0;
  const monitorRequests: string[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "amq-status-"));
    const bin = path.join(dir, "bin");
    mkdirSync(bin);
    // systemctl: the broker unit is active, and became active 100 s after boot.
    writeFileSync(
      path.join(bin, "systemctl"),
      '#!/bin/sh\ncase "$1" in is-active) exit 0;; show) echo 100000000;; esac\n',
    );
    chmodSync(path.join(bin, "systemctl"), 0o755);
    mkdirSync(path.join(dir, "apache-activemq-5.16.8"));
    symlinkSync(path.join(dir, "apache-activemq-5.16.8"), path.join(dir, "activemq"));
    mkdirSync(path.join(dir, "apache-zookeeper-3.8.6-bin"));
    symlinkSync(path.join(dir, "apache-zookeeper-3.8.6-bin"), path.join(dir, "zookeeper"));
    brokerPort = await listen((s) => sockets.push(s));
    replicationPort = await listen((s) => sockets.push(s));
    zookeeperPort = await listen((s) =>
      s.once("data", () => s.end("Zookeeper version: 3.8.6\nMode: leader\n")),
    );
    // The host monitor's /status, as HostMonitor.java answers it (test/unit/host-monitor.test.ts runs the real one).
    monitorPort = await listen((s) =>
      s.once("data", (d: Buffer) => {
        monitorRequests.push(d.toString().split("\r\n")[0] as string);
        s.end(
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" +
            "heap_used_mb=40\nheap_max_mb=512\nqueues=2\ndlq_depth=3\ndeepest=orders:12\n",
        );
      }),
    );
  });
  after(() => {
    sockets.forEach((s) => s.destroy());
    servers.forEach((s) => s.close());
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  async function ask(target: StatusTarget): Promise<HostStatus> {
    const { step, input } = hostStatusStep(target, 1);
    const payload = renderStepPayload(step, {
      ...input,
      // The host's paths, here in the test's directory.
      inputs: {
        ...input.inputs,
        STORE_DIR: dir,
        ACTIVEMQ_LINK: path.join(dir, "activemq"),
        ZOOKEEPER_LINK: path.join(dir, "zookeeper"),
      },
    });
    // Not spawnSync: the stand-in ZooKeeper answers from this process's event loop.
    const child = spawn("bash", ["-s"], {
      env: { ...process.env, PATH: `${path.join(dir, "bin")}:${process.env.PATH ?? ""}` },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(payload);
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    assert.equal(code, 0, stderr);
    return parseHostStatus(stdout);
  }

  void it("the master: its port listens; ZooKeeper's role from srvr; versions from the /opt links; the store's disk", async () => {
    const status = await ask({ ...TARGET, brokerPort, replicationPort, zookeeperClientPort: zookeeperPort });
    assert.equal(status.broker, "master");
    assert.equal(status.zookeeper, "leader");
    assert.equal(status.activemqVersion, "5.16.8");
    assert.equal(status.zookeeperVersion, "3.8.6");
    assert.ok(
      status.storeDiskUsedPct !== undefined && status.storeDiskUsedPct <= 100,
      JSON.stringify(status),
    );
    assert.equal(status.replicationLinks, 0);
  });

  void it("a slave: no client port, one replication link to the master", async () => {
    const link = net.connect(replicationPort, "127.0.0.1");
    sockets.push(link);
    await new Promise((resolve) => link.once("connect", resolve));
    // A port nothing listens on: this host's broker does not serve clients.
    const status = await ask({
      ...TARGET,
      brokerPort: 1,
      replicationPort,
      zookeeperClientPort: zookeeperPort,
    });
    assert.equal(status.broker, "slave");
    assert.equal(status.replicationLinks, 1);
  });

  void it("ZooKeeper not answering, none deployed", async () => {
    assert.equal(
      (await ask({ ...TARGET, brokerPort, replicationPort, zookeeperClientPort: 1 })).zookeeper,
      "down",
    );
    const withoutZk = withoutZookeeper({ ...TARGET, brokerPort, replicationPort });
    assert.equal((await ask(withoutZk)).zookeeper, "none");
  });

  void it("adds the host monitor's heap and queues when it answers, and nothing when it does not", async () => {
    const target = { ...TARGET, brokerPort, replicationPort, zookeeperClientPort: zookeeperPort };
    const status = await ask({ ...target, monitorPort });
    assert.deepEqual(monitorRequests, ["GET /status HTTP/1.0"]);
    assert.deepEqual(
      [status.broker, status.heapUsedMb, status.heapMaxMb, status.dlqDepth, status.deepest],
      ["master", 40, 512, 3, [{ name: "orders", size: 12 }]],
    );
    const silent = await ask({ ...target, monitorPort: 1 });
    assert.deepEqual([silent.broker, silent.heapUsedMb, silent.deepest], ["master", undefined, undefined]);
    const before = await ask(target);
    assert.equal(before.heapUsedMb, undefined, "a stack deployed before the monitor: not asked");
  });
});

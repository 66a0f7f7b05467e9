// The rendered zoo.cfg and myid loaded by a real ZooKeeper: Debian's 3.8 server jar (`apt-get install -y zookeeper`),
// run on loopback addresses only (127.0.0.1-3, which Linux routes to lo). Skipped with the reason when absent, and a
// failure under CI (test/support/tools.ts).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { NodeFacts } from "../../lib/facts";
import { renderMyid, renderZooCfg } from "../../lib/render/zookeeper";
import { parseSettings, StackSettings } from "../../lib/settings";
import { requireTools } from "../support/tools";

const ZOOKEEPER_JAR = "/usr/share/java/zookeeper.jar";
/** Debian's zookeeper.jar names its dependencies in its manifest; only a logging backend has to be added. */
const LOGGER_JAR = "/usr/share/java/slf4j-simple.jar";
const MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain";

const SKIP = requireTools([
  [ZOOKEEPER_JAR, "zookeeper"],
  [LOGGER_JAR, "libslf4j-java"],
  ["java", "default-jre-headless"],
]);

const LOOPBACK_NODES: NodeFacts[] = [
  { index: 1, privateIp: "127.0.0.1" },
  { index: 2, privateIp: "127.0.0.2" },
  { index: 3, privateIp: "127.0.0.3" },
];

interface Server {
  readonly process: ChildProcess;
  readonly output: () => string;
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = net.createServer();
      server.listen(0, "0.0.0.0");
      await once(server, "listening");
      return server;
    }),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

async function settingsOnFreePorts(): Promise<StackSettings> {
  const [client, peer, election] = (await freePorts(3)) as [number, number, number];
  return parseSettings({
    zookeeperClientPort: String(client),
    zookeeperPeerPort: String(peer),
    zookeeperElectionPort: String(election),
  });
}

/** One four-letter command; resolves with the whole answer. */
function fourLetter(host: string, port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = "";
    const socket = net.connect({ host, port }, () => socket.write(command));
    socket.setTimeout(3000, () => socket.destroy(new Error(`${command} to ${host}:${port} timed out`)));
    socket.on("data", (d) => (answer += d.toString()));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => boolean | Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

void describe("lib/render/zookeeper in a real ZooKeeper", { skip: SKIP }, () => {
  let dir = "";
  const started: Server[] = [];

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "amq-zk-"));
  });

  // Runs even when a test fails: no ZooKeeper outlives the suite.
  after(async () => {
    await Promise.all(
      started.map(async ({ process: p }) => {
        if (p.exitCode === null && p.signalCode === null) {
          const exited = once(p, "exit");
          p.kill("SIGKILL");
          await exited;
        }
      }),
    );
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /**
   * Writes node `node`'s files under the temp dir and starts its server. The config is the rendered zoo.cfg with
   * only the dataDir and dataLogDir lines moved under the temp dir, because the real /var/lib/zookeeper is neither
   * writable by an unprivileged test nor ours to touch; `extra` lines are appended after it.
   */
  function start(
    name: string,
    settings: StackSettings,
    node: NodeFacts,
    extra: string[] = [],
  ): { server: Server; config: string } {
    const home = path.join(dir, name);
    const dataDir = path.join(home, "data");
    const dataLogDir = path.join(home, "txlog");
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(dataLogDir, { recursive: true });
    const rendered = renderZooCfg(settings, LOOPBACK_NODES);
    const patched = rendered
      .replace(/^dataDir=\/var\/lib\/zookeeper$/m, `dataDir=${dataDir}`)
      .replace(/^dataLogDir=\/var\/lib\/zookeeper\/txlog$/m, `dataLogDir=${dataLogDir}`);
    const changed = rendered.split("\n").filter((line, i) => line !== patched.split("\n")[i]);
    assert.deepStrictEqual(changed, ["dataDir=/var/lib/zookeeper", "dataLogDir=/var/lib/zookeeper/txlog"]);
    const config = path.join(home, "zoo.cfg");
    writeFileSync(config, patched + extra.map((l) => `${l}\n`).join(""));
    writeFileSync(path.join(dataDir, "myid"), renderMyid(node));
    let output = "";
    const child = spawn(
      "java",
      [
        "-Xmx128m",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
        "-cp",
        `${ZOOKEEPER_JAR}:${LOGGER_JAR}`,
        MAIN,
        config,
      ],
      { cwd: home, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout?.on("data", (d) => (output += d.toString()));
    child.stderr?.on("data", (d) => (output += d.toString()));
    const server = { process: child, output: () => output };
    started.push(server);
    return { server, config };
  }

  void it("one member loads the rendered config, keeps running and looks for the peers its server lines name", async () => {
    const settings = await settingsOnFreePorts();
    const { zookeeperClient: clientPort, zookeeperElection: election } = settings.ports;
    const startedAt = Date.now();
    const { server, config } = start("single", settings, LOOPBACK_NODES[0] as NodeFacts);
    const log = server.output;

    await waitFor(
      "the member to look for a leader and try both peers",
      20_000,
      () =>
        [
          / - LOOKING$/m,
          /Cannot open channel to 2 at election address \/127\.0\.0\.2:/,
          /Cannot open channel to 3 at election address \/127\.0\.0\.3:/,
        ].every((re) => re.test(log())) || server.process.exitCode !== null,
    );
    // A config error makes QuorumPeerMain exit at once; it must still be running three seconds in.
    await new Promise((r) => setTimeout(r, Math.max(0, startedAt + 3000 - Date.now())));
    assert.equal(server.process.exitCode, null, `ZooKeeper exited:\n${log()}`);
    assert.ok(!log().includes("Invalid config"), log());

    const z = settings.zookeeper;
    for (const expected of [
      `Reading configuration from: ${config}`,
      `clientPortAddress is 0.0.0.0:${clientPort}`,
      `tickTime set to ${z.tickTimeMs}`,
      `minSessionTimeout set to ${2 * z.tickTimeMs}`,
      `initLimit set to ${z.initLimitTicks}`,
      `syncLimit set to ${z.syncLimitTicks}`,
      "autopurge.snapRetainCount set to 5",
      "autopurge.purgeInterval set to 6",
      "Starting quorum peer, myid=1",
      `my election bind port: /127.0.0.1:${election}`,
      `Cannot open channel to 2 at election address /127.0.0.2:${election}`,
      `Cannot open channel to 3 at election address /127.0.0.3:${election}`,
    ]) {
      assert.ok(log().includes(expected), `log lacks ${JSON.stringify(expected)}:\n${log()}`);
    }
    // admin.enableServer=false: the server never even tries to create its Jetty AdminServer.
    assert.ok(!log().includes("AdminServer"), "an AdminServer was set up");

    // The whitelisted four-letter commands answer, the others are refused.
    assert.equal(await fourLetter("127.0.0.1", clientPort, "ruok"), "imok");
    assert.match(await fourLetter("127.0.0.1", clientPort, "srvr"), /not currently serving requests/);
    assert.match(
      await fourLetter("127.0.0.1", clientPort, "conf"),
      /conf is not executed because it is not in the whitelist/,
    );
  });

  void it("three members on 127.0.0.1-3 with the rendered myids elect exactly one leader", async () => {
    const settings = await settingsOnFreePorts();
    const clientPort = settings.ports.zookeeperClient;
    const servers = LOOPBACK_NODES.map(
      // On real hosts each member has the client port of its own address; here three share one machine, so each
      // binds its client port to its own loopback address (one appended line; the rendered lines are untouched).
      (node) =>
        start(`ensemble-${node.index}`, settings, node, [`clientPortAddress=${node.privateIp}`]).server,
    );
    const modes = new Map<string, string>();
    await waitFor("every member to be leader or follower", 30_000, async () => {
      for (const node of LOOPBACK_NODES) {
        const answer = await fourLetter(node.privateIp, clientPort, "srvr").catch(() => "");
        const mode = /^Mode: (\w+)$/m.exec(answer)?.[1];
        if (mode) {
          modes.set(node.privateIp, mode);
        }
      }
      if (servers.some((s) => s.process.exitCode !== null)) {
        throw new Error(`a member exited:\n${servers.map((s) => s.output()).join("\n----\n")}`);
      }
      return modes.size === LOOPBACK_NODES.length;
    });
    const roles = [...modes.values()].sort();
    assert.deepStrictEqual(roles, ["follower", "follower", "leader"]);
    for (const [i, server] of servers.entries()) {
      assert.ok(server.output().includes(`Starting quorum peer, myid=${i + 1}`));
    }
  });

  void it("a broken server line makes it exit at once with Invalid config (so the checks above are real)", async () => {
    const settings = await settingsOnFreePorts();
    const { server } = start("broken", settings, LOOPBACK_NODES[0] as NodeFacts, [
      // A later server.2 replaces the rendered one: host:port without the election port.
      `server.2=127.0.0.2:${settings.ports.zookeeperPeer}`,
    ]);
    let timer: NodeJS.Timeout | undefined;
    const [code] = (await Promise.race([
      once(server.process, "exit"),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still running:\n${server.output()}`)), 15_000);
      }),
    ]).finally(() => clearTimeout(timer))) as [number | null];
    assert.notEqual(code, 0);
    assert.ok(server.output().includes("Invalid config"), server.output());
  });
});

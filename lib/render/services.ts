// systemd units and the broker's environment file, rendered as exact text. Pure.
import {
  ACTIVEMQ,
  activemqHome,
  ELECTION_WATCHDOG,
  HOST_MONITOR,
  NODE_EXPORTER,
  SHARED_STORE,
  ZOOKEEPER,
  zookeeperHome,
} from "../layout";
import { StackSettings } from "../settings";
import { masterPort } from "../tls";
import { zookeeperConnect } from "../urls";

const HEADER = "# Rendered by the activemq-ha Pulumi program; pulumi up overwrites manual changes.\n";

/** Hardening that both JVM services tolerate: they write only under /var. */
const HARDENING = ["NoNewPrivileges=true", "ProtectSystem=full", "ProtectHome=true", "PrivateTmp=true"];

/** What differs between the two JVM services' units; the rest (user, hardening, logging, limits) is shared. */
interface JvmServiceUnit {
  readonly description: string;
  readonly documentation: string;
  readonly after: readonly string[];
  readonly unitExtra?: readonly string[];
  readonly user: string;
  readonly workingDirectory: string;
  /** Environment= assignments, each NAME=value (quoted by the renderer). */
  readonly environment?: readonly string[];
  readonly execStartPre?: readonly string[];
  readonly execStart: string;
  readonly restart: "on-failure" | "always";
  readonly restartSeconds: number;
  /** Names the service's lines in the journal (`journalctl -t`); `-u <unit>` finds them too. */
  readonly syslogIdentifier: string;
}

function renderJvmServiceUnit(u: JvmServiceUnit): string {
  return (
    HEADER +
    [
      "[Unit]",
      `Description=${u.description}`,
      `Documentation=${u.documentation}`,
      "Wants=network-online.target",
      `After=${u.after.join(" ")}`,
      ...(u.unitExtra ?? []),
      // Keep trying for as long as it takes: a cluster member that gives up restarting is a lost standby.
      "StartLimitIntervalSec=0",
      "",
      "[Service]",
      "Type=simple",
      `User=${u.user}`,
      `Group=${u.user}`,
      `WorkingDirectory=${u.workingDirectory}`,
      ...(u.environment ?? []).map((assignment) => `Environment="${assignment}"`),
      ...(u.execStartPre ?? []).map((command) => `ExecStartPre=${command}`),
      `ExecStart=${u.execStart}`,
      // 143 = stopped by SIGTERM, which is how systemd stops a JVM.
      "SuccessExitStatus=143",
      `Restart=${u.restart}`,
      `RestartSec=${u.restartSeconds}`,
      "TimeoutStopSec=60",
      "LimitNOFILE=65536",
      // The journal, not a file: journald caps its own size (10% of the file system, at most 4 GiB), where an
      // append: file grew for as long as the host ran. (The test box's minimal Debian has no logrotate.)
      "StandardOutput=journal",
      "StandardError=inherit",
      `SyslogIdentifier=${u.syslogIdentifier}`,
      ...HARDENING,
      "",
      "[Install]",
      "WantedBy=multi-user.target",
    ].join("\n") +
    "\n"
  );
}

export function renderZookeeperUnit(settings: StackSettings): string {
  const z = settings.zookeeper;
  // The versioned path (not the /opt/zookeeper link) makes an upgrade change this file, and so restart the service.
  const home = zookeeperHome(z.version);
  return renderJvmServiceUnit({
    description: "Apache ZooKeeper ensemble member",
    documentation: "https://zookeeper.apache.org/doc/current/zookeeperAdmin.html",
    after: ["network-online.target"],
    user: ZOOKEEPER.user,
    workingDirectory: ZOOKEEPER.dataDir,
    execStart:
      `/usr/bin/java -Xms${z.heapMb}m -Xmx${z.heapMb}m -Dzookeeper.log.dir=${ZOOKEEPER.logDir} ` +
      `-cp "${home}/lib/*:${home}/conf" org.apache.zookeeper.server.quorum.QuorumPeerMain ${ZOOKEEPER.config}`,
    restart: "on-failure",
    restartSeconds: 5,
    // ZooKeeper's logback.xml logs to the console only: everything it logs goes to the journal.
    syslogIdentifier: "zookeeper",
  });
}

/** JVM options every broker needs on JDK 17 (NOTES "ActiveMQ 5.16.8 on JDK 17"). */
export function brokerJvmOptions(settings: StackSettings): string[] {
  const a = settings.activemq;
  const options = [
    `-Xms${a.heapMb}M`,
    `-Xmx${a.heapMb}M`,
    "-Djava.util.logging.config.file=logging.properties",
  ];
  if (settings.haMode === "replicated-leveldb") {
    options.push(
      // Fix 1: the pure-Java LevelDB opens its files through JDK internals.
      "--add-opens",
      "java.base/java.nio=ALL-UNNAMED",
      "--add-exports",
      "java.base/jdk.internal.ref=ALL-UNNAMED",
      // Fix 2 (part): no SASL attempt from the ZooKeeper client.
      "-Dzookeeper.sasl.client=false",
    );
  }
  return options;
}

/**
 * /etc/default/activemq: bin/activemq sources the first config file it finds, and this one comes before
 * bin/env, so bin/env's remote JMX (listening on every interface, NOTES fix 5) is never switched on.
 */
export function renderBrokerEnv(settings: StackSettings): string {
  const home = activemqHome(settings.activemq.version);
  const vars: [string, string][] = [
    ["ACTIVEMQ_HOME", home],
    ["ACTIVEMQ_BASE", ACTIVEMQ.base],
    ["ACTIVEMQ_CONF", ACTIVEMQ.confDir],
    ["ACTIVEMQ_DATA", ACTIVEMQ.dataDir],
    ["ACTIVEMQ_TMP", ACTIVEMQ.tmpDir],
    ["ACTIVEMQ_OPTS", brokerJvmOptions(settings).join(" ")],
    ["ACTIVEMQ_SUNJMX_START", ""],
    ["ACTIVEMQ_SSL_OPTS", ""],
    ["ACTIVEMQ_KILL_MAXSECONDS", "30"],
  ];
  return HEADER + vars.map(([k, v]) => `${k}="${v}"`).join("\n") + "\n";
}

/**
 * replicated-leveldb: the election watchdog's oneshot service, its inputs in its environment: the group's brokers
 * (whose client ports tell whether one serves), this node's index (which orders the hosts' restarts), and the
 * ZooKeeper servers (without a quorum no election can happen, so it waits). It runs as root because it may restart
 * the broker.
 */
export function renderElectionWatchdogService(
  settings: StackSettings,
  addresses: readonly string[],
  selfIndex: number,
): string {
  const w = ELECTION_WATCHDOG;
  return [
    HEADER.trimEnd(),
    "[Unit]",
    "Description=Heal a stuck replicated LevelDB master election (restarts this broker when no broker serves for minutes)",
    `After=${ACTIVEMQ.unit}`,
    "",
    "[Service]",
    "Type=oneshot",
    `StateDirectory=${w.stateDirectory}`,
    `Environment=BROKER_PORT=${masterPort(settings)} SELF_INDEX=${selfIndex}`,
    `Environment=STATE_DIR=/var/lib/${w.stateDirectory} "BROKERS=${addresses.join(" ")}"`,
    `Environment="ZOOKEEPERS=${zookeeperConnect(settings, addresses).split(",").join(" ")}"`,
    `ExecStart=${w.script}`,
    "TimeoutStartSec=60",
    "",
  ].join("\n");
}

/**
 * Every 15 s from a minute after boot: a stuck elector is restarted about 75 s after the last master, any other
 * broker of a stuck group 45 s later per node index.
 */
export function renderElectionWatchdogTimer(): string {
  return [
    HEADER.trimEnd(),
    "[Unit]",
    "Description=Check the replicated LevelDB master election every 15 s",
    "",
    "[Timer]",
    "OnBootSec=60",
    "OnUnitActiveSec=15",
    "AccuracySec=1",
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
}

export function renderBrokerUnit(settings: StackSettings): string {
  const a = settings.activemq;
  return renderJvmServiceUnit({
    description: `Apache ActiveMQ Classic broker ${a.brokerName} (${settings.haMode} master/slave group)`,
    documentation: "https://activemq.apache.org/components/classic/documentation",
    after: ["network-online.target", ...(settings.zookeeper.deploy ? [ZOOKEEPER.unit] : [])],
    // Never start on an empty local directory: without the shared mount the broker would create a private
    // store and become a second master.
    unitExtra: settings.haMode === "shared-kahadb" ? [`RequiresMountsFor=${SHARED_STORE.mountPoint}`] : [],
    user: ACTIVEMQ.user,
    workingDirectory: ACTIVEMQ.dataDir,
    // A host that reboots in seconds (or a broker restarted by hand) must not rejoin inside its previous ZooKeeper
    // session either: the cluster-in-a-box saw such brokers attach to a dead master and stall the next election.
    execStartPre: settings.haMode === "replicated-leveldb" ? [`/bin/sleep ${a.restartDelaySeconds}`] : [],
    execStart: `${activemqHome(a.version)}/bin/activemq console`,
    // Always, not only on failure: a broker sometimes dies at start (NOTES fix 4), and a shared-store master
    // that loses its lock stops itself and exits cleanly; either way the host must stand by again. Only after
    // its old ZooKeeper session has expired, though, or it can come back as a slave of its own dead address.
    restart: "always",
    restartSeconds: a.restartDelaySeconds,
    // The broker's log4j configuration writes the console (to the journal) and activemq.log in ACTIVEMQ_DATA,
    // which it rolls at 1 MB.
    syslogIdentifier: "activemq",
  });
}

/** What the host monitor needs to know: its port, the broker's and ZooKeeper's, and the group's members. */
export interface MonitorInputs {
  readonly selfIndex: number;
  /** Every member of the group as INDEX=ADDRESS (lib/steps/context.ts nodeList). */
  readonly nodes: string;
}

/**
 * The host monitor (scripts/host/HostMonitor.java) as a service of the broker's user, which lets it attach to the
 * broker's JVM. Its own restart touches nothing else, so every host may restart it at once.
 */
export function renderMonitorUnit(settings: StackSettings, inputs: MonitorInputs): string {
  const p = settings.ports;
  return renderJvmServiceUnit({
    description: `ActiveMQ HA host monitor: health and metrics of ${settings.activemq.brokerName}'s broker and ZooKeeper`,
    documentation: "https://prometheus.io/docs/instrumenting/exposition_formats/",
    after: ["network-online.target", ACTIVEMQ.unit],
    // The broker's private /tmp, where its JVM opens the attach socket: without it the JDK's attach looks in the
    // monitor's own private /tmp and times out (seen in the cluster-in-a-box: "Unable to open socket file").
    unitExtra: [`JoinsNamespaceOf=${ACTIVEMQ.unit}`],
    user: ACTIVEMQ.user,
    workingDirectory: ACTIVEMQ.dataDir,
    environment: [
      `MONITOR_PORT=${p.monitor}`,
      `BROKER_PORT=${masterPort(settings)}`,
      `ZOOKEEPER_CLIENT_PORT=${settings.zookeeper.deploy ? p.zookeeperClient : ""}`,
      `SELF_INDEX=${inputs.selfIndex}`,
      `NODES=${inputs.nodes}`,
    ],
    // Serial GC and the C1 compiler only: a small, steady footprint beside the broker.
    execStart:
      `/usr/bin/java -Xms16m -Xmx${HOST_MONITOR.heapMb}m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k ` +
      HOST_MONITOR.source,
    restart: "always",
    restartSeconds: 5,
    syslogIdentifier: "activemq-ha-monitor",
  });
}

/** Debian's node exporter on the stack's port: a drop-in that replaces the package's ExecStart. */
export function renderNodeExporterDropIn(settings: StackSettings): string {
  return [
    HEADER.trimEnd(),
    "[Service]",
    "ExecStart=",
    `ExecStart=${NODE_EXPORTER.binary} --web.listen-address=:${settings.ports.nodeExporter}`,
    "",
  ].join("\n");
}

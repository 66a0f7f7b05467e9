// Where everything lives on a host. One place, so scripts (which receive these as named inputs), rendered
// files and tests agree. Software under /opt (a versioned directory and a symlink), data under /var/lib,
// configuration under /etc. The services log to the journal; the broker's own activemq.log is in its data
// directory.

export const ZOOKEEPER = {
  user: "zookeeper",
  installRoot: "/opt",
  link: "/opt/zookeeper",
  confDir: "/etc/zookeeper",
  config: "/etc/zookeeper/zoo.cfg",
  dataDir: "/var/lib/zookeeper",
  dataLogDir: "/var/lib/zookeeper/txlog",
  /** zookeeper.log.dir: where logback.xml would put a log file. Its default logs to the console (the journal) only. */
  logDir: "/var/log/zookeeper",
  unit: "zookeeper.service",
} as const;

export const ACTIVEMQ = {
  user: "activemq",
  installRoot: "/opt",
  link: "/opt/activemq",
  /** ACTIVEMQ_BASE: its lib/optional comes before the distribution's on the class path (NOTES, fix 2). */
  base: "/opt/activemq-base",
  confDir: "/etc/activemq",
  envFile: "/etc/default/activemq",
  dataDir: "/var/lib/activemq",
  /** The broker JVM's java.io.tmpdir (ACTIVEMQ_TMP). */
  tmpDir: "/var/lib/activemq/tmp",
  unit: "activemq.service",
} as const;

/** replicated-leveldb: the watchdog that heals a stuck master election (scripts/host/election-watchdog.sh). */
export const ELECTION_WATCHDOG = {
  script: "/usr/local/libexec/activemq-ha/election-watchdog",
  unit: "activemq-election-watchdog.service",
  timer: "activemq-election-watchdog.timer",
  /** systemd's StateDirectory= under /var/lib. */
  stateDirectory: "activemq-election-watchdog",
} as const;

/** shared-kahadb: where every host mounts the shared file system. */
export const SHARED_STORE = {
  mountPoint: "/mnt/activemq-shared",
  /** systemd's name for the mount unit of that path. */
  mountUnit: "mnt-activemq\\x2dshared.mount",
  kahaDbDir: "/mnt/activemq-shared/kahadb",
} as const;

export function zookeeperHome(version: string): string {
  return `${ZOOKEEPER.installRoot}/apache-zookeeper-${version}-bin`;
}

export function activemqHome(version: string): string {
  return `${ACTIVEMQ.installRoot}/apache-activemq-${version}`;
}

// Every setting of the stack: names, types, defaults and rules, validated in one pass. Pure: config.ts feeds it
// from pulumi.Config, tests feed it from plain objects. A bad value is reported with the setting's name, the value
// given and what is allowed, before any cloud resource exists.
import { Ports, clusterIngressRules } from "./firewall";
import { groupBrokerName } from "./groups";
import { IMAGE_ARCHITECTURE, OperatingSystem } from "./images";
import {
  HOST_RESERVE,
  knownX86Families,
  largestHeapsMiB,
  lookupInstanceType,
  memoryNeededMiB,
  MIN_HOST_MEMORY_GIB,
} from "./instanceTypes";
import { normalizeFingerprint, RELEASE_KEYS } from "./releaseKeys";
import {
  caProblem,
  nodeCertificateProblem,
  CLIENT_CERTIFICATE_MODES,
  CLIENT_TRANSPORTS,
  ClientCertificates,
  TlsSettings,
} from "./tls";
import { Cidr, parseCidr, PRIVATE_BLOCKS, wideExposures, WIDEST_PUBLIC_PREFIX } from "./net";
import {
  artifactFileName,
  checkActiveMqVersion,
  checkZookeeperVersion,
  parseVersion,
  DEFAULT_KAHADB_ACTIVEMQ_VERSION,
  DEFAULT_LEVELDB_ACTIVEMQ_VERSION,
  DEFAULT_ZOOKEEPER_VERSION,
  HaMode,
  KNOWN_SHA512,
  Product,
} from "./versions";

export type { OperatingSystem };
export type ReplicationSync = "quorum_mem" | "quorum_disk" | "local_mem,remote_mem" | "local_disk,remote_mem";

export type { Ports };

export type NetworkSettings =
  | { readonly kind: "create"; readonly vpcCidr: string }
  | { readonly kind: "existing"; readonly vpcId: string; readonly subnetIds: readonly string[] };

export interface StackSettings {
  readonly haMode: HaMode;
  readonly nodeCount: number;
  /**
   * HA groups, each of nodeCount hosts with its own election, store and brokerName, linked in a full mesh of network
   * connectors (lib/groups.ts).
   */
  readonly groups: number;
  /** Lets one run lower `groups`, deleting the last groups' hosts and stores (lib/dayTwo.ts says when). */
  readonly allowGroupRemoval: boolean;
  readonly network: NetworkSettings;
  readonly os: OperatingSystem;
  /** Pins the image instead of the newest matching one. */
  readonly amiId?: string;
  readonly instanceType: string;
  readonly rootVolumeSizeGiB: number;
  readonly clientCidrs?: readonly Cidr[]; // undefined: the VPC's own block
  readonly clientSecurityGroupIds: readonly string[];
  readonly sshCidrs?: readonly Cidr[]; // undefined: the deployer's public address, looked up by config.ts
  readonly consoleCidrs: readonly Cidr[];
  /** Run the web console (on 127.0.0.1 unless consoleCidrs open it). */
  readonly webConsole: boolean;
  /**
   * Who may poll each host's monitor (health and metrics, scripts/host/HostMonitor.java) and its node exporter; empty: the
   * monitor answers the group's members only and no node exporter runs.
   */
  readonly monitoringCidrs: readonly Cidr[];
  readonly sshPublicKey?: string; // given with the sshPrivateKey secret, or both absent (generated)
  readonly ports: Ports;
  /** TLS on the client port (lib/tls.ts). */
  readonly tls: TlsSettings;
  readonly artifactBaseUrl: string;
  readonly mavenBaseUrl: string;
  readonly zookeeper: {
    readonly deploy: boolean;
    readonly version: string;
    /** An extra pin of the tarball's SHA-512 (zookeeperSha512, else KNOWN_SHA512); "" when there is none. */
    readonly sha512: string;
    /** Fingerprints of the keys whose signature makes a ZooKeeper release authentic (lib/releaseKeys.ts). */
    readonly signingKeys: readonly string[];
    readonly heapMb: number;
    readonly tickTimeMs: number;
    readonly initLimitTicks: number;
    readonly syncLimitTicks: number;
  };
  readonly activemq: {
    readonly version: string;
    /** An extra pin of the tarball's SHA-512 (activemqSha512, else KNOWN_SHA512); "" when there is none. */
    readonly sha512: string;
    /** Fingerprints of the keys whose signature makes an ActiveMQ release authentic (lib/releaseKeys.ts). */
    readonly signingKeys: readonly string[];
    readonly brokerName: string;
    readonly heapMb: number;
    readonly brokerUser: string;
    readonly consoleUser: string;
    readonly replicationSync: ReplicationSync;
    readonly zkPath: string;
    readonly zkSessionTimeoutMs: number;
    /** Seconds systemd waits before restarting a failed broker: longer than the ZooKeeper session (NOTES). */
    readonly restartDelaySeconds: number;
    /** shared-kahadb: how often the lock holder checks it still holds the lock. */
    readonly lockKeepAlivePeriodMs: number;
    /**
     * The destination patterns the application's user (brokerUser) may use; [">"] (the default): every destination,
     * as the operators' user may. lib/render/activemq.ts renderAuthorizationPlugin turns them into entries.
     */
    readonly appDestinations: readonly string[];
  };
  readonly failover: {
    readonly initialReconnectDelayMs: number;
    readonly maxReconnectDelayMs: number;
    /** How long a client waits for a TCP connect to one broker before it tries the next. */
    readonly connectionTimeoutMs: number;
    /**
     * OpenWire's inactivity bound on every broker connection of the failover URLs and bridges: a silent peer is
     * given up after one to two of these (the transport's default is 30 s).
     */
    readonly maxInactivityMs: number;
  };
  /** Test harnesses only: accept an ActiveMQ version outside the supported list. Never in a real stack. */
  readonly testOnlyAllowUnsupportedActiveMq: boolean;
  /**
   * Test harnesses only: accept a ZooKeeper version below the advisory floors (the cluster-in-a-box builds its
   * ZooKeeper from Debian's 3.8.0). Never in a real stack.
   */
  readonly testOnlyAllowUnsupportedZookeeper: boolean;
  /** Test harnesses only: accept http:// artifact URLs (their mirrors have no certificate). Never in a real stack. */
  readonly testOnlyAllowPlainHttp: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

/** What the settings reader needs from its source: plain text values by key, undefined when unset. */
export type RawSettings = Readonly<Record<string, string | undefined>>;

export class SettingsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid stack configuration (nothing was created):\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
        `Set values with: pulumi config set <setting> <value>`,
    );
    this.name = "SettingsError";
  }
}

const OPERATING_SYSTEMS: readonly OperatingSystem[] = ["debian-12", "ubuntu-24.04"];
const HA_MODES: readonly HaMode[] = ["replicated-leveldb", "shared-kahadb"];
const SYNC_MODES: readonly ReplicationSync[] = [
  "quorum_mem",
  "quorum_disk",
  "local_mem,remote_mem",
  "local_disk,remote_mem",
];
/** The largest network of HA groups: a full mesh of n groups runs n × (n − 1) bridges per direction pair. */
export const MAX_GROUPS = 5;
/** Ports below 1024 need root, which neither service runs as. */
const PORT_RANGE = { min: 1024, max: 65535 };

/** The names of every setting, as in Pulumi.yaml. Unknown keys are rejected, which catches typos. */
export const SETTING_NAMES = [
  "haMode",
  "nodeCount",
  "groups",
  "allowGroupRemoval",
  "vpcCidr",
  "vpcId",
  "subnetIds",
  "os",
  "amiId",
  "instanceType",
  "rootVolumeSizeGiB",
  "clientCidrs",
  "clientSecurityGroupIds",
  "sshCidrs",
  "consoleCidrs",
  "webConsole",
  "monitoringCidrs",
  "monitorPort",
  "nodeExporterPort",
  "sshPublicKey",
  "sshPrivateKey",
  "openwirePort",
  "openwireTlsPort",
  "clientTransport",
  "clientCertificates",
  "tlsCaCertificate",
  "tlsCaKey",
  "tlsNodeCertificates",
  "tlsNodeKeys",
  "clientCaCertificate",
  "tlsCertificateValidityDays",
  "tlsRenewBeforeDays",
  "replicationPort",
  "zookeeperClientPort",
  "zookeeperPeerPort",
  "zookeeperElectionPort",
  "consolePort",
  "artifactBaseUrl",
  "mavenBaseUrl",
  "zookeeperDeploy",
  "zookeeperVersion",
  "zookeeperSha512",
  "zookeeperSigningKeys",
  "zookeeperHeapMb",
  "zookeeperTickTimeMs",
  "zookeeperInitLimit",
  "zookeeperSyncLimit",
  "activemqVersion",
  "activemqSha512",
  "activemqSigningKeys",
  "brokerName",
  "brokerHeapMb",
  "brokerUser",
  "consoleUser",
  "replicationSync",
  "zkPath",
  "zkSessionTimeoutMs",
  "brokerRestartDelaySeconds",
  "lockKeepAlivePeriodMs",
  "appDestinations",
  "failoverInitialReconnectDelayMs",
  "failoverMaxReconnectDelayMs",
  "failoverConnectionTimeoutMs",
  "failoverMaxInactivityMs",
  "testOnlyAllowUnsupportedActiveMq",
  "testOnlyAllowUnsupportedZookeeper",
  "testOnlyAllowPlainHttp",
  "tags",
] as const;

/**
 * Tag keys the program sets itself, beside the user's tags: components/cluster.ts adds activemq-ha:cluster and
 * stack to every resource, components/*.ts add Name, and components/hosts.ts role and node (test/unit/tags.test.ts
 * checks this list against a mocked stack). A user tag with one of these keys would be silently replaced.
 */
export const PROGRAM_TAG_KEYS: readonly string[] = ["Name", "role", "node", "activemq-ha:cluster", "stack"];
/** AWS's limit of tags on one resource. */
const AWS_TAGS_PER_RESOURCE = 50;

/** Reads and checks every setting; throws one SettingsError listing every problem found. */
export function parseSettings(raw: RawSettings): StackSettings {
  const r = new Reader(raw);
  for (const key of Object.keys(raw)) {
    if (raw[key] !== undefined && !(SETTING_NAMES as readonly string[]).includes(key)) {
      // The value is not repeated: an unknown key may hold a secret.
      r.unknown(key);
    }
  }

  const haMode = r.oneOf("haMode", HA_MODES, "replicated-leveldb");
  const nodeCount = r.int("nodeCount", 3, { min: 3, max: 7, odd: true });
  const groups = r.int("groups", 1, { min: 1, max: MAX_GROUPS });
  const allowGroupRemoval = r.bool("allowGroupRemoval", false);

  const network = readNetwork(r);

  const os = r.oneOf("os", OPERATING_SYSTEMS, "debian-12");
  const amiId = r.pattern("amiId", /^ami-[0-9a-f]{8,17}$/, "an AMI id like ami-0123456789abcdef0");
  const instanceType = r.pattern(
    "instanceType",
    /^[a-z][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$/,
    "an EC2 instance type such as t3.medium or m6i.large",
    "t3.medium",
  ) as string;
  const hostMemoryMiB = checkInstanceType(r, instanceType);
  const rootVolumeSizeGiB = r.int("rootVolumeSizeGiB", 20, { min: 10, max: 1024 });

  const { clientCidrs, sshCidrs, consoleCidrs, webConsole, clientSecurityGroupIds, monitoringCidrs } =
    readExposure(r);

  const sshPublicKey = readSshPublicKey(r);

  const ports = readPorts(r);

  const testOnlyAllowPlainHttp = r.bool("testOnlyAllowPlainHttp", false);
  const artifactBaseUrl = r.url("artifactBaseUrl", "https://archive.apache.org/dist", testOnlyAllowPlainHttp);
  const mavenBaseUrl = r.url("mavenBaseUrl", "https://repo1.maven.org/maven2", testOnlyAllowPlainHttp);

  // replicated-leveldb always needs the ensemble (the brokers elect their master through it); in shared-kahadb
  // it is optional, for other users of ZooKeeper.
  const zookeeperDeploy = r.bool("zookeeperDeploy", false) || haMode === "replicated-leveldb";
  const testOnlyAllowUnsupportedZookeeper = r.bool("testOnlyAllowUnsupportedZookeeper", false);
  const zookeeperVersion = r.version("zookeeperVersion", DEFAULT_ZOOKEEPER_VERSION, (v) =>
    testOnlyAllowUnsupportedZookeeper
      ? parseVersion(v) === undefined
        ? "a release number (x.y.z)"
        : undefined
      : checkZookeeperVersion(v),
  );
  const zookeeperHeapMb = r.int("zookeeperHeapMb", 512, { min: 128, max: 65536 });
  const brokerHeapMb = r.int("brokerHeapMb", 1024, { min: 256, max: 65536 });
  checkHeapsFit(r, instanceType, hostMemoryMiB, brokerHeapMb, zookeeperDeploy ? zookeeperHeapMb : undefined);
  const { tickTimeMs, zkSessionTimeoutMs } = readZookeeperSession(r);

  const { testOnlyAllowUnsupportedActiveMq, activemqVersion } = readActiveMqVersion(r, haMode);

  const restartDelaySeconds = readRestartDelay(r, haMode, zkSessionTimeoutMs);

  const settings: StackSettings = {
    haMode,
    nodeCount,
    groups,
    allowGroupRemoval,
    network,
    os,
    ...(amiId !== undefined ? { amiId } : {}),
    instanceType,
    rootVolumeSizeGiB,
    ...(clientCidrs !== undefined ? { clientCidrs } : {}),
    clientSecurityGroupIds,
    ...(sshCidrs !== undefined ? { sshCidrs } : {}),
    consoleCidrs,
    webConsole,
    monitoringCidrs,
    ...(sshPublicKey !== undefined ? { sshPublicKey } : {}),
    ports,
    tls: readTlsSettings(r, haMode, nodeCount, groups),
    artifactBaseUrl,
    mavenBaseUrl,
    zookeeper: {
      deploy: zookeeperDeploy,
      version: zookeeperVersion,
      sha512: resolveSha512(r, "zookeeperSha512", "zookeeper", zookeeperVersion),
      signingKeys: r.fingerprints("zookeeperSigningKeys", "zookeeper"),
      heapMb: zookeeperHeapMb,
      tickTimeMs,
      initLimitTicks: r.int("zookeeperInitLimit", 10, { min: 2, max: 100 }),
      // Followers give up on a silent leader after syncLimit ticks, and every broker waits for the ensemble to
      // elect again: in the box a dead master whose host also led ZooKeeper took 8.5 s to replace with 5 ticks,
      // against 3.0 s when its host was a follower (npm run bench, 2026-12-06). 2 ticks of 1 s keep a follower that
      // lags by a second in the ensemble.
      syncLimitTicks: r.int("zookeeperSyncLimit", 2, { min: 1, max: 100 }),
    },
    activemq: {
      version: activemqVersion,
      sha512: resolveSha512(r, "activemqSha512", "activemq", activemqVersion),
      signingKeys: r.fingerprints("activemqSigningKeys", "activemq"),
      brokerName: r.pattern(
        "brokerName",
        /^[A-Za-z][A-Za-z0-9_-]{0,63}$/,
        "letters, digits, - and _ (starting with a letter)",
        "amq-ha",
      ) as string,
      heapMb: brokerHeapMb,
      brokerUser: r.pattern(
        "brokerUser",
        /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/,
        "letters, digits, ., - and _",
        "app",
      ) as string,
      consoleUser: r.pattern(
        "consoleUser",
        /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/,
        "letters, digits, ., - and _",
        "admin",
      ) as string,
      replicationSync: r.oneOf("replicationSync", SYNC_MODES, "quorum_mem"),
      zkPath: readZkPath(r),
      zkSessionTimeoutMs,
      restartDelaySeconds,
      lockKeepAlivePeriodMs: r.int("lockKeepAlivePeriodMs", 2000, { min: 500, max: 60000 }),
      appDestinations: readAppDestinations(r),
    },
    failover: {
      initialReconnectDelayMs: r.int("failoverInitialReconnectDelayMs", 10, { min: 1, max: 60000 }),
      maxReconnectDelayMs: r.int("failoverMaxReconnectDelayMs", 100, { min: 10, max: 300000 }),
      connectionTimeoutMs: r.int("failoverConnectionTimeoutMs", 1000, { min: 100, max: 60000 }),
      maxInactivityMs: r.int("failoverMaxInactivityMs", 2000, { min: 1000, max: 600000 }),
    },
    testOnlyAllowUnsupportedActiveMq,
    testOnlyAllowUnsupportedZookeeper,
    testOnlyAllowPlainHttp,
    tags: checkTags(r, r.tags("tags")),
  };
  checkFailoverAndLogins(r, settings);
  checkGroupNames(r, settings);
  checkRuleNamesUnique(r, settings);
  r.finish();
  return settings;
}

/** Where the hosts go: an existing VPC and its subnets, or a VPC to create from vpcCidr. */
function readNetwork(r: Reader): NetworkSettings {
  const vpcId = r.pattern("vpcId", /^vpc-[0-9a-f]{8,17}$/, "a VPC id like vpc-0123456789abcdef0");
  const subnetIds = r.list(
    "subnetIds",
    /^subnet-[0-9a-f]{8,17}$/,
    "subnet ids like subnet-0123456789abcdef0",
  );
  let network: NetworkSettings;
  if (vpcId !== undefined || subnetIds !== undefined) {
    if (vpcId === undefined || subnetIds === undefined || subnetIds.length < 3) {
      r.problem(
        "vpcId/subnetIds",
        `${vpcId ?? "(unset)"} / ${subnetIds?.join(",") ?? "(unset)"}`,
        "both set together: an existing VPC id and at least 3 of its subnets, each in a different availability zone",
      );
    }
    const vpcCidr = r.text("vpcCidr");
    if (vpcCidr !== undefined) {
      r.problem("vpcCidr", vpcCidr, "empty when vpcId is given (the existing VPC has its own block)");
    }
    network = { kind: "existing", vpcId: vpcId ?? "", subnetIds: subnetIds ?? [] };
  } else {
    const vpcCidr = r.cidr("vpcCidr", "10.0.0.0/16");
    if (vpcCidr && (vpcCidr.family !== "ipv4" || vpcCidr.prefix < 16 || vpcCidr.prefix > 24)) {
      r.problem(
        "vpcCidr",
        vpcCidr.text,
        "an IPv4 block from /16 to /24 (AWS allows /16 to /28; three subnets need /24 or larger)",
      );
    }
    network = { kind: "create", vpcCidr: vpcCidr?.text ?? "10.0.0.0/16" };
  }

  return network;
}

/** Who may reach the client port, SSH, the console and the monitors, and whether the console runs. */
function readExposure(r: Reader): {
  clientCidrs: Cidr[] | undefined;
  sshCidrs: Cidr[] | undefined;
  consoleCidrs: Cidr[];
  webConsole: boolean;
  clientSecurityGroupIds: string[];
  monitoringCidrs: Cidr[];
} {
  const clientCidrs = r.cidrs("clientCidrs");
  const sshCidrs = r.cidrs("sshCidrs");
  const consoleCidrs = r.cidrs("consoleCidrs") ?? [];
  const monitoringCidrs = r.cidrs("monitoringCidrs") ?? [];
  for (const [key, blocks] of [
    ["clientCidrs", clientCidrs],
    ["consoleCidrs", consoleCidrs],
    ["sshCidrs", sshCidrs],
    ["monitoringCidrs", monitoringCidrs],
  ] as const) {
    checkCidrExposure(r, key, blocks ?? []);
  }
  const webConsole = r.bool("webConsole", true);
  if (!webConsole && consoleCidrs.length > 0) {
    r.problem("consoleCidrs", consoleCidrs.map((c) => c.text).join(","), "none when webConsole is false");
  }
  const clientSecurityGroupIds =
    r.list("clientSecurityGroupIds", /^sg-[0-9a-f]{8,17}$/, "security group ids like sg-0123456789abcdef0") ??
    [];

  return { clientCidrs, sshCidrs, consoleCidrs, webConsole, clientSecurityGroupIds, monitoringCidrs };
}

/** The operator's SSH public key, set together with its private key or not at all. */
function readSshPublicKey(r: Reader): string | undefined {
  const sshPublicKey = r.text("sshPublicKey");
  // EC2 key pairs take RSA and ED25519 keys only (ImportKeyPair); an ECDSA key would fail at the key pair.
  if (sshPublicKey !== undefined && !/^(ssh-ed25519|ssh-rsa) [A-Za-z0-9+/=]+/.test(sshPublicKey)) {
    r.problem(
      "sshPublicKey",
      sshPublicKey.slice(0, 20) + "…",
      "an OpenSSH public key line of an RSA or ED25519 key (ssh-ed25519 AAAA…, ssh-rsa AAAA…): EC2 key pairs take no other",
    );
  }
  if ((sshPublicKey === undefined) !== (r.text("sshPrivateKey") === undefined)) {
    r.problem(
      "sshPublicKey/sshPrivateKey",
      sshPublicKey === undefined ? "only sshPrivateKey set" : "only sshPublicKey set",
      "both (the public key, and the private key with `pulumi config set --secret sshPrivateKey`) or neither (a key is generated)",
    );
  }

  return sshPublicKey;
}

/** Every service's port, no two alike. */
function readPorts(r: Reader): Ports {
  const ports: Ports = {
    openwire: r.int("openwirePort", 61616, PORT_RANGE),
    openwireTls: r.int("openwireTlsPort", 61617, PORT_RANGE),
    replication: r.int("replicationPort", 61619, PORT_RANGE),
    zookeeperClient: r.int("zookeeperClientPort", 2181, PORT_RANGE),
    zookeeperPeer: r.int("zookeeperPeerPort", 2888, PORT_RANGE),
    zookeeperElection: r.int("zookeeperElectionPort", 3888, PORT_RANGE),
    console: r.int("consolePort", 8161, PORT_RANGE),
    monitor: r.int("monitorPort", 9404, PORT_RANGE),
    nodeExporter: r.int("nodeExporterPort", 9100, PORT_RANGE),
  };
  const portEntries = Object.entries(ports);
  for (const [name, port] of portEntries) {
    const clash = portEntries.find(([other, p]) => other < name && p === port);
    if (clash) {
      r.problem(
        `${name}Port`,
        String(port),
        `a port different from ${clash[0]}Port (${clash[1]}): no two services can share one`,
      );
    }
  }

  return ports;
}

/** ZooKeeper's tick and the brokers' session, within the bounds ZooKeeper would otherwise impose silently. */
function readZookeeperSession(r: Reader): { tickTimeMs: number; zkSessionTimeoutMs: number } {
  const tickTimeMs = r.int("zookeeperTickTimeMs", 1000, { min: 200, max: 10000 });
  const zkSessionTimeoutMs = r.int("zkSessionTimeoutMs", 2000, { min: 1000, max: 60000 });
  if (zkSessionTimeoutMs % 1000 !== 0) {
    r.problem(
      "zkSessionTimeoutMs",
      String(zkSessionTimeoutMs),
      "a whole number of seconds in ms (e.g. 2000): the store reads its session timeout in whole seconds",
    );
  }
  if (zkSessionTimeoutMs > 20 * tickTimeMs) {
    r.problem(
      "zkSessionTimeoutMs",
      String(zkSessionTimeoutMs),
      `at most 20 × zookeeperTickTimeMs (${20 * tickTimeMs}): ZooKeeper silently lowers longer sessions to that`,
    );
  }
  if (zkSessionTimeoutMs < 2 * tickTimeMs) {
    r.problem(
      "zkSessionTimeoutMs",
      String(zkSessionTimeoutMs),
      `at least 2 × zookeeperTickTimeMs (${2 * tickTimeMs}): ZooKeeper raises shorter sessions to that, silently slowing failover`,
    );
  }

  return { tickTimeMs, zkSessionTimeoutMs };
}

/** The broker release the mode allows (any, for shared-kahadb test harnesses only). */
function readActiveMqVersion(
  r: Reader,
  haMode: HaMode,
): { testOnlyAllowUnsupportedActiveMq: boolean; activemqVersion: string } {
  const testOnlyAllowUnsupportedActiveMq = r.bool("testOnlyAllowUnsupportedActiveMq", false);
  const activemqVersion = r.version(
    "activemqVersion",
    haMode === "replicated-leveldb" ? DEFAULT_LEVELDB_ACTIVEMQ_VERSION : DEFAULT_KAHADB_ACTIVEMQ_VERSION,
    (v) => (testOnlyAllowUnsupportedActiveMq ? undefined : checkActiveMqVersion(haMode, v)),
    `in haMode ${haMode}: `,
  );
  if (testOnlyAllowUnsupportedActiveMq && haMode === "replicated-leveldb") {
    r.problem(
      "testOnlyAllowUnsupportedActiveMq",
      "true",
      "false in haMode replicated-leveldb (only 5.16.7/5.16.8 have LevelDB)",
    );
  }

  return { testOnlyAllowUnsupportedActiveMq, activemqVersion };
}

/** How long a failed broker waits before it starts again: past its old ZooKeeper session in replicated-leveldb. */
function readRestartDelay(r: Reader, haMode: HaMode, zkSessionTimeoutMs: number): number {
  // 0 (Pulumi.yaml's default) means: derived from the session.
  const restartDelaySeconds =
    r.int("brokerRestartDelaySeconds", 0, { min: 0, max: 600 }) ||
    Math.ceil((zkSessionTimeoutMs * 2) / 1000) + 1;
  if (haMode === "replicated-leveldb" && restartDelaySeconds * 1000 <= zkSessionTimeoutMs) {
    r.problem(
      "brokerRestartDelaySeconds",
      String(restartDelaySeconds),
      `more than zkSessionTimeoutMs (${zkSessionTimeoutMs} ms): a broker restarted inside its old session can stick as a slave of itself`,
    );
  }

  return restartDelaySeconds;
}

/** Rules across settings read apart: reconnect delays in order, and two logins of different names. */
function checkFailoverAndLogins(r: Reader, settings: StackSettings): void {
  if (settings.failover.maxReconnectDelayMs < settings.failover.initialReconnectDelayMs) {
    r.problem(
      "failoverMaxReconnectDelayMs",
      String(settings.failover.maxReconnectDelayMs),
      `at least failoverInitialReconnectDelayMs (${settings.failover.initialReconnectDelayMs})`,
    );
  }
  if (settings.activemq.consoleUser === settings.activemq.brokerUser) {
    r.problem(
      "consoleUser",
      settings.activemq.consoleUser,
      `a name other than brokerUser (${settings.activemq.brokerUser}): the broker keeps one login per name, so the ` +
        `application and the admin would share one password`,
    );
  }
}

/** Every group's brokerName (lib/groups.ts) must fit the pattern brokerName has: at most 64 characters. */
function checkGroupNames(r: Reader, settings: StackSettings): void {
  const longest = groupBrokerName(settings, settings.groups);
  if (longest.length > 64) {
    r.problem(
      "brokerName",
      settings.activemq.brokerName,
      `at most ${64 - (longest.length - settings.activemq.brokerName.length)} characters with groups ` +
        `${settings.groups}: group ${settings.groups} is named ${longest}`,
    );
  }
}

/**
 * The client port's TLS. Mutual TLS is the default where the broker is 5.16.x: CVE-2026-50734 crashes it with one
 * crafted frame before authentication, and only a required client certificate keeps an unauthenticated peer away
 * from the OpenWire negotiation (README, TLS). 5.19.x has the fix: a password over TLS, as Amazon MQ offers.
 */
function readTlsSettings(r: Reader, haMode: HaMode, nodeCount: number, groups: number): TlsSettings {
  const transport = r.oneOf("clientTransport", CLIENT_TRANSPORTS, "tls");
  const fallback: ClientCertificates =
    transport !== "tcp" && haMode === "replicated-leveldb" ? "required" : "off";
  const clientCertificates = r.oneOf("clientCertificates", CLIENT_CERTIFICATE_MODES, fallback);
  if (transport === "tcp" && clientCertificates !== "off") {
    r.problem(
      "clientCertificates",
      clientCertificates,
      `off when clientTransport is tcp (client certificates need TLS: set clientTransport to tls or tls+tcp)`,
    );
  }
  const caCertificate = r.text("tlsCaCertificate");
  const caKey = r.text("tlsCaKey");
  const nodeCertificates = readNodeCertificates(r, nodeCount, caCertificate, caKey);
  if (nodeCertificates !== undefined && groups > 1) {
    // A brought certificate would also need the client-authentication use the bridges between groups present.
    r.problem(
      "tlsNodeCertificates",
      `${nodeCertificates.length} certificates`,
      `unset with groups ${groups} (brought node certificates serve one group only): bring the CA instead ` +
        `(tlsCaCertificate and the secret tlsCaKey), or groups 1`,
    );
  }
  // With node certificates the CA comes without its key (readNodeCertificates checks that).
  if (nodeCertificates === undefined && (caCertificate === undefined) !== (caKey === undefined)) {
    r.problem(
      "tlsCaCertificate/tlsCaKey",
      caCertificate === undefined ? "only tlsCaKey set" : "only tlsCaCertificate set",
      "both (your CA's certificate, and its key with `pulumi config set --secret tlsCaKey < ca.key`) or neither " +
        "(the stack makes its own CA)",
    );
  }
  if (caCertificate !== undefined && (caKey !== undefined || nodeCertificates !== undefined)) {
    const problem = caProblem(caCertificate, caKey);
    if (problem !== undefined) {
      r.problem(
        "tlsCaCertificate",
        shorten(caCertificate),
        `a PEM CA certificate valid now with its key: ${problem}`,
      );
    }
  }
  const clientCaCertificate = r.text("clientCaCertificate");
  if (clientCaCertificate !== undefined) {
    const problem =
      clientCertificates === "off" ? "clientCertificates is off" : caProblem(clientCaCertificate);
    if (problem !== undefined) {
      r.problem(
        "clientCaCertificate",
        shorten(clientCaCertificate),
        `PEM CA certificates valid now, with clientCertificates optional or required: ${problem}`,
      );
    }
  }
  const certificateValidityDays = r.int("tlsCertificateValidityDays", 365, { min: 30, max: 3650 });
  const renewBeforeDays = r.int("tlsRenewBeforeDays", 30, { min: 1, max: 365 });
  if (renewBeforeDays * 2 > certificateValidityDays) {
    r.problem(
      "tlsRenewBeforeDays",
      String(renewBeforeDays),
      `at most half of tlsCertificateValidityDays (${certificateValidityDays}), or every update would renew`,
    );
  }
  // PEM files end with a newline (the reader trims values).
  return {
    transport,
    clientCertificates,
    ...(caCertificate !== undefined ? { caCertificate: `${caCertificate}\n` } : {}),
    ...(clientCaCertificate !== undefined ? { clientCaCertificate: `${clientCaCertificate}\n` } : {}),
    ...(nodeCertificates !== undefined ? { nodeCertificates } : {}),
    certificateValidityDays,
    renewBeforeDays,
  };
}

/**
 * tlsNodeCertificates (a JSON list of PEM chains, node order) with the secret tlsNodeKeys (the same, for the keys):
 * one each per node, issued by tlsCaCertificate, which is then given without its key. A key is never repeated in a
 * message.
 */
function readNodeCertificates(
  r: Reader,
  nodeCount: number,
  caCertificate: string | undefined,
  caKey: string | undefined,
): string[] | undefined {
  // An empty list is Pulumi.yaml's default: unset.
  const unlessEmpty = (text: string | undefined) => (text?.replace(/\s/g, "") === "[]" ? undefined : text);
  const certificates = unlessEmpty(r.text("tlsNodeCertificates"));
  const keys = unlessEmpty(r.text("tlsNodeKeys"));
  if (certificates === undefined && keys === undefined) {
    return undefined;
  }
  const parse = (text: string | undefined): string[] | undefined => {
    try {
      const value: unknown = JSON.parse(text ?? "");
      return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
    } catch {
      return undefined;
    }
  };
  const certs = parse(certificates);
  const pems = parse(keys);
  const allowed =
    `tlsNodeCertificates and the secret tlsNodeKeys together, each a JSON list of ${nodeCount} PEM texts in node ` +
    `order (pulumi config set --path 'tlsNodeCertificates[0]' -- "$(cat node1.crt)", and --secret for the keys), ` +
    `with tlsCaCertificate (the CA that issued them) and without tlsCaKey`;
  if (certs === undefined || pems === undefined || certs.length !== nodeCount || pems.length !== nodeCount) {
    const shape = (list: string[] | undefined, text: string | undefined) =>
      text === undefined
        ? "unset"
        : list === undefined
          ? "not a JSON list of strings"
          : `${list.length} entries`;
    r.problem(
      "tlsNodeCertificates/tlsNodeKeys",
      `${shape(certs, certificates)} / ${shape(pems, keys)}`,
      allowed,
    );
    return undefined;
  }
  if (caCertificate === undefined || caKey !== undefined) {
    r.problem(
      "tlsNodeCertificates",
      caCertificate === undefined ? "given without tlsCaCertificate" : "given with tlsCaKey",
      allowed,
    );
    return undefined;
  }
  certs.forEach((cert, i) => {
    const problem = nodeCertificateProblem(cert, pems[i] as string, caCertificate);
    if (problem !== undefined) {
      r.problem(`tlsNodeCertificates[${i}]`, shorten(cert), `node ${i + 1}'s certificate: ${problem}`);
    }
  });
  return certs.map((cert) => `${cert.trimEnd()}\n`);
}

const FAMILY_NAMES = { ipv4: "IPv4", ipv6: "IPv6" } as const;

/**
 * Refuses blocks that together open a port to the whole Internet (0.0.0.0/1 + 128.0.0.0/1 as much as 0.0.0.0/0),
 * or to so much of it that it comes to the same (lib/net.ts WIDEST_PUBLIC_PREFIX says how much, and why).
 */
function checkCidrExposure(r: Reader, key: string, blocks: readonly Cidr[]): void {
  for (const exposure of wideExposures(blocks)) {
    const family = FAMILY_NAMES[exposure.family];
    const given = exposure.blocks.map((b) => b.text).join(",");
    if (exposure.kind === "whole-internet") {
      r.problem(
        key,
        given,
        `blocks that together are narrower than the whole Internet (these cover all of ${family}): ` +
          `no port of the cluster is open to everyone`,
      );
    } else {
      const privateBlocks = PRIVATE_BLOCKS.filter((b) => b.family === exposure.family).map((b) => b.text);
      r.problem(
        key,
        given,
        `blocks that together cover at most a /${WIDEST_PUBLIC_PREFIX[exposure.family]}'s worth of ` +
          `non-private ${family} addresses (${privateBlocks.join(", ")} do not count): wider is as good as ` +
          `the whole Internet`,
      );
    }
  }
}

/** Refuses an instance type the image cannot boot, one the table does not know, or one under 4 GiB. */
function checkInstanceType(r: Reader, instanceType: string): number | undefined {
  const facts = lookupInstanceType(instanceType);
  const refuse = (allowed: string) => {
    r.problem("instanceType", instanceType, allowed);
    return undefined;
  };
  switch (facts.kind) {
    case "arm64":
      return refuse(
        `an ${IMAGE_ARCHITECTURE} instance type such as t3.medium or m7i.large: ${facts.family} is Graviton ` +
          `(ARM), and the host images are amd64 (lib/images.ts)`,
      );
    case "unknown-family":
      return refuse(
        `an instance type of a family whose memory this program knows: ${knownX86Families().join(", ")} ` +
          `(the list is in lib/instanceTypes.ts)`,
      );
    case "unknown-size":
      return refuse(
        `an existing size of ${facts.family}: ${facts.sizes.join(", ")} (the list is in lib/instanceTypes.ts)`,
      );
    case "x86_64":
      return facts.memoryGiB < MIN_HOST_MEMORY_GIB
        ? refuse(
            `at least ${MIN_HOST_MEMORY_GIB} GiB of memory (t3.medium or larger; ${instanceType} has ` +
              `${facts.memoryGiB} GiB): two JVMs share each host`,
          )
        : facts.memoryGiB * 1024;
  }
}

/**
 * Refuses heaps the host cannot hold: the broker's, ZooKeeper's where it runs (zookeeperHeapMb undefined when it
 * does not), and lib/instanceTypes.ts HOST_RESERVE for the OS and the JVMs' memory outside the heap.
 */
function checkHeapsFit(
  r: Reader,
  instanceType: string,
  memoryMiB: number | undefined,
  brokerHeapMb: number,
  zookeeperHeapMb: number | undefined,
): void {
  const heaps = zookeeperHeapMb === undefined ? [brokerHeapMb] : [brokerHeapMb, zookeeperHeapMb];
  const needed = memoryNeededMiB(heaps);
  if (memoryMiB === undefined || needed <= memoryMiB) {
    return;
  }
  const [keys, sum] =
    zookeeperHeapMb === undefined
      ? ["instanceType/brokerHeapMb", "brokerHeapMb"]
      : ["instanceType/brokerHeapMb/zookeeperHeapMb", "brokerHeapMb + zookeeperHeapMb"];
  r.problem(
    keys,
    [instanceType, ...heaps].join(" / "),
    `heaps that fit the host's ${memoryMiB} MiB: ${sum}, plus ${HOST_RESERVE.heapShare * 100}% of that for ` +
      `the JVMs' memory outside the heap, plus ${HOST_RESERVE.fixedMiB} MiB for the OS, must be at most ` +
      `${memoryMiB} MiB (these need ${needed}); at most ${largestHeapsMiB(memoryMiB)} MiB of heaps on ` +
      `${instanceType}, or a larger instanceType`,
  );
}

const ZK_PATH_ALLOWED =
  'an absolute ZooKeeper path like /activemq/leveldb-stores: "/" then segments of letters, digits, _, . and -, ' +
  'none empty, "." or "..", no trailing "/", and not under /zookeeper, which ZooKeeper reserves';

/** The group's ZooKeeper path, as ZooKeeper would accept it for a node of the program's own. */
function readZkPath(r: Reader): string {
  const fallback = "/activemq/leveldb-stores";
  const path = r.text("zkPath") ?? fallback;
  const problem = zkPathProblem(path);
  if (problem !== undefined) {
    r.problem("zkPath", path, `${ZK_PATH_ALLOWED} (here: ${problem})`);
    return fallback;
  }
  return path;
}

/** What is wrong with a ZooKeeper path (ZooKeeper's PathUtils rules, and its reserved /zookeeper), if anything. */
export function zkPathProblem(path: string): string | undefined {
  if (!path.startsWith("/")) {
    return "it does not start with /";
  }
  if (path === "/") {
    return "it is the root; the group needs a node of its own";
  }
  if (path.endsWith("/")) {
    return "it ends in /";
  }
  const segments = path.slice(1).split("/");
  const relative = segments.find((s) => s === "." || s === "..");
  if (segments.includes("")) {
    return "it has an empty segment (//)";
  }
  if (relative !== undefined) {
    return `it has a "${relative}" segment`;
  }
  const odd = segments.find((s) => !/^[A-Za-z0-9_.-]+$/.test(s));
  if (odd !== undefined) {
    return `segment "${odd}" has other characters`;
  }
  return segments[0] === "zookeeper" ? "its first segment is zookeeper" : undefined;
}

/** appDestinations' default: every destination, as before the setting existed. */
export const ALL_DESTINATIONS = ">";

const APP_DESTINATIONS_ALLOWED =
  'ActiveMQ destination patterns such as orders.>, billing.* or events: segments separated by ".", each a name ' +
  'of letters, digits and _ - : / # @ ~ + = ! %, or "*" (any one segment), or ">" as the last segment (any ' +
  'number of segments); the first segment a name, and no "ActiveMQ." prefix (the broker\'s own destinations); ' +
  'no spaces or commas; ">" alone (every destination, the default) only on its own';

/** The application's destination patterns (appDestinations); unset or an empty list: [">"]. */
function readAppDestinations(r: Reader): readonly string[] {
  // Destination names are case-sensitive to the broker: Orders.> and orders.> are two patterns, not a repeat.
  const items = r.list("appDestinations", undefined, undefined, { caseSensitive: true });
  if (items === undefined) {
    return [ALL_DESTINATIONS];
  }
  for (const item of items) {
    const problem = destinationPatternProblem(item);
    if (problem !== undefined) {
      r.problem("appDestinations", item, `${APP_DESTINATIONS_ALLOWED} (here: ${problem})`);
    } else if (item === ALL_DESTINATIONS && items.length > 1) {
      r.problem(
        "appDestinations",
        item,
        `${APP_DESTINATIONS_ALLOWED} (here: ">" is listed with other patterns, which it already covers)`,
      );
    }
  }
  return items;
}

/** Letters and digits of any script, and a few signs: nothing the broker, XML or Spring placeholders read. */
const DESTINATION_NAME_SEGMENT = /^[\p{L}\p{N}_:/#@~+=!%-]+$/u;

/**
 * What is wrong with an ActiveMQ destination pattern for an authorizationEntry, if anything. The broker splits a
 * name at "." and knows two wildcards, each a whole segment: "*" for one segment and ">" for the rest (org.apache.
 * activemq.filter.DestinationFilter); "ord*" is a plain name to it. A comma would make a composite destination and
 * "?" start destination options, so neither may appear.
 */
export function destinationPatternProblem(pattern: string): string | undefined {
  if (pattern === "") {
    return "it is empty";
  }
  if (/\s/u.test(pattern)) {
    return "it has a space (or other white space)";
  }
  if (pattern.includes(",")) {
    return "it has a comma (list each pattern as an item of its own)";
  }
  if (pattern === ALL_DESTINATIONS) {
    return undefined;
  }
  const segments = pattern.split(".");
  if (segments.includes("")) {
    return 'it has an empty segment (".." or a "." at either end)';
  }
  if (pattern.startsWith("ActiveMQ.")) {
    return 'it starts with "ActiveMQ.", the broker\'s own destinations (advisory topics, ActiveMQ.DLQ)';
  }
  if (segments[0] === "*" && segments.length > 1) {
    return 'its first segment is "*", which reaches the broker\'s own ActiveMQ.* destinations too';
  }
  const last = segments.length - 1;
  for (const [i, segment] of segments.entries()) {
    if (segment === "*" || (segment === ">" && i === last)) {
      continue;
    }
    if (segment === ">") {
      return '">" is not its last segment';
    }
    if (segment.includes("*") || segment.includes(">")) {
      return `segment "${segment}" has a wildcard inside it (a wildcard is a whole segment)`;
    }
    if (!DESTINATION_NAME_SEGMENT.test(segment)) {
      return `segment "${segment}" has other characters`;
    }
  }
  return undefined;
}

/**
 * The digest a download is pinned to, on top of its signature check: the setting's, else KNOWN_SHA512's for the
 * release's file, else none ("").
 */
function resolveSha512(
  r: Reader,
  key: "activemqSha512" | "zookeeperSha512",
  product: Product,
  version: string,
): string {
  if (r.text(key) !== undefined) {
    // A malformed value is reported by pattern(); "" then stands in, and nothing is created anyway.
    return r.pattern(key, /^[0-9a-f]{128}$/, "128 lowercase hex digits (a SHA-512)") ?? "";
  }
  const file = artifactFileName(product, version);
  return Object.prototype.hasOwnProperty.call(KNOWN_SHA512, file) ? (KNOWN_SHA512[file] as string) : "";
}

/** What AWS accepts in tag keys and values (its documented pattern). */
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const TAG_CHARACTERS_ALLOWED =
  "tag keys and values of Unicode letters, digits, spaces and _ . : / = + - @ (AWS refuses other characters)";

/** Refuses tags AWS would reject, or that the program's own tags would silently replace; returns the tags. */
function checkTags(r: Reader, tags: Record<string, string>): Record<string, string> {
  const entries = Object.entries(tags);
  const room = AWS_TAGS_PER_RESOURCE - PROGRAM_TAG_KEYS.length;
  if (entries.length > room) {
    r.problem(
      "tags",
      `${entries.length} tags`,
      `at most ${room} tags: AWS allows ${AWS_TAGS_PER_RESOURCE} on a resource and this program adds ` +
        `${PROGRAM_TAG_KEYS.length} of its own (${PROGRAM_TAG_KEYS.join(", ")})`,
    );
  }
  for (const [key, value] of entries) {
    const keyProblem = tagKeyProblem(key);
    if (keyProblem !== undefined) {
      r.problem("tags", shorten(key), keyProblem);
    }
    const valueProblem = tagValueProblem(key, value);
    if (valueProblem !== undefined) {
      r.problem("tags", shorten(value), valueProblem);
    }
  }
  return tags;
}

function tagKeyProblem(key: string): string | undefined {
  const length = [...key].length;
  if (length < 1 || length > 128) {
    return `tag keys of 1 to 128 characters (this one has ${length})`;
  }
  if (/^aws:/i.test(key)) {
    return 'tag keys that do not start with "aws:", in any case (AWS reserves that prefix)';
  }
  if (!TAG_CHARACTERS.test(key)) {
    return TAG_CHARACTERS_ALLOWED;
  }
  if (PROGRAM_TAG_KEYS.includes(key)) {
    return (
      `tag keys other than ${PROGRAM_TAG_KEYS.join(", ")}: this program sets those on its resources and ` +
      `would silently replace yours`
    );
  }
  return undefined;
}

function tagValueProblem(key: string, value: string): string | undefined {
  const length = [...value].length;
  if (length > 256) {
    return `tag values of 0 to 256 characters (the value of "${shorten(key)}" has ${length})`;
  }
  return TAG_CHARACTERS.test(value)
    ? undefined
    : `${TAG_CHARACTERS_ALLOWED} (in the value of "${shorten(key)}")`;
}

/** A user's text as the error shows it: whole up to 64 characters, cut with … beyond. */
function shorten(text: string): string {
  const chars = [...text];
  return chars.length > 64 ? `${chars.slice(0, 64).join("")}…` : text;
}

/**
 * Refuses blocks of one list whose security-group rules would share a resource name. lib/firewall.ts names a rule
 * after its block's text with every run of other characters than letters and digits replaced by "-", which
 * drops where an IPv6 "::" stands: 2001:db8::1:0/112 and 2001::db8:1:0/112 both become 2001-db8-1-0-112.
 * (Blocks are canonical by then, so two spellings of one block are caught earlier, as a block listed twice.)
 */
function checkRuleNamesUnique(r: Reader, settings: StackSettings): void {
  const lists = [
    ["clientCidrs", settings.clientCidrs ?? []],
    ["sshCidrs", settings.sshCidrs ?? []],
    ["consoleCidrs", settings.consoleCidrs],
    ["monitoringCidrs", settings.monitoringCidrs],
  ] as const;
  const blocksByName = new Map<string, Cidr[]>();
  for (const rule of clusterIngressRules(settings, settings.sshCidrs ?? [])) {
    if (rule.source.kind === "cidr") {
      blocksByName.set(rule.name, [...(blocksByName.get(rule.name) ?? []), rule.source.cidr]);
    }
  }
  for (const [name, blocks] of blocksByName) {
    if (blocks.length < 2) {
      continue;
    }
    const texts = blocks.map((b) => b.text);
    const key =
      lists.find(([, list]) => blocks.every((b) => list.includes(b)))?.[0] ??
      "clientCidrs/sshCidrs/consoleCidrs/monitoringCidrs";
    r.problem(
      key,
      texts.join(","),
      `blocks whose firewall rules get different names: ${texts.join(" and ")} would both be rule "${name}" ` +
        `(lib/firewall.ts names a rule after its block's text with the colons turned into dashes, which loses ` +
        `where "::" stands), and two resources cannot share a name; list one of them as its two halves (one ` +
        `prefix bit longer) instead`,
    );
  }
}

/** Reads typed values and collects problems instead of stopping at the first. */
class Reader {
  private readonly problems: string[] = [];

  constructor(private readonly raw: RawSettings) {}

  unknown(key: string): void {
    this.problems.push(`${key}: not a setting of this stack (a typo?); known: ${SETTING_NAMES.join(", ")}`);
  }

  problem(key: string, given: string, allowed: string): void {
    this.problems.push(`${key}: got "${given}"; allowed: ${allowed}`);
  }

  finish(): void {
    if (this.problems.length > 0) {
      throw new SettingsError(this.problems);
    }
  }

  text(key: string): string | undefined {
    const value = this.raw[key]?.trim();
    return value === undefined || value === "" ? undefined : value;
  }

  int(key: string, fallback: number, rule: { min: number; max: number; odd?: boolean }): number {
    const text = this.text(key);
    if (text === undefined) {
      return fallback;
    }
    const n = Number(text);
    const allowed = `${rule.odd ? "an odd" : "a whole"} number from ${rule.min} to ${rule.max}`;
    if (!/^-?\d+$/.test(text) || n < rule.min || n > rule.max || (rule.odd && n % 2 === 0)) {
      this.problem(key, text, allowed);
      return fallback;
    }
    return n;
  }

  bool(key: string, fallback: boolean): boolean {
    const text = this.text(key);
    if (text === undefined) {
      return fallback;
    }
    if (text !== "true" && text !== "false") {
      this.problem(key, text, "true or false");
      return fallback;
    }
    return text === "true";
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const text = this.text(key);
    if (text === undefined) {
      return fallback;
    }
    if (!(allowed as readonly string[]).includes(text)) {
      this.problem(key, text, `one of ${allowed.join(", ")}`);
      return fallback;
    }
    return text as T;
  }

  pattern(key: string, re: RegExp, allowed: string, fallback?: string): string | undefined {
    const text = this.text(key);
    if (text === undefined) {
      return fallback;
    }
    if (!re.test(text)) {
      this.problem(key, text, allowed);
      return fallback;
    }
    return text;
  }

  version(key: string, fallback: string, check: (v: string) => string | undefined, context = ""): string {
    const version = this.text(key) ?? fallback;
    const allowed = check(version);
    if (allowed !== undefined) {
      this.problem(key, version, context + allowed);
    }
    return version;
  }

  /** An https URL without query or fragment (or http too, with allowPlainHttp), without a trailing slash. */
  url(key: string, fallback: string, allowPlainHttp: boolean): string {
    const text = this.text(key) ?? fallback;
    let protocol: string | undefined;
    try {
      const u = new URL(text);
      protocol = u.search === "" && u.hash === "" ? u.protocol : undefined;
    } catch {
      protocol = undefined;
    }
    if (protocol === "http:" && !allowPlainHttp) {
      this.problem(
        key,
        text,
        "an https URL: downloads must be https so they cannot be altered in transit " +
          "(plain http is for test harnesses only, with testOnlyAllowPlainHttp)",
      );
    } else if (protocol !== "https:" && protocol !== "http:") {
      this.problem(
        key,
        text,
        `an ${allowPlainHttp ? "http(s)" : "https"} URL without query or fragment, e.g. https://archive.apache.org/dist`,
      );
    }
    return text.replace(/\/+$/, "");
  }

  /**
   * A list given as a JSON array (pulumi config set --path key[0] …) or as comma-separated text. A value listed twice
   * is refused, in any case unless caseSensitive.
   */
  list(
    key: string,
    itemPattern?: RegExp,
    itemAllowed?: string,
    options: { caseSensitive?: boolean } = {},
  ): string[] | undefined {
    const text = this.text(key);
    if (text === undefined) {
      return undefined;
    }
    let items: unknown;
    if (text.startsWith("[")) {
      try {
        items = JSON.parse(text);
      } catch {
        items = undefined;
      }
    } else {
      items = text
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
    }
    if (!Array.isArray(items) || !items.every((i) => typeof i === "string")) {
      this.problem(key, text, "a list of strings: a JSON array or comma-separated text");
      return undefined;
    }
    if (items.length === 0) {
      return undefined; // an empty list is Pulumi.yaml's default: unset
    }
    const seen = new Set<string>();
    for (const item of items as string[]) {
      const folded = options.caseSensitive ? item : item.toLowerCase();
      if (seen.has(folded)) {
        this.problem(key, item, "each value once (it is listed twice)");
      }
      seen.add(folded);
    }
    if (itemPattern) {
      for (const item of items as string[]) {
        if (!itemPattern.test(item)) {
          this.problem(key, item, itemAllowed ?? "a valid item");
        }
      }
    }
    return items as string[];
  }

  /** Release-key fingerprints (40 hex digits each, spaces allowed); unset: the release managers' keys. */
  fingerprints(key: string, product: keyof typeof RELEASE_KEYS): string[] {
    const items = this.list(key);
    if (items === undefined) {
      return RELEASE_KEYS[product].map((k) => k.fingerprint);
    }
    const fingerprints: string[] = [];
    for (const item of items) {
      const fingerprint = normalizeFingerprint(item);
      if (fingerprint === undefined) {
        this.problem(key, item, "OpenPGP key fingerprints of 40 hex digits (gpg --fingerprint prints them)");
      } else {
        fingerprints.push(fingerprint);
      }
    }
    return fingerprints;
  }

  cidr(key: string, fallback: string): Cidr | undefined {
    const parsed = parseCidr(this.text(key) ?? fallback);
    if (typeof parsed === "string") {
      this.problem(key, this.text(key) ?? fallback, `a CIDR block: ${parsed}`);
      return undefined;
    }
    return parsed;
  }

  cidrs(key: string): Cidr[] | undefined {
    const items = this.list(key);
    if (items === undefined) {
      return undefined;
    }
    const blocks: Cidr[] = [];
    for (const item of items) {
      const parsed = parseCidr(item);
      if (typeof parsed === "string") {
        this.problem(key, item, `CIDR blocks: ${parsed}`);
      } else if (
        blocks.some((b) => b.text === parsed.text) &&
        items.indexOf(item) === items.lastIndexOf(item)
      ) {
        // (the same text twice was already reported by list())
        this.problem(key, item, `each block once (${parsed.text} is listed twice)`);
      } else {
        blocks.push(parsed);
      }
    }
    return blocks;
  }

  tags(key: string): Record<string, string> {
    const text = this.text(key);
    if (text === undefined) {
      return {};
    }
    try {
      const value: unknown = JSON.parse(text);
      if (
        value &&
        typeof value === "object" &&
        !Array.isArray(value) &&
        Object.values(value).every((v) => typeof v === "string")
      ) {
        return value as Record<string, string>;
      }
    } catch {
      // reported below
    }
    this.problem(key, text, 'a map of string tags, e.g. {"team":"messaging"}');
    return {};
  }
}

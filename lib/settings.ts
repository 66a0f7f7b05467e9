// Every setting of the stack: names, types, defaults and rules, validated in one pass. Pure: config.ts feeds it
// from pulumi.Config, tests feed it from plain objects. A bad value is reported with the setting's name, the value
// given and what is allowed, before any cloud resource exists.
import { Cidr, isWholeInternet, parseCidr } from "./net";
import {
  checkActiveMqVersion,
  checkZookeeperVersion,
  DEFAULT_KAHADB_ACTIVEMQ_VERSION,
  DEFAULT_LEVELDB_ACTIVEMQ_VERSION,
  DEFAULT_ZOOKEEPER_VERSION,
  HaMode,
} from "./versions";

export type OperatingSystem = "debian-12" | "ubuntu-24.04";
export type ReplicationSync = "quorum_mem" | "quorum_disk" | "local_mem,remote_mem" | "local_disk,remote_mem";

export interface Ports {
  readonly openwire: number;
  readonly replication: number;
  readonly zookeeperClient: number;
  readonly zookeeperPeer: number;
  readonly zookeeperElection: number;
  readonly console: number;
}

export type NetworkSettings =
  | { readonly kind: "create"; readonly vpcCidr: string }
  | { readonly kind: "existing"; readonly vpcId: string; readonly subnetIds: readonly string[] };

export interface StackSettings {
  readonly haMode: HaMode;
  readonly nodeCount: number;
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
  readonly sshPublicKey?: string; // given with the sshPrivateKey secret, or both absent (generated)
  readonly ports: Ports;
  readonly artifactBaseUrl: string;
  readonly mavenBaseUrl: string;
  readonly zookeeper: {
    readonly deploy: boolean;
    readonly version: string;
    readonly sha512?: string;
    readonly heapMb: number;
    readonly tickTimeMs: number;
    readonly initLimitTicks: number;
    readonly syncLimitTicks: number;
  };
  readonly activemq: {
    readonly version: string;
    readonly sha512?: string;
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
  };
  readonly failover: {
    readonly initialReconnectDelayMs: number;
    readonly maxReconnectDelayMs: number;
    /** How long a client waits for a TCP connect to one broker before it tries the next. */
    readonly connectionTimeoutMs: number;
  };
  /** Test harnesses only: accept an ActiveMQ version outside the supported list. Never in a real stack. */
  readonly testOnlyAllowUnsupportedActiveMq: boolean;
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
/** Ports below 1024 need root, which neither service runs as. */
const PORT_RANGE = { min: 1024, max: 65535 };

/** The names of every setting, as in Pulumi.yaml. Unknown keys are rejected, which catches typos. */
export const SETTING_NAMES = [
  "haMode",
  "nodeCount",
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
  "sshPublicKey",
  "sshPrivateKey",
  "openwirePort",
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
  "zookeeperHeapMb",
  "zookeeperTickTimeMs",
  "zookeeperInitLimit",
  "zookeeperSyncLimit",
  "activemqVersion",
  "activemqSha512",
  "brokerName",
  "brokerHeapMb",
  "brokerUser",
  "consoleUser",
  "replicationSync",
  "zkPath",
  "zkSessionTimeoutMs",
  "brokerRestartDelaySeconds",
  "lockKeepAlivePeriodMs",
  "failoverInitialReconnectDelayMs",
  "failoverMaxReconnectDelayMs",
  "failoverConnectionTimeoutMs",
  "testOnlyAllowUnsupportedActiveMq",
  "tags",
] as const;

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

  const os = r.oneOf("os", OPERATING_SYSTEMS, "debian-12");
  const amiId = r.pattern("amiId", /^ami-[0-9a-f]{8,17}$/, "an AMI id like ami-0123456789abcdef0");
  const instanceType = r.pattern(
    "instanceType",
    /^[a-z][a-z0-9-]*\.[a-z0-9]+$/,
    "an EC2 instance type such as t3.medium or m6i.large",
    "t3.medium",
  ) as string;
  if (/^t[234][ag]?\.(nano|micro|small)$/.test(instanceType)) {
    r.problem(
      "instanceType",
      instanceType,
      "at least 4 GiB of memory (t3.medium or larger): two JVMs share each host",
    );
  }
  const rootVolumeSizeGiB = r.int("rootVolumeSizeGiB", 20, { min: 10, max: 1024 });

  const clientCidrs = r.cidrs("clientCidrs");
  const sshCidrs = r.cidrs("sshCidrs");
  const consoleCidrs = r.cidrs("consoleCidrs") ?? [];
  for (const [key, blocks] of [
    ["clientCidrs", clientCidrs],
    ["consoleCidrs", consoleCidrs],
    ["sshCidrs", sshCidrs],
  ] as const) {
    for (const block of blocks ?? []) {
      if (isWholeInternet(block)) {
        r.problem(
          key,
          block.text,
          "a block narrower than the whole Internet: no port of the cluster is open to everyone",
        );
      }
    }
  }
  const webConsole = r.bool("webConsole", true);
  if (!webConsole && consoleCidrs.length > 0) {
    r.problem("consoleCidrs", consoleCidrs.map((c) => c.text).join(","), "none when webConsole is false");
  }
  const clientSecurityGroupIds =
    r.list("clientSecurityGroupIds", /^sg-[0-9a-f]{8,17}$/, "security group ids like sg-0123456789abcdef0") ??
    [];

  const sshPublicKey = r.text("sshPublicKey");
  if (
    sshPublicKey !== undefined &&
    !/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+/.test(sshPublicKey)
  ) {
    r.problem(
      "sshPublicKey",
      sshPublicKey.slice(0, 20) + "…",
      "an OpenSSH public key line (ssh-ed25519 AAAA…)",
    );
  }
  if ((sshPublicKey === undefined) !== (r.text("sshPrivateKey") === undefined)) {
    r.problem(
      "sshPublicKey/sshPrivateKey",
      sshPublicKey === undefined ? "only sshPrivateKey set" : "only sshPublicKey set",
      "both (the public key, and the private key with `pulumi config set --secret sshPrivateKey`) or neither (a key is generated)",
    );
  }

  const ports: Ports = {
    openwire: r.int("openwirePort", 61616, PORT_RANGE),
    replication: r.int("replicationPort", 61619, PORT_RANGE),
    zookeeperClient: r.int("zookeeperClientPort", 2181, PORT_RANGE),
    zookeeperPeer: r.int("zookeeperPeerPort", 2888, PORT_RANGE),
    zookeeperElection: r.int("zookeeperElectionPort", 3888, PORT_RANGE),
    console: r.int("consolePort", 8161, PORT_RANGE),
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

  const artifactBaseUrl = r.url("artifactBaseUrl", "https://archive.apache.org/dist");
  const mavenBaseUrl = r.url("mavenBaseUrl", "https://repo1.maven.org/maven2");

  // replicated-leveldb always needs the ensemble (the brokers elect their master through it); in shared-kahadb
  // it is optional, for other users of ZooKeeper.
  const zookeeperDeploy = r.bool("zookeeperDeploy", false) || haMode === "replicated-leveldb";
  const zookeeperVersion = r.version("zookeeperVersion", DEFAULT_ZOOKEEPER_VERSION, checkZookeeperVersion);
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

  const settings: StackSettings = {
    haMode,
    nodeCount,
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
    ...(sshPublicKey !== undefined ? { sshPublicKey } : {}),
    ports,
    artifactBaseUrl,
    mavenBaseUrl,
    zookeeper: {
      deploy: zookeeperDeploy,
      version: zookeeperVersion,
      ...optional(
        "sha512",
        r.pattern("zookeeperSha512", /^[0-9a-f]{128}$/, "128 lowercase hex digits (a SHA-512)"),
      ),
      heapMb: r.int("zookeeperHeapMb", 512, { min: 128, max: 65536 }),
      tickTimeMs,
      initLimitTicks: r.int("zookeeperInitLimit", 10, { min: 2, max: 100 }),
      syncLimitTicks: r.int("zookeeperSyncLimit", 5, { min: 1, max: 100 }),
    },
    activemq: {
      version: activemqVersion,
      ...optional(
        "sha512",
        r.pattern("activemqSha512", /^[0-9a-f]{128}$/, "128 lowercase hex digits (a SHA-512)"),
      ),
      brokerName: r.pattern(
        "brokerName",
        /^[A-Za-z][A-Za-z0-9_-]{0,63}$/,
        "letters, digits, - and _ (starting with a letter)",
        "amq-ha",
      ) as string,
      heapMb: r.int("brokerHeapMb", 1024, { min: 256, max: 65536 }),
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
      zkPath: r.pattern(
        "zkPath",
        /^(\/[A-Za-z0-9_.-]+)+$/,
        "an absolute ZooKeeper path like /activemq/leveldb-stores",
        "/activemq/leveldb-stores",
      ) as string,
      zkSessionTimeoutMs,
      restartDelaySeconds,
      lockKeepAlivePeriodMs: r.int("lockKeepAlivePeriodMs", 2000, { min: 500, max: 60000 }),
    },
    failover: {
      initialReconnectDelayMs: r.int("failoverInitialReconnectDelayMs", 10, { min: 1, max: 60000 }),
      maxReconnectDelayMs: r.int("failoverMaxReconnectDelayMs", 100, { min: 10, max: 300000 }),
      connectionTimeoutMs: r.int("failoverConnectionTimeoutMs", 1000, { min: 100, max: 60000 }),
    },
    testOnlyAllowUnsupportedActiveMq,
    tags: r.tags("tags"),
  };
  if (settings.failover.maxReconnectDelayMs < settings.failover.initialReconnectDelayMs) {
    r.problem(
      "failoverMaxReconnectDelayMs",
      String(settings.failover.maxReconnectDelayMs),
      `at least failoverInitialReconnectDelayMs (${settings.failover.initialReconnectDelayMs})`,
    );
  }
  r.finish();
  return settings;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
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

  url(key: string, fallback: string): string {
    const text = this.text(key) ?? fallback;
    let ok = false;
    try {
      const u = new URL(text);
      ok = (u.protocol === "https:" || u.protocol === "http:") && u.search === "" && u.hash === "";
    } catch {
      ok = false;
    }
    if (!ok) {
      this.problem(
        key,
        text,
        "an http(s) URL without query or fragment, e.g. https://archive.apache.org/dist",
      );
    }
    return text.replace(/\/+$/, "");
  }

  /** A list given as a JSON array (pulumi config set --path key[0] …) or as comma-separated text. */
  list(key: string, itemPattern?: RegExp, itemAllowed?: string): string[] | undefined {
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
      if (seen.has(item.toLowerCase())) {
        this.problem(key, item, "each value once (it is listed twice)");
      }
      seen.add(item.toLowerCase());
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

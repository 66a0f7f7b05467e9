// The provisioning plan: every step on every host, in an order that respects its dependencies. One description
// that two executors share: components/provisioning.ts turns it into remote.Commands, and the cluster-in-a-box
// harness runs it over SSH against local hosts. Pure.
import { ClusterFacts, NodeFacts } from "./facts";
import { ACTIVEMQ, activemqHome, SHARED_STORE, ZOOKEEPER, zookeeperHome } from "./layout";
import { renderActivemqXml, renderCredentialsProperties, renderJettyRealm } from "./render/activemq";
import { renderJettyXml } from "./render/jetty";
import { renderBrokerEnv, renderBrokerUnit, renderZookeeperUnit } from "./render/services";
import { renderSharedMountUnit } from "./render/storage";
import { renderMyid, renderZooCfg } from "./render/zookeeper";
import { StackSettings } from "./settings";
import { JDK_PACKAGE } from "./versions";

/** A file the step installs on the host (atomically, and only when its content differs). */
export interface ManagedFile {
  readonly path: string;
  readonly content: string;
  readonly owner: string;
  readonly group: string;
  readonly mode: string;
}

/** What a step receives: positional arguments for its script, and the files it manages. */
export interface StepInput {
  readonly args: readonly string[];
  readonly files: readonly ManagedFile[];
}

export interface PlanStep {
  /** Unique in the plan, e.g. "n2-zookeeper-configure"; also names the Pulumi resource. */
  readonly id: string;
  /** The host it runs on (1-based node index). */
  readonly node: number;
  /** What it does, e.g. "zookeeper-configure"; the same on every host. */
  readonly action: string;
  /** The script under scripts/ that it runs (with scripts/lib/common.sh beside it). */
  readonly script: string;
  readonly description: string;
  /** Steps that must have finished first. */
  readonly dependsOn: readonly string[];
  /** Steps whose re-run must re-run this one too (their content feeds this step's triggers). */
  readonly rerunWith: readonly string[];
  /**
   * Nodes whose host (instance and network interface) feeds this step's triggers: a replaced host re-runs every
   * step of its node, and the group's gates, so a blank replacement is provisioned like the first host was.
   */
  readonly hostTriggers: readonly number[];
  /** The first step of a host: it may have to wait for the host to boot, so it dials with more patience. */
  readonly waitsForBoot: boolean;
  readonly timeoutMinutes: number;
  readonly input: (facts: ClusterFacts) => StepInput;
}

const stepId = (node: number, action: string) => `n${node}-${action}`;

function nodeOf(facts: ClusterFacts, index: number): NodeFacts {
  const node = facts.nodes.find((n) => n.index === index);
  if (!node) {
    throw new Error(`no address known for node ${index}`);
  }
  return node;
}

/**
 * Where a release artifact is in the Apache dist layout (its .sha512 and .asc beside it, the project's KEYS file
 * at the top of the project's folder), its SHA-512 pin ("" when none is set), and the fingerprints of the keys
 * that may sign it.
 */
export function artifactUrls(settings: StackSettings, product: "zookeeper" | "activemq") {
  const base = settings.artifactBaseUrl;
  const keysUrl = `${base}/${product}/KEYS`;
  if (product === "zookeeper") {
    const v = settings.zookeeper.version;
    const url = `${base}/zookeeper/zookeeper-${v}/apache-zookeeper-${v}-bin.tar.gz`;
    return {
      url,
      pin: settings.zookeeper.sha512 ?? "",
      keysUrl,
      signers: settings.zookeeper.signingKeys.join(","),
    };
  }
  const v = settings.activemq.version;
  const url = `${base}/activemq/${v}/apache-activemq-${v}-bin.tar.gz`;
  return {
    url,
    pin: settings.activemq.sha512 ?? "",
    keysUrl,
    signers: settings.activemq.signingKeys.join(","),
  };
}

/**
 * Jars that 5.16.x needs beside its distribution on JDK 17 (NOTES fixes 2 and 3), pinned by SHA-1 as Maven
 * Central publishes it, fetched from `mavenBaseUrl` so private mirrors work.
 */
export const LEVELDB_EXTRA_JARS = [
  {
    // Guava 27+ needs it; without it every reopened store fails, so no slave can ever be promoted.
    path: "com/google/guava/failureaccess/1.0.1/failureaccess-1.0.1.jar",
    sha1: "1dcf1de382a0bf95a3d8b0849546c88bac1292c9",
  },
  {
    // The bundled 3.4.14 client cannot connect on JDK 14+ (ZOOKEEPER-3779); this one can.
    path: "org/apache/zookeeper/zookeeper/3.4.6/zookeeper-3.4.6.jar",
    sha1: "01b2502e29da1ebaade2357cd1de35a855fa3755",
  },
] as const;

/** The whole plan for the settings, ordered so that every step comes after what it depends on. */
export function buildPlan(settings: StackSettings): PlanStep[] {
  const nodes = Array.from({ length: settings.nodeCount }, (_, i) => i + 1);
  const last = settings.nodeCount;
  const steps: PlanStep[] = [];
  // Unless it says otherwise, a step belongs to its own node's host and does not wait for a boot.
  const add = (step: Omit<PlanStep, "hostTriggers" | "waitsForBoot"> & Partial<PlanStep>) =>
    steps.push({ hostTriggers: [step.node], waitsForBoot: false, ...step });
  const onEveryNode = (action: string) => nodes.map((n) => stepId(n, action));

  for (const n of nodes) {
    add({
      id: stepId(n, "host-ready"),
      node: n,
      action: "host-ready",
      script: "host-ready.sh",
      description: "wait for SSH and cloud-init, check sudo and systemd",
      dependsOn: [],
      rerunWith: [],
      waitsForBoot: true,
      timeoutMinutes: 15,
      input: () => ({ args: [], files: [] }),
    });
    add({
      id: stepId(n, "jdk"),
      node: n,
      action: "jdk",
      script: "install-jdk.sh",
      description: `install ${JDK_PACKAGE} unless a JDK 17 is present`,
      dependsOn: [stepId(n, "host-ready")],
      rerunWith: [],
      timeoutMinutes: 15,
      input: () => ({ args: [JDK_PACKAGE, "17"], files: [] }),
    });
  }

  if (settings.zookeeper.deploy) {
    const z = artifactUrls(settings, "zookeeper");
    for (const n of nodes) {
      add({
        id: stepId(n, "zookeeper-install"),
        node: n,
        action: "zookeeper-install",
        script: "install-artifact.sh",
        description: `download, verify (digest and signature) and unpack ZooKeeper ${settings.zookeeper.version}`,
        dependsOn: [stepId(n, "jdk")],
        rerunWith: [],
        timeoutMinutes: 15,
        input: () => ({
          args: [
            z.url,
            z.pin,
            zookeeperHome(settings.zookeeper.version),
            ZOOKEEPER.link,
            z.keysUrl,
            z.signers,
          ],
          files: [],
        }),
      });
    }
    for (const n of nodes) {
      add({
        id: stepId(n, "zookeeper-configure"),
        node: n,
        action: "zookeeper-configure",
        script: "zookeeper-configure.sh",
        description: "render zoo.cfg, myid and the unit; start, or restart if changed (the leader waits)",
        // One host at a time, so a change never takes the ensemble down at once.
        dependsOn: [stepId(n, "zookeeper-install"), ...(n > 1 ? [stepId(n - 1, "zookeeper-configure")] : [])],
        rerunWith: [stepId(n, "zookeeper-install")],
        timeoutMinutes: 10,
        input: (facts) => ({
          args: [String(settings.ports.zookeeperClient)],
          files: [
            managed(ZOOKEEPER.config, renderZooCfg(settings, facts.nodes), "root", ZOOKEEPER.user, "0644"),
            managed(
              `${ZOOKEEPER.dataDir}/myid`,
              renderMyid(nodeOf(facts, n)),
              ZOOKEEPER.user,
              ZOOKEEPER.user,
              "0644",
            ),
            managed(
              `/etc/systemd/system/${ZOOKEEPER.unit}`,
              renderZookeeperUnit(settings),
              "root",
              "root",
              "0644",
            ),
          ],
        }),
      });
    }
    addSettleAndGate("zookeeper", "zookeeper-settle.sh", "zookeeper-gate.sh", (facts) => [
      String(settings.ports.zookeeperClient),
      ...facts.nodes.map((node) => `${node.index}=${node.privateIp}`),
    ]);
  }

  if (settings.haMode === "shared-kahadb") {
    for (const n of nodes) {
      add({
        id: stepId(n, "shared-mount"),
        node: n,
        action: "shared-mount",
        script: "shared-mount.sh",
        description: "mount the shared file system (NFS 4.1) before any broker can start",
        dependsOn: [stepId(n, "host-ready")],
        rerunWith: [],
        timeoutMinutes: 10,
        input: (facts) => ({
          args: [SHARED_STORE.mountPoint, SHARED_STORE.mountUnit, SHARED_STORE.kahaDbDir, ACTIVEMQ.user],
          files: [
            managed(
              `/etc/systemd/system/${SHARED_STORE.mountUnit}`,
              renderSharedMountUnit(sharedStoreHost(facts)),
              "root",
              "root",
              "0644",
            ),
          ],
        }),
      });
    }
  }

  const amq = artifactUrls(settings, "activemq");
  const jarArgs =
    settings.haMode === "replicated-leveldb"
      ? LEVELDB_EXTRA_JARS.flatMap((j) => [`${settings.mavenBaseUrl}/${j.path}`, j.sha1])
      : [];
  for (const n of nodes) {
    add({
      id: stepId(n, "activemq-install"),
      node: n,
      action: "activemq-install",
      script: "install-activemq.sh",
      description: `download, verify (digest and signature) and unpack ActiveMQ ${settings.activemq.version} and its JDK 17 fixes`,
      dependsOn: [stepId(n, "jdk")],
      rerunWith: [],
      timeoutMinutes: 15,
      input: () => ({
        args: [
          amq.url,
          amq.pin,
          activemqHome(settings.activemq.version),
          ACTIVEMQ.link,
          amq.keysUrl,
          amq.signers,
          ACTIVEMQ.base,
          ...jarArgs,
        ],
        files: [],
      }),
    });
  }
  for (const n of nodes) {
    const before = [
      ...(settings.zookeeper.deploy ? [stepId(last, "zookeeper-gate")] : []),
      ...(settings.haMode === "shared-kahadb" ? [stepId(n, "shared-mount")] : []),
    ];
    add({
      id: stepId(n, "activemq-configure"),
      node: n,
      action: "activemq-configure",
      script: "activemq-configure.sh",
      description:
        "render activemq.xml, credentials, console and unit; start, or restart if changed (the master waits)",
      dependsOn: [
        stepId(n, "activemq-install"),
        ...before,
        ...(n > 1 ? [stepId(n - 1, "activemq-configure")] : []),
      ],
      rerunWith: [stepId(n, "activemq-install")],
      timeoutMinutes: 10,
      input: (facts) => {
        const node = nodeOf(facts, n);
        // The broker reads its configuration as group activemq; secrets are not world-readable.
        const conf = (name: string, content: string, mode: string) =>
          managed(`${ACTIVEMQ.confDir}/${name}`, content, "root", ACTIVEMQ.user, mode);
        return {
          args: [
            settings.haMode,
            String(settings.ports.openwire),
            String(settings.ports.replication),
            activemqHome(settings.activemq.version),
          ],
          files: [
            conf("activemq.xml", renderActivemqXml(settings, facts, node), "0640"),
            conf("credentials.properties", renderCredentialsProperties(settings, facts.secrets), "0640"),
            ...(settings.webConsole
              ? [
                  conf("jetty-realm.properties", renderJettyRealm(settings, facts.secrets), "0640"),
                  conf("jetty.xml", renderJettyXml(settings), "0644"),
                ]
              : []),
            managed(ACTIVEMQ.envFile, renderBrokerEnv(settings), "root", "root", "0644"),
            managed(
              `/etc/systemd/system/${ACTIVEMQ.unit}`,
              renderBrokerUnit(settings),
              "root",
              "root",
              "0644",
            ),
          ],
        };
      },
    });
  }
  addSettleAndGate(
    "activemq",
    "activemq-settle.sh",
    "activemq-gate.sh",
    (facts) => [
      settings.haMode,
      String(settings.ports.openwire),
      String(settings.ports.replication),
      ...facts.nodes.map((node) => `${node.index}=${node.privateIp}`),
    ],
    // Replicated LevelDB elects its master through ZooKeeper, and a rolling ZooKeeper restart can leave that
    // election stuck (activemq-settle.sh): every ZooKeeper change re-checks, and if need be heals, the brokers.
    settings.haMode === "replicated-leveldb" && settings.zookeeper.deploy
      ? onEveryNode("zookeeper-configure")
      : [],
  );
  return steps;

  /**
   * After every host is configured: each host in turn applies a restart it deferred (the leader or master goes
   * last) and waits until its service has a healthy role; then one gate on the last host checks the whole group.
   * Steps in `alsoAfter` re-run every settle step and the gate too.
   */
  function addSettleAndGate(
    service: "zookeeper" | "activemq",
    settleScript: string,
    gateScript: string,
    args: (facts: ClusterFacts) => string[],
    alsoAfter: readonly string[] = [],
  ) {
    const configured = onEveryNode(`${service}-configure`);
    for (const n of nodes) {
      add({
        id: stepId(n, `${service}-settle`),
        node: n,
        action: `${service}-settle`,
        script: settleScript,
        description: `apply a deferred ${service} restart, then wait for a healthy role`,
        dependsOn: [...configured, ...(n > 1 ? [stepId(n - 1, `${service}-settle`)] : [])],
        rerunWith: [stepId(n, `${service}-configure`), ...alsoAfter],
        timeoutMinutes: 10,
        input: (facts) => ({ args: [String(n), ...args(facts)], files: [] }),
      });
    }
    add({
      id: stepId(last, `${service}-gate`),
      node: last,
      action: `${service}-gate`,
      script: gateScript,
      description:
        service === "zookeeper"
          ? "readiness gate: every ZooKeeper answers, exactly one leader"
          : "readiness gate: exactly one broker accepts clients, the others stand by",
      dependsOn: onEveryNode(`${service}-settle`),
      rerunWith: [...configured, ...alsoAfter],
      // A replaced host anywhere in the group: the gate checks the whole group again.
      hostTriggers: nodes,
      timeoutMinutes: 10,
      input: (facts) => ({ args: args(facts), files: [] }),
    });
  }
}

function managed(path: string, content: string, owner: string, group: string, mode: string): ManagedFile {
  return { path, content, owner, group, mode };
}

function sharedStoreHost(facts: ClusterFacts): string {
  if (!facts.sharedStoreHost) {
    throw new Error("haMode shared-kahadb needs the shared file system's address");
  }
  return facts.sharedStoreHost;
}

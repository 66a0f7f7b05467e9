// The brokers: install (with 5.16.x's extra jars), configure one host at a time (the master's restart deferred),
// settle, gate. Pure.
import { ClusterFacts, inNodeOrder, TlsFacts } from "../facts";
import { ACTIVEMQ, ACTIVEMQ_TLS, activemqHome, ELECTION_WATCHDOG } from "../layout";
import { masterPort, tlsOn, trustStoreOn } from "../tls";
import { ManagedFile, PlanStep, StepInputs } from "./types";
import { StackSettings } from "../settings";
import { renderActivemqXml, renderCredentialsProperties, renderJettyRealm } from "../render/activemq";
import { renderJettyXml } from "../render/jetty";
import { readScript } from "../payload";
import {
  renderBrokerEnv,
  renderBrokerUnit,
  renderElectionWatchdogService,
  renderElectionWatchdogTimer,
} from "../render/services";
import { LEVELDB_EXTRA_JARS, releaseInputs } from "./artifacts";
import {
  afterPreviousNode,
  managed,
  nodeOf,
  onEveryNode,
  PlanContext,
  settleAndGate,
  step,
  stepId,
} from "./context";

export function brokerSteps(ctx: PlanContext): PlanStep[] {
  const s = ctx.settings;
  const home = activemqHome(s.activemq.version);
  const replicated = s.haMode === "replicated-leveldb";
  // URL and SHA-1 pairs, space-separated.
  const extraJars =
    s.haMode === "replicated-leveldb"
      ? LEVELDB_EXTRA_JARS.map((j) => `${s.mavenBaseUrl}/${j.path} ${j.sha1}`).join(" ")
      : "";
  const install = ctx.nodes.map((n) =>
    step({
      id: stepId(n, "activemq-install"),
      node: n,
      action: "activemq-install",
      script: "install-activemq.sh",
      description: `download, verify (digest and signature) and unpack ActiveMQ ${s.activemq.version} and its JDK 17 fixes`,
      dependsOn: [stepId(n, "jdk")],
      rerunWith: [],
      timeoutMinutes: 15,
      input: () => ({
        inputs: {
          ...releaseInputs(s, "activemq", home, ACTIVEMQ.link),
          ACTIVEMQ_BASE: ACTIVEMQ.base,
          EXTRA_JARS: extraJars,
        },
        files: [],
      }),
    }),
  );
  const configure = ctx.nodes.map((n) =>
    step({
      id: stepId(n, "activemq-configure"),
      node: n,
      action: "activemq-configure",
      script: "activemq-configure.sh",
      description:
        "render activemq.xml, credentials, console and unit; start, or restart if changed (the master waits)",
      dependsOn: [
        stepId(n, "activemq-install"),
        ...(s.zookeeper.deploy ? [stepId(ctx.last, "zookeeper-gate")] : []),
        ...(s.haMode === "shared-kahadb" ? [stepId(n, "shared-mount")] : []),
        ...afterPreviousNode(ctx, n, "activemq-configure"),
      ],
      rerunWith: [stepId(n, "activemq-install")],
      timeoutMinutes: 10,
      input: (facts) => {
        const tls = tlsOn(s) ? tlsFactsOf(facts) : undefined;
        // The broker reads its configuration as group activemq; secrets are not world-readable.
        const conf = (name: string, content: string, mode: string) =>
          managed(`${ACTIVEMQ.confDir}/${name}`, content, "root", ACTIVEMQ.user, mode);
        return {
          inputs: {
            ...brokerPorts(s),
            ACTIVEMQ_HOME: home,
            ACTIVEMQ_USER: ACTIVEMQ.user,
            ACTIVEMQ_CONF_DIR: ACTIVEMQ.confDir,
            ACTIVEMQ_DATA_DIR: ACTIVEMQ.dataDir,
            ACTIVEMQ_TMP_DIR: ACTIVEMQ.tmpDir,
            ...tlsInputs(s),
            // Empty outside replicated-leveldb: no watchdog there.
            WATCHDOG_TIMER: replicated ? ELECTION_WATCHDOG.timer : "",
          },
          files: [
            conf("activemq.xml", renderActivemqXml(s, facts, nodeOf(facts, n)), "0640"),
            conf("credentials.properties", renderCredentialsProperties(s, facts.secrets, tls), "0640"),
            ...tlsFiles(s, facts, n),
            ...(s.webConsole
              ? [
                  conf("jetty-realm.properties", renderJettyRealm(s, facts.secrets), "0640"),
                  conf("jetty.xml", renderJettyXml(s), "0644"),
                ]
              : []),
            managed(ACTIVEMQ.envFile, renderBrokerEnv(s), "root", "root", "0644"),
            managed(`/etc/systemd/system/${ACTIVEMQ.unit}`, renderBrokerUnit(s), "root", "root", "0644"),
            ...(replicated
              ? [
                  managed(
                    ELECTION_WATCHDOG.script,
                    readScript("host/election-watchdog.sh"),
                    "root",
                    "root",
                    "0755",
                  ),
                  managed(
                    `/etc/systemd/system/${ELECTION_WATCHDOG.unit}`,
                    renderElectionWatchdogService(
                      s,
                      inNodeOrder(facts.nodes).map((node) => node.privateIp),
                      n,
                    ),
                    "root",
                    "root",
                    "0644",
                  ),
                  managed(
                    `/etc/systemd/system/${ELECTION_WATCHDOG.timer}`,
                    renderElectionWatchdogTimer(),
                    "root",
                    "root",
                    "0644",
                  ),
                ]
              : []),
          ],
        };
      },
    }),
  );
  return [
    ...install,
    ...configure,
    ...settleAndGate(ctx, {
      service: "activemq",
      settleScript: "activemq-settle.sh",
      gateScript: "activemq-gate.sh",
      gateDescription: "readiness gate: exactly one broker accepts clients, the others stand by",
      inputs: () => brokerPorts(s),
      // Replicated LevelDB elects its master through ZooKeeper, and a rolling ZooKeeper restart can leave that
      // election stuck (activemq-settle.sh): every ZooKeeper change re-checks, and if need be heals, the brokers.
      alsoAfter:
        s.haMode === "replicated-leveldb" && s.zookeeper.deploy
          ? onEveryNode(ctx, "zookeeper-configure")
          : [],
    }),
  ];
}

/**
 * What the broker scripts need to tell a broker's role: the mode, the client port only a master listens on
 * (lib/tls.ts masterPort) and the replication port.
 */
export function brokerPorts(settings: StackSettings): StepInputs {
  return {
    HA_MODE: settings.haMode,
    BROKER_PORT: String(masterPort(settings)),
    REPLICATION_PORT: String(settings.ports.replication),
  };
}

function tlsFactsOf(facts: ClusterFacts): TlsFacts {
  if (facts.tls === undefined) {
    throw new Error("clientTransport has TLS on, but the facts carry no TLS material");
  }
  return facts.tls;
}

/** What activemq-configure.sh needs to build the broker's PKCS#12 stores from the PEM files; empty when TLS is off. */
function tlsInputs(s: StackSettings): StepInputs {
  const on = tlsOn(s);
  return {
    TLS_DIR: on ? ACTIVEMQ_TLS.dir : "",
    TLS_CERTIFICATE: on ? ACTIVEMQ_TLS.certificate : "",
    TLS_PRIVATE_KEY: on ? ACTIVEMQ_TLS.privateKey : "",
    TLS_PASSWORD_FILE: on ? ACTIVEMQ_TLS.password : "",
    TLS_KEY_STORE: on ? ACTIVEMQ_TLS.keyStore : "",
    TLS_CLIENT_CA: trustStoreOn(s) ? ACTIVEMQ_TLS.clientCa : "",
    TLS_TRUST_STORE: trustStoreOn(s) ? ACTIVEMQ_TLS.trustStore : "",
  };
}

/** Node n's certificate and key, the client CAs and the stores' password, as managed files. */
function tlsFiles(s: StackSettings, facts: ClusterFacts, n: number): ManagedFile[] {
  if (!tlsOn(s)) {
    return [];
  }
  const tls = tlsFactsOf(facts);
  const own = tls.nodes.find((c) => c.index === n);
  if (own === undefined) {
    throw new Error(`no TLS certificate for node ${n}`);
  }
  // The key and the password: root and the broker's group only, like credentials.properties.
  const file = (path: string, content: string, mode: string) =>
    managed(path, content, "root", ACTIVEMQ.user, mode);
  return [
    file(ACTIVEMQ_TLS.certificate, own.certificate, "0644"),
    file(ACTIVEMQ_TLS.privateKey, own.privateKey, "0640"),
    file(ACTIVEMQ_TLS.password, `${tls.keystorePassword}\n`, "0640"),
    ...(trustStoreOn(s) ? [file(ACTIVEMQ_TLS.clientCa, tls.trustedCaCertificates, "0644")] : []),
  ];
}

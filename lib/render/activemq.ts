// ActiveMQ's configuration files, rendered as exact text. Pure. Secrets never appear in activemq.xml: it reads
// them from credentials.properties (mode 0640, root:activemq) through Spring placeholders.
import { createHash } from "node:crypto";
import { ACTIVEMQ, SHARED_STORE } from "../layout";
import { ClusterFacts, ClusterSecrets, inNodeOrder, NodeFacts, TlsFacts } from "../facts";
import { ALL_DESTINATIONS, StackSettings } from "../settings";
import { renderSslContext, renderTransportConnectors } from "../tls";
import { zookeeperConnect } from "../urls";
import { renderNetworkConnectors } from "./network";
import { xmlEscape } from "./xml";

export { xmlEscape };

const XML_HEADER =
  "<!-- Rendered by the activemq-ha Pulumi program; pulumi up overwrites manual changes. -->\n";

function attributes(attrs: Record<string, string | number>): string {
  return Object.entries(attrs)
    .map(([k, v]) => `${k}="${xmlEscape(String(v))}"`)
    .join("\n        ");
}

/** The persistence adapter: what makes the brokers one master/slave group in each mode. */
export function renderPersistenceAdapter(
  settings: StackSettings,
  facts: ClusterFacts,
  node: NodeFacts,
): string {
  const a = settings.activemq;
  if (settings.haMode === "replicated-leveldb") {
    const attrs = attributes({
      directory: `${ACTIVEMQ.dataDir}/leveldb`,
      replicas: settings.nodeCount,
      bind: `tcp://${node.privateIp}:${settings.ports.replication}`,
      hostname: node.privateIp,
      zkAddress: zookeeperConnect(
        settings,
        inNodeOrder(facts.nodes).map((n) => n.privateIp),
      ),
      zkPath: a.zkPath,
      // The store parses this with linkedin's Timespan, which knows no "ms": whole seconds only.
      zkSessionTimeout: `${a.zkSessionTimeoutMs / 1000}s`,
      sync: a.replicationSync,
      securityToken: "${activemq.replicationToken}",
      // Stops a promoted slave from trusting the replayed producer audit, which swallowed acknowledged
      // messages on failover (NOTES: about six times fewer losses; takes effect on stores created with it).
      maxFailoverProducersToTrack: 0,
    });
    return `    <persistenceAdapter>\n      <replicatedLevelDB\n        ${attrs}/>\n    </persistenceAdapter>\n`;
  }
  // Shared KahaDB: whoever holds the lock on the shared directory is master; the others retry every
  // lockAcquireSleepInterval. The keep-alive re-checks the lock so an isolated master notices it lost it.
  const kahaAttrs = attributes({
    directory: SHARED_STORE.kahaDbDir,
    lockKeepAlivePeriod: a.lockKeepAlivePeriodMs,
    journalDiskSyncStrategy: "always",
  });
  return (
    `    <persistenceAdapter>\n      <kahaDB\n        ${kahaAttrs}>\n        <locker>\n` +
    `          <shared-file-locker lockAcquireSleepInterval="${Math.max(500, Math.floor(a.lockKeepAlivePeriodMs / 2))}"/>\n` +
    `        </locker>\n      </kahaDB>\n    </persistenceAdapter>\n`
  );
}

/**
 * What the root volume keeps for everything but the broker's stores, in MiB:
 * - the OS with its updates and apt's cache: 3 GiB (Debian's and Ubuntu's cloud images use 1–2.5 GiB fresh);
 * - JDK 17, the ActiveMQ and ZooKeeper releases with their cached tarballs, and the older release an upgrade
 *   leaves behind (nothing removes it): 1 GiB;
 * - ZooKeeper's data: 1 GiB. autopurge (zoo.cfg) keeps 5 snapshots and the transaction logs since the oldest;
 *   the brokers' group state is a few znodes.
 * Logs come on top (journalReserveMib): the units write to the journal, and the brokers' own activemq.log and
 * audit.log roll at 1 MB with a handful of backups (the distribution's log4j configuration).
 */
export const ROOT_VOLUME_RESERVE_MIB = 5 * 1024;

/** journald's default cap (SystemMaxUse): 10% of the file system, at most 4 GiB. */
export function journalReserveMib(rootVolumeSizeGiB: number): number {
  return Math.min(Math.floor((rootVolumeSizeGiB * 1024) / 10), 4 * 1024);
}

/**
 * shared-kahadb: the store limit on EFS. EFS has no size to derive one from (it reports about 8 EiB), so this is a
 * policy: the backlog the group accepts before producers block. It bounds the bill ($0.30/GB-month: about $16 a
 * month when full) and what a new master may have to read back if its index must be rebuilt over NFS.
 */
export const SHARED_STORE_LIMIT_MIB = 50 * 1024;

export interface BrokerDiskLimits {
  /** systemUsage's storeUsage limit: persistent messages. */
  readonly storeMib: number;
  /**
   * shared-kahadb: the size the broker takes the store's file system to have. Without it the broker asks the file
   * system, and EFS's 8 EiB can overflow its free-space arithmetic (a "negative" size stops the broker at start).
   */
  readonly storeTotalMib?: number;
  /** systemUsage's tempUsage limit: non-persistent messages spooled to the temp store, on the root volume. */
  readonly tempMib: number;
}

/**
 * The broker's disk limits, from the root volume. Of what remains after the reserves, the store gets 60% and the
 * temp store 10%. The other 30% is headroom the limits do not see: ext4 keeps 5% of the blocks for root (the
 * broker is not root), and LevelDB's index and its snapshots are not counted in the store's usage (only its 100 MiB
 * log files are). On a fresh host every limit is below the free space, so the broker keeps it instead of resetting
 * it to all the free space there is.
 */
export function brokerDiskLimits(settings: StackSettings): BrokerDiskLimits {
  const gib = settings.rootVolumeSizeGiB;
  const remaining = gib * 1024 - ROOT_VOLUME_RESERVE_MIB - journalReserveMib(gib);
  const tempMib = Math.floor((remaining * 10) / 100);
  if (settings.haMode === "shared-kahadb") {
    return { storeMib: SHARED_STORE_LIMIT_MIB, storeTotalMib: SHARED_STORE_LIMIT_MIB, tempMib };
  }
  return { storeMib: Math.floor((remaining * 60) / 100), tempMib };
}

/**
 * Limits in whole MiB ("mb" is 1024 × 1024 bytes to the broker). sendFailIfNoSpace stays unset: a producer that
 * reaches a limit is held until there is room again, not failed.
 */
export function renderSystemUsage(settings: StackSettings): string {
  const limits = brokerDiskLimits(settings);
  const total = limits.storeTotalMib !== undefined ? ` total="${limits.storeTotalMib} mb"` : "";
  return (
    `    <systemUsage>\n      <systemUsage>\n` +
    `        <memoryUsage>\n          <memoryUsage percentOfJvmHeap="70"/>\n        </memoryUsage>\n` +
    `        <storeUsage>\n          <storeUsage limit="${limits.storeMib} mb"${total}/>\n        </storeUsage>\n` +
    `        <tempUsage>\n          <tempUsage limit="${limits.tempMib} mb"/>\n        </tempUsage>\n` +
    `      </systemUsage>\n    </systemUsage>\n`
  );
}

/** The application user's group, and the operators' (settings.activemq.consoleUser, the console's login). */
export const APP_GROUP = "users";
export const ADMIN_GROUP = "admins";

/** The advisory topics: every OpenWire client needs them (renderAuthorizationPlugin says why). */
export const ADVISORY_TOPICS = "ActiveMQ.Advisory.>";

/** An attribute value between double quotes: the patterns are validated, this only keeps the XML well-formed. */
function attributeValue(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");
}

/**
 * Who may do what, per destination. ActiveMQ adds up the entries that match a destination (DefaultAuthorizationMap
 * takes the union of their groups); no entry can take away what a wider one grants. The grants include admin
 * because a destination is created on first use only for a user with the admin right on it.
 *
 * appDestinations [">"] (the default): the application's destinations have names this stack does not know, so
 * both groups get everything on `>`, which covers ActiveMQ.DLQ and the advisory topics as well. This text is the
 * one rendered before the setting existed, so a stack that leaves it unset keeps its activemq.xml.
 *
 * Any other list confines the application's group: the operators' group alone gets `>`, and the application's group
 * gets its patterns (queues and topics), plus what every OpenWire client needs: the advisory topics (before 5.19.8
 * the broker creates them in the name of the client whose action they report) and temporary destinations.
 * ActiveMQConnection reads ActiveMQ.Advisory.TempQueue,ActiveMQ.Advisory.TempTopic as one composite destination,
 * and for a composite the map keeps only the entries that match every part, so one entry must cover both: the
 * `ActiveMQ.Advisory.>` one does. The README ("Security defaults") says what confinement does not stop.
 */
export function renderAuthorizationPlugin(appDestinations: readonly string[]): string {
  const rights = (groups: string) => `read="${groups}" write="${groups}" admin="${groups}"`;
  const both = rights(`${ADMIN_GROUP},${APP_GROUP}`);
  const entry = (kind: "queue" | "topic", pattern: string, granted: string) =>
    `              <authorizationEntry ${kind}="${attributeValue(pattern)}" ${granted}/>\n`;
  const everyone = appDestinations.length === 1 && appDestinations[0] === ALL_DESTINATIONS;
  const entries = everyone
    ? entry("queue", ">", both) + entry("topic", ">", both)
    : entry("queue", ">", rights(ADMIN_GROUP)) +
      entry("topic", ">", rights(ADMIN_GROUP)) +
      appDestinations
        .map((p) => entry("queue", p, rights(APP_GROUP)) + entry("topic", p, rights(APP_GROUP)))
        .join("") +
      entry("topic", ADVISORY_TOPICS, rights(APP_GROUP));
  return (
    `      <authorizationPlugin>\n        <map>\n          <authorizationMap>\n` +
    `            <authorizationEntries>\n` +
    entries +
    `            </authorizationEntries>\n` +
    `            <tempDestinationAuthorizationEntry>\n` +
    `              <tempDestinationAuthorizationEntry ${both}/>\n` +
    `            </tempDestinationAuthorizationEntry>\n` +
    `          </authorizationMap>\n        </map>\n      </authorizationPlugin>\n`
  );
}

/** Two logins: the application's, and the operators' (the console's user and password), and what each may do. */
export function renderPlugins(settings: StackSettings): string {
  const a = settings.activemq;
  if (a.brokerUser === a.consoleUser) {
    // One name twice: the broker would keep only the second, and the application could not log in.
    throw new Error(`brokerUser and consoleUser must differ (both are "${a.brokerUser}")`);
  }
  return (
    `    <plugins>\n` +
    `      <simpleAuthenticationPlugin anonymousAccessAllowed="false">\n        <users>\n` +
    `          <authenticationUser username="\${activemq.username}" password="\${activemq.password}" groups="${APP_GROUP}"/>\n` +
    `          <authenticationUser username="\${activemq.adminUsername}" password="\${activemq.adminPassword}" groups="${ADMIN_GROUP}"/>\n` +
    `        </users>\n      </simpleAuthenticationPlugin>\n` +
    renderAuthorizationPlugin(a.appDestinations) +
    `    </plugins>\n`
  );
}

/**
 * replicated-leveldb: a demoted master ends its JVM instead of restarting the broker inside it. 5.16.8 restarts a
 * demoted master in the same JVM (ElectingLevelDBStore.stop_master: requestRestart, then stop; the console's
 * StartCommand starts a new broker), while the old store may still be stopping on the same directory: in the box,
 * masters cut off from their peers and healed then died at start with "timeout reached while waiting on the lock",
 * or came back and later served a store without thousands of messages acknowledged meanwhile. With
 * systemExitOnShutdown the JVM exits as the broker begins to stop, and systemd starts a fresh one after the
 * ZooKeeper session has expired (restartDelaySeconds). A stop by systemd is still clean: the console's own shutdown
 * hook stops the broker while the exit waits for it. The broker's own hook must be off with it (BrokerService
 * refuses both).
 */
const REPLICATED_BROKER_EXIT = {
  useShutdownHook: "false",
  systemExitOnShutdown: "true",
  // EX_TEMPFAIL: the journal tells a demotion from a clean exit.
  systemExitOnShutdownExitCode: "75",
};

/**
 * The `<broker>` element alone: the part the broker schema (activemq-<version>.xsd) describes, so tests
 * validate exactly this with xmllint.
 */
export function renderBrokerElement(settings: StackSettings, facts: ClusterFacts, node: NodeFacts): string {
  const a = settings.activemq;
  const brokerAttrs = attributes({
    brokerName: a.brokerName,
    dataDirectory: ACTIVEMQ.dataDir,
    // Scheduled messages live in a separate store that is never replicated: they would vanish on failover.
    schedulerSupport: "false",
    useJmx: "true",
    ...(settings.haMode === "replicated-leveldb" ? REPLICATED_BROKER_EXIT : {}),
  });
  return (
    `<broker xmlns="http://activemq.apache.org/schema/core"\n        ${brokerAttrs}>\n` +
    `    <destinationPolicy>\n      <policyMap>\n        <policyEntries>\n` +
    `          <policyEntry topic=">" producerFlowControl="true">\n` +
    `            <pendingMessageLimitStrategy>\n              <constantPendingMessageLimitStrategy limit="1000"/>\n` +
    `            </pendingMessageLimitStrategy>\n          </policyEntry>\n` +
    `        </policyEntries>\n      </policyMap>\n    </destinationPolicy>\n` +
    // JMX stays inside the JVM: no RMI connector on any interface (NOTES, fix 5).
    `    <managementContext>\n      <managementContext createConnector="false"/>\n    </managementContext>\n` +
    renderNetworkConnectors(settings, facts) +
    renderPersistenceAdapter(settings, facts, node) +
    renderPlugins(settings) +
    renderSystemUsage(settings) +
    renderSslContext(settings) +
    renderTransportConnectors(settings) +
    `</broker>\n`
  );
}

export function renderActivemqXml(settings: StackSettings, facts: ClusterFacts, node: NodeFacts): string {
  const broker = renderBrokerElement(settings, facts, node)
    .split("\n")
    .map((line) => (line === "" ? line : `  ${line}`))
    .join("\n");
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n${XML_HEADER}` +
    `<beans xmlns="http://www.springframework.org/schema/beans"\n` +
    `       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"\n` +
    `       xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans.xsd\n` +
    `         http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">\n` +
    `  <bean class="org.springframework.context.support.PropertySourcesPlaceholderConfigurer">\n` +
    `    <property name="locations">\n      <value>file:\${activemq.conf}/credentials.properties</value>\n    </property>\n` +
    `  </bean>\n` +
    broker +
    (settings.webConsole ? `  <import resource="jetty.xml"/>\n` : "") +
    `</beans>\n`
  );
}

/** Java properties escaping for values (backslash and the characters properties files treat specially). */
function propertyValue(value: string): string {
  return value.replace(/[\\:=#!]/g, (c) => `\\${c}`).replace(/\n/g, "\\n");
}

/**
 * The broker's logins and the replication token. The broker compares passwords as plain text (its
 * simpleAuthenticationPlugin has no hashed form), so they are kept here, readable by root and the activemq group
 * only. The web console reads activemq.username and activemq.password too, for its own connection to the broker.
 */
export function renderCredentialsProperties(
  settings: StackSettings,
  secrets: ClusterSecrets,
  tls?: TlsFacts,
): string {
  return (
    "# Rendered by the activemq-ha Pulumi program. Secret: readable by root and the activemq group only.\n" +
    `activemq.username=${propertyValue(settings.activemq.brokerUser)}\n` +
    `activemq.password=${propertyValue(secrets.brokerPassword)}\n` +
    `activemq.adminUsername=${propertyValue(settings.activemq.consoleUser)}\n` +
    `activemq.adminPassword=${propertyValue(secrets.consolePassword)}\n` +
    `activemq.replicationToken=${propertyValue(secrets.replicationToken)}\n` +
    (tls ? `activemq.keystorePassword=${propertyValue(tls.keystorePassword)}\n` : "")
  );
}

/** Jetty's MD5 credential (Credential.MD5): "MD5:" and the hex digest of the password's ISO-8859-1 bytes. */
export function jettyMd5Credential(password: string): string {
  return `MD5:${createHash("md5").update(password, "latin1").digest("hex")}`;
}

/**
 * The web console's login (Jetty's HashLoginService format: user: credential, roles). It holds the password's
 * digest, not the password: the generated password has about 190 bits, so an unsalted MD5 of it cannot be reversed.
 */
export function renderJettyRealm(settings: StackSettings, secrets: ClusterSecrets): string {
  return (
    "# Rendered by the activemq-ha Pulumi program. Holds a digest of the console password, not the password.\n" +
    `${settings.activemq.consoleUser}: ${jettyMd5Credential(secrets.consolePassword)}, admin\n`
  );
}

// ActiveMQ's configuration files, rendered as exact text. Pure. Secrets never appear in activemq.xml: it reads
// them from credentials.properties (mode 0640, root:activemq) through Spring placeholders.
import { ACTIVEMQ, SHARED_STORE } from "../layout";
import { ClusterFacts, ClusterSecrets, inNodeOrder, NodeFacts } from "../facts";
import { StackSettings } from "../settings";
import { zookeeperConnect } from "../urls";

const XML_HEADER =
  "<!-- Rendered by the activemq-ha Pulumi program; pulumi up overwrites manual changes. -->\n";

export function xmlEscape(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

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
    renderPersistenceAdapter(settings, facts, node) +
    `    <plugins>\n` +
    `      <simpleAuthenticationPlugin anonymousAccessAllowed="false">\n        <users>\n` +
    `          <authenticationUser username="\${activemq.username}" password="\${activemq.password}" groups="users,admins"/>\n` +
    `        </users>\n      </simpleAuthenticationPlugin>\n    </plugins>\n` +
    `    <systemUsage>\n      <systemUsage>\n` +
    `        <memoryUsage>\n          <memoryUsage percentOfJvmHeap="70"/>\n        </memoryUsage>\n` +
    `        <storeUsage>\n          <storeUsage limit="50 gb"/>\n        </storeUsage>\n` +
    `        <tempUsage>\n          <tempUsage limit="10 gb"/>\n        </tempUsage>\n` +
    `      </systemUsage>\n    </systemUsage>\n` +
    // OpenWire only: the other protocols carry advisories this release line does not fix (NOTES).
    `    <transportConnectors>\n` +
    `      <transportConnector name="openwire" uri="tcp://0.0.0.0:${settings.ports.openwire}?maximumConnections=1000&amp;wireFormat.maxFrameSize=104857600"/>\n` +
    `    </transportConnectors>\n` +
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

export function renderCredentialsProperties(settings: StackSettings, secrets: ClusterSecrets): string {
  return (
    "# Rendered by the activemq-ha Pulumi program. Secret: readable by root and the activemq group only.\n" +
    `activemq.username=${propertyValue(settings.activemq.brokerUser)}\n` +
    `activemq.password=${propertyValue(secrets.brokerPassword)}\n` +
    `activemq.replicationToken=${propertyValue(secrets.replicationToken)}\n`
  );
}

/** The web console's login (Jetty's HashLoginService format: user: password, roles). */
export function renderJettyRealm(settings: StackSettings, secrets: ClusterSecrets): string {
  return (
    "# Rendered by the activemq-ha Pulumi program. Secret.\n" +
    `${settings.activemq.consoleUser}: ${secrets.consolePassword}, admin\n`
  );
}

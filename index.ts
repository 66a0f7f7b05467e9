// A highly available ActiveMQ Classic cluster on AWS. Settings: Pulumi.yaml; components: components/.
import * as pulumi from "@pulumi/pulumi";
import { ActiveMqCluster } from "./components/cluster";
import { loadConfig } from "./config";

export = async () => {
  const config = await loadConfig();
  const cluster = new ActiveMqCluster(pulumi.getStack(), {
    settings: config.settings,
    sshCidrs: config.sshCidrs,
    deployedGroups: config.deployedGroups,
    ...(config.sshPrivateKey ? { sshPrivateKey: config.sshPrivateKey } : {}),
    ...(config.tlsCaKey ? { tlsCaKey: config.tlsCaKey } : {}),
    ...(config.tlsNodeKeys ? { tlsNodeKeys: config.tlsNodeKeys } : {}),
  });
  const tls = cluster.tls;
  return {
    haMode: config.settings.haMode,
    // Read back by the next update (config.ts): the settings a running stack cannot change in place.
    deployedSettings: config.deployedSettings,
    // Group 1's URLs: the cluster's with one group, group 1's clients' with several (groups lists every group).
    failoverUrl: cluster.failoverUrl,
    publicFailoverUrl: cluster.publicFailoverUrl,
    groups: cluster.groups,
    // TLS on: the CA that clients trust; with tls+tcp the plain URL for clients not moved yet; and the stack's
    // client certificate when brokers ask for one.
    ...(tls ? { caCertificate: tls.caCertificate } : {}),
    ...(tls?.tcpFailoverUrl ? { tcpFailoverUrl: tls.tcpFailoverUrl } : {}),
    ...(tls?.client ? { clientCertificate: tls.client.certificate, clientKey: tls.client.key } : {}),
    zookeeperConnect: cluster.zookeeperConnect,
    nodes: cluster.nodes,
    sshUser: cluster.sshUser,
    sshPrivateKey: cluster.sshPrivateKey,
    brokerUser: cluster.brokerUser,
    brokerPassword: cluster.brokerPassword,
    consoleUser: cluster.consoleUser,
    consolePassword: cluster.consolePassword,
  };
};

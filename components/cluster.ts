import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ClusterFacts, ClusterSecrets, NodeFacts, TlsFacts } from "../lib/facts";
import { clusterIngressRules } from "../lib/firewall";
import { Cidr } from "../lib/net";
import { buildPlan } from "../lib/plan";
import { hostRejoinStep } from "../lib/rollout";
import { StackSettings } from "../lib/settings";
import { tcpOn, tlsOn } from "../lib/tls";
import { failoverUrl, zookeeperConnect } from "../lib/urls";
import { ClusterCertificates } from "./certificates";
import { ClusterHosts } from "./hosts";
import { ClusterNetwork } from "./network";
import { ClusterProvisioning } from "./provisioning";
import { ClusterSecurity } from "./security";
import { SharedStorage } from "./sharedStorage";

export interface ActiveMqClusterArgs {
  /** Validated settings (lib/settings.ts). */
  readonly settings: StackSettings;
  /** Who may SSH in: the settings' sshCidrs, or the deployer's address that config.ts looked up. */
  readonly sshCidrs: readonly Cidr[];
  /** The operator's SSH private key, when settings.sshPublicKey is set. */
  readonly sshPrivateKey?: pulumi.Input<string>;
  /** The private key of the user's CA (tlsCaKey), when settings.tls.caCertificate is set. */
  readonly tlsCaKey?: pulumi.Input<string>;
  /** The keys of the user's node certificates (tlsNodeKeys, a JSON list), when settings.tls.nodeCertificates is set. */
  readonly tlsNodeKeys?: pulumi.Input<string>;
}

/**
 * A highly available ActiveMQ Classic group on AWS: network, firewall, one host per zone, the shared store in
 * shared-kahadb mode, and the provisioning that leaves one master serving and the rest standing by.
 */
export class ActiveMqCluster extends pulumi.ComponentResource {
  public readonly failoverUrl: pulumi.Output<string>;
  public readonly publicFailoverUrl: pulumi.Output<string>;
  /** Empty when ZooKeeper is not deployed (shared-kahadb without zookeeperDeploy). */
  public readonly zookeeperConnect: pulumi.Output<string>;
  public readonly nodes: pulumi.Output<
    { index: number; availabilityZone: string; instanceId: string; privateIp: string; publicIp: string }[]
  >;
  public readonly sshUser: string;
  public readonly sshPrivateKey: pulumi.Output<string>;
  public readonly brokerUser: string;
  public readonly brokerPassword: pulumi.Output<string>;
  public readonly consoleUser: string;
  public readonly consolePassword: pulumi.Output<string>;
  /** With TLS on: the CA clients trust (PEM); the plain-TCP URL while clientTransport is tls+tcp. */
  public readonly tls?: {
    readonly caCertificate: pulumi.Output<string>;
    readonly tcpFailoverUrl?: pulumi.Output<string>;
    /** The stack's client certificate and key (secret), when brokers ask for one and no client CA is brought. */
    readonly client?: { readonly certificate: pulumi.Output<string>; readonly key: pulumi.Output<string> };
  };
  public readonly provisioning: ClusterProvisioning;

  constructor(name: string, args: ActiveMqClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("activemq-ha:cluster:ActiveMqCluster", name, {}, opts);
    const parent = { parent: this };
    const s = args.settings;
    const tags = { ...s.tags, "activemq-ha:cluster": name, stack: pulumi.getStack() };

    const network = new ClusterNetwork(name, { network: s.network, tags }, parent);
    const security = new ClusterSecurity(
      name,
      { vpcId: network.vpcId, vpcCidr: network.vpcCidr, rules: clusterIngressRules(s, args.sshCidrs), tags },
      parent,
    );
    const hosts = new ClusterHosts(
      name,
      {
        nodeCount: s.nodeCount,
        os: s.os,
        ...(s.amiId !== undefined ? { amiId: s.amiId } : {}),
        instanceType: s.instanceType,
        rootVolumeSizeGiB: s.rootVolumeSizeGiB,
        rejoin: Array.from({ length: s.nodeCount }, (_, i) => hostRejoinStep(s, i + 1)),
        subnetIds: network.subnetIds,
        securityGroupIds: [security.securityGroupId],
        ...(s.sshPublicKey !== undefined && args.sshPrivateKey !== undefined
          ? { sshKey: { publicKey: s.sshPublicKey, privateKey: args.sshPrivateKey } }
          : {}),
        tags,
      },
      parent,
    );
    const storage =
      s.haMode === "shared-kahadb"
        ? new SharedStorage(
            name,
            {
              vpcId: network.vpcId,
              subnetIds: network.subnetIds,
              clusterSecurityGroupId: security.securityGroupId,
              tags,
            },
            parent,
          )
        : undefined;

    // Letters and digits only: the values land in XML, Java properties and URLs without any escaping to get wrong.
    const password = (purpose: string) =>
      pulumi.secret(
        new random.RandomPassword(`${name}-${purpose}`, { length: 32, special: false }, parent).result,
      );
    const secrets: pulumi.Output<ClusterSecrets> = pulumi
      .all([password("broker-password"), password("console-password"), password("replication-token")])
      .apply(([brokerPassword, consolePassword, replicationToken]) => ({
        brokerPassword,
        consolePassword,
        replicationToken,
      }));
    const certificates = tlsOn(s)
      ? new ClusterCertificates(
          name,
          {
            tls: s.tls,
            nodes: hosts.hosts.map((h) => ({
              index: h.index,
              privateIp: h.privateIp,
              publicIp: h.publicIp,
              dnsNames: h.dnsNames,
            })),
            ...(args.tlsCaKey !== undefined ? { caKey: args.tlsCaKey } : {}),
            ...(args.tlsNodeKeys !== undefined ? { nodeKeys: args.tlsNodeKeys } : {}),
          },
          parent,
        )
      : undefined;
    const tlsFacts: pulumi.Output<TlsFacts | undefined> = certificates
      ? pulumi
          .all([
            certificates.nodeCertificates,
            certificates.clientCaCertificates,
            password("keystore-password"),
          ])
          .apply(([nodes, clientCaCertificates, keystorePassword]) => ({
            nodes,
            clientCaCertificates,
            keystorePassword,
          }))
      : pulumi.output(undefined);
    const nodeFacts: pulumi.Output<NodeFacts[]> = pulumi
      .all(hosts.hosts.map((h) => h.privateIp))
      .apply((ips) => ips.map((privateIp, i) => ({ index: i + 1, privateIp })));
    const facts: pulumi.Output<ClusterFacts> = pulumi
      .all([nodeFacts, secrets, storage ? storage.dnsName : pulumi.output(undefined), tlsFacts])
      .apply(([nodes, sec, sharedStoreHost, tlsMaterial]) => ({
        nodes,
        secrets: sec,
        ...(sharedStoreHost !== undefined ? { sharedStoreHost } : {}),
        ...(tlsMaterial !== undefined ? { tls: tlsMaterial } : {}),
      }));

    this.provisioning = new ClusterProvisioning(
      name,
      {
        plan: buildPlan(s),
        facts,
        hosts: new Map(
          hosts.hosts.map((h) => [
            h.index,
            {
              sshAddress: h.publicIp,
              hostKey: h.hostKey,
              instanceId: h.instanceId,
              networkInterfaceId: h.networkInterfaceId,
            },
          ]),
        ),
        sshUser: hosts.sshUser,
        sshPrivateKey: hosts.sshPrivateKey,
        dependsOn: [hosts, ...(storage ? storage.mountTargets : [])],
      },
      parent,
    );

    // Outputs wait for the readiness gates: `pulumi up` reports them only once the cluster serves.
    const ready = pulumi.all([...this.provisioning.steps.values()].map((step) => step.id));
    const privateIps = pulumi.all(hosts.hosts.map((h) => h.privateIp));
    const publicIps = pulumi.all(hosts.hosts.map((h) => h.publicIp));
    this.failoverUrl = pulumi.all([privateIps, ready]).apply(([ips]) => failoverUrl(s, ips));
    this.publicFailoverUrl = pulumi.all([publicIps, ready]).apply(([ips]) => failoverUrl(s, ips));
    this.zookeeperConnect = privateIps.apply((ips) => (s.zookeeper.deploy ? zookeeperConnect(s, ips) : ""));
    this.nodes = pulumi.all(
      hosts.hosts.map((h) =>
        pulumi
          .all([h.availabilityZone, h.instanceId, h.privateIp, h.publicIp])
          .apply(([availabilityZone, instanceId, privateIp, publicIp]) => ({
            index: h.index,
            availabilityZone,
            instanceId,
            privateIp,
            publicIp,
          })),
      ),
    );
    if (certificates) {
      this.tls = {
        caCertificate: certificates.caCertificate,
        ...(tcpOn(s)
          ? {
              tcpFailoverUrl: pulumi.all([privateIps, ready]).apply(([ips]) => failoverUrl(s, ips, "tcp")),
            }
          : {}),
        ...(certificates.client ? { client: certificates.client } : {}),
      };
    }
    this.sshUser = hosts.sshUser;
    this.sshPrivateKey = hosts.sshPrivateKey;
    this.brokerUser = s.activemq.brokerUser;
    this.brokerPassword = secrets.brokerPassword;
    this.consoleUser = s.activemq.consoleUser;
    this.consolePassword = secrets.consolePassword;

    this.registerOutputs({
      failoverUrl: this.failoverUrl,
      publicFailoverUrl: this.publicFailoverUrl,
      zookeeperConnect: this.zookeeperConnect,
      nodes: this.nodes,
    });
  }
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ClusterSecrets, PeerGroup } from "../lib/facts";
import { groupIndexes, groupResourceName, settingsForGroup } from "../lib/groups";
import { Cidr } from "../lib/net";
import { StackSettings } from "../lib/settings";
import { tlsOn } from "../lib/tls";
import { ClusterCertificates } from "./certificates";
import { GroupTls, HaGroup, NodeOutput } from "./group";
import { ClusterNetwork } from "./network";
import { ClusterProvisioning } from "./provisioning";

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
  /**
   * How many groups were deployed before this run (config.ts): the groups after them serve nothing yet, so their
   * hosts configure at once. Default: every group, so every change rolls one host at a time.
   */
  readonly deployedGroups?: number;
}

/** One HA group as the stack's `groups` output lists it. */
export interface GroupOutput {
  name: string;
  failoverUrl: string;
  publicFailoverUrl: string;
  nodes: NodeOutput[];
  zookeeperConnect: string;
}

/**
 * A highly available ActiveMQ Classic cluster on AWS: the network, the logins and the TLS trust every group shares,
 * and `groups` HA groups (components/group.ts), each with one master serving and the rest standing by, linked in a
 * full mesh of network connectors when there are several.
 */
export class ActiveMqCluster extends pulumi.ComponentResource {
  /** Group 1's URL: with one group the cluster's, with several the one clients of group 1 use (README). */
  public readonly failoverUrl: pulumi.Output<string>;
  public readonly publicFailoverUrl: pulumi.Output<string>;
  /** Group 1's; empty when ZooKeeper is not deployed (shared-kahadb without zookeeperDeploy). */
  public readonly zookeeperConnect: pulumi.Output<string>;
  /** Group 1's nodes. */
  public readonly nodes: pulumi.Output<NodeOutput[]>;
  /** Every group, in group order. */
  public readonly groups: pulumi.Output<GroupOutput[]>;
  public readonly sshUser: string;
  public readonly sshPrivateKey: pulumi.Output<string>;
  public readonly brokerUser: string;
  public readonly brokerPassword: pulumi.Output<string>;
  public readonly consoleUser: string;
  public readonly consolePassword: pulumi.Output<string>;
  /** With TLS on: the CA clients trust (PEM); group 1's plain-TCP URL while clientTransport is tls+tcp. */
  public readonly tls?: {
    readonly caCertificate: pulumi.Output<string>;
    readonly tcpFailoverUrl?: pulumi.Output<string>;
    /** The stack's client certificate and key (secret), when brokers ask for one and no client CA is brought. */
    readonly client?: { readonly certificate: pulumi.Output<string>; readonly key: pulumi.Output<string> };
  };
  /** Group 1's provisioning. */
  public readonly provisioning: ClusterProvisioning;
  public readonly haGroups: readonly HaGroup[];

  constructor(name: string, args: ActiveMqClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("activemq-ha:cluster:ActiveMqCluster", name, {}, opts);
    const parent = { parent: this };
    const s = args.settings;
    const tags = { ...s.tags, "activemq-ha:cluster": name, stack: pulumi.getStack() };

    const network = new ClusterNetwork(
      name,
      { network: s.network, instanceType: s.instanceType, tags },
      parent,
    );
    // Membership only, no rules of its own: each group's security group lets the bridges in from it.
    const groupsSecurityGroup =
      s.groups > 1
        ? new aws.ec2.SecurityGroup(
            `${name}-groups`,
            {
              vpcId: network.vpcId,
              description: "ActiveMQ HA groups: every group's hosts, for the bridges between groups",
              tags: { ...tags, Name: `${name}-groups` },
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
          { tls: s.tls, ...(args.tlsCaKey !== undefined ? { caKey: args.tlsCaKey } : {}) },
          parent,
        )
      : undefined;
    const groupTls: GroupTls | undefined = certificates
      ? {
          certificates,
          trustedCaCertificates: trustedCaCertificates(s, certificates),
          keystorePassword: password("keystore-password"),
          ...(args.tlsNodeKeys !== undefined ? { nodeKeys: args.tlsNodeKeys } : {}),
        }
      : undefined;

    // Each group bridges to the addresses of the others, known only once every group's hosts exist.
    const peerInputs = groupIndexes(s).map(() => pulumi.deferredOutput<PeerGroup[]>());
    const groups: HaGroup[] = [];
    for (const g of groupIndexes(s)) {
      const first = groups[0];
      groups.push(
        new HaGroup(
          groupResourceName(name, g),
          {
            settings: settingsForGroup(s, g),
            vpcId: network.vpcId,
            vpcCidr: network.vpcCidr,
            subnetIds: network.subnetIds,
            ...(network.internetGateway ? { internetGateway: network.internetGateway } : {}),
            sshCidrs: args.sshCidrs,
            ...(groupsSecurityGroup ? { groupsSecurityGroupId: groupsSecurityGroup.id } : {}),
            // The operator's key, or the one group 1 generates: one SSH key for the whole stack.
            ...(s.sshPublicKey !== undefined && args.sshPrivateKey !== undefined
              ? { sshKey: { publicKey: s.sshPublicKey, privateKey: args.sshPrivateKey } }
              : first
                ? { sshKey: { publicKey: first.sshPublicKey, privateKey: first.sshPrivateKey } }
                : {}),
            secrets,
            ...(groupTls ? { tls: groupTls } : {}),
            peers: (peerInputs[g - 1] as ReturnType<typeof pulumi.deferredOutput<PeerGroup[]>>)[0],
            tags,
            firstDeployment: g > (args.deployedGroups ?? s.groups),
            ...(g === 1
              ? { formerParents: { cluster: this, ...(certificates ? { certificates } : {}) } }
              : {}),
          },
          parent,
        ),
      );
    }
    groups.forEach((group, i) => {
      const others = groups.filter((other) => other !== group);
      (peerInputs[i] as ReturnType<typeof pulumi.deferredOutput<PeerGroup[]>>)[1](
        pulumi.all(
          others.map((other) =>
            other.privateIps.apply((addresses) => ({ brokerName: other.brokerName, addresses })),
          ),
        ),
      );
    });
    const group1 = groups[0] as HaGroup;
    this.haGroups = groups;
    this.provisioning = group1.provisioning;
    this.failoverUrl = group1.failoverUrl;
    this.publicFailoverUrl = group1.publicFailoverUrl;
    this.zookeeperConnect = group1.zookeeperConnect;
    this.nodes = group1.nodes;
    this.groups = pulumi.all(
      groups.map((group) =>
        pulumi
          .all([group.failoverUrl, group.publicFailoverUrl, group.nodes, group.zookeeperConnect])
          .apply(([failoverUrl, publicFailoverUrl, nodes, zookeeperConnect]) => ({
            name: group.brokerName,
            failoverUrl,
            publicFailoverUrl,
            nodes,
            zookeeperConnect,
          })),
      ),
    );
    if (certificates) {
      this.tls = {
        caCertificate: certificates.caCertificate,
        ...(group1.tcpFailoverUrl ? { tcpFailoverUrl: group1.tcpFailoverUrl } : {}),
        ...(certificates.client ? { client: certificates.client } : {}),
      };
    }
    this.sshUser = group1.sshUser;
    this.sshPrivateKey = group1.sshPrivateKey;
    this.brokerUser = s.activemq.brokerUser;
    this.brokerPassword = secrets.brokerPassword;
    this.consoleUser = s.activemq.consoleUser;
    this.consolePassword = secrets.consolePassword;

    this.registerOutputs({
      failoverUrl: this.failoverUrl,
      publicFailoverUrl: this.publicFailoverUrl,
      zookeeperConnect: this.zookeeperConnect,
      nodes: this.nodes,
      groups: this.groups,
    });
  }
}

/**
 * What the brokers trust: the client CAs, and with several groups the CA of the node certificates as well, since a
 * bridge presents its broker's certificate to the other group and checks the other group's.
 */
function trustedCaCertificates(s: StackSettings, certificates: ClusterCertificates): pulumi.Output<string> {
  return pulumi
    .all([certificates.clientCaCertificates, certificates.caCertificate])
    .apply(([clientCas, ca]) =>
      s.groups > 1 && !clientCas.includes(ca.trim())
        ? `${clientCas.trimEnd()}\n${ca.trimEnd()}\n`.trimStart()
        : clientCas,
    );
}

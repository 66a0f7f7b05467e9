import * as pulumi from "@pulumi/pulumi";
import { ClusterFacts, ClusterSecrets, inNodeOrder, NodeFacts, PeerGroup, TlsFacts } from "../lib/facts";
import { clusterIngressRules } from "../lib/firewall";
import { Cidr } from "../lib/net";
import { buildPlan } from "../lib/plan";
import { renderPayload, renderStepPayload } from "../lib/payload";
import { hostRejoinStep, rebuildSteps } from "../lib/rollout";
import { StackSettings } from "../lib/settings";
import { tcpOn } from "../lib/tls";
import { failoverUrl, zookeeperConnect } from "../lib/urls";
import { ClusterCertificates, GroupCertificates } from "./certificates";
import { ClusterHosts, NodeAddress } from "./hosts";
import { ClusterProvisioning } from "./provisioning";
import { ClusterSecurity } from "./security";
import { SharedStorage } from "./sharedStorage";

/** One node as the stack's outputs list it. */
export interface NodeOutput {
  index: number;
  availabilityZone: string;
  instanceId: string;
  privateIp: string;
  publicIp: string;
  /** The host's SSH public key (OpenSSH line): what a login to it must be shown, for known_hosts. */
  hostKey: string;
}

/** The cluster's TLS material a group's brokers use, when clientTransport has TLS on. */
export interface GroupTls {
  readonly certificates: ClusterCertificates;
  /** PEM: what the brokers' trust store holds (lib/facts.ts TlsFacts.trustedCaCertificates). */
  readonly trustedCaCertificates: pulumi.Input<string>;
  /** Protects the PKCS#12 stores on each host; secret. */
  readonly keystorePassword: pulumi.Input<string>;
  /** The keys of the user's node certificates (tlsNodeKeys, a JSON list), when brought. */
  readonly nodeKeys?: pulumi.Input<string>;
}

export interface HaGroupArgs {
  /** The group's settings (lib/groups.ts settingsForGroup): the stack's, with the group's brokerName. */
  readonly settings: StackSettings;
  readonly vpcId: pulumi.Input<string>;
  readonly vpcCidr: pulumi.Input<string>;
  /** One subnet per zone: node n goes to subnet (n - 1) mod 3, so every group spans the zones. */
  readonly subnetIds: pulumi.Input<string>[];
  /** The internet gateway, when the stack made the VPC: the Elastic IPs wait for it. */
  readonly internetGateway?: pulumi.Resource;
  /** Who may SSH in (settings' sshCidrs, or the deployer's address that config.ts looked up). */
  readonly sshCidrs: readonly Cidr[];
  /** With several groups: the security group every group's hosts carry, which bridges are let in from. */
  readonly groupsSecurityGroupId?: pulumi.Input<string>;
  /** The operator's SSH key; when absent, the group generates one (group 1 does, and hands it to the others). */
  readonly sshKey?: { readonly publicKey: pulumi.Input<string>; readonly privateKey: pulumi.Input<string> };
  /** The logins and replication token, shared by every group so that bridges and clients log in anywhere. */
  readonly secrets: pulumi.Input<ClusterSecrets>;
  readonly tls?: GroupTls;
  /** The other groups, in group order (empty with one group): the brokers bridge to each. */
  readonly peers: pulumi.Input<PeerGroup[]>;
  readonly tags: Record<string, string>;
  /** Nothing of the group serves yet (its first deployment): its hosts configure at once (lib/plan.ts). */
  readonly firstDeployment?: boolean;
  /**
   * Group 1 only: the resources where the group's children were before groups existed (the cluster, and its
   * certificates component). Aliases to them keep every URN of a one-group stack, so nothing is replaced.
   */
  readonly formerParents?: { readonly cluster: pulumi.Resource; readonly certificates?: pulumi.Resource };
}

/**
 * One highly available ActiveMQ group: its firewall, one host per node spread over the zones, its own ZooKeeper
 * ensemble and store (EFS in shared-kahadb), its node certificates, and the provisioning that leaves one master
 * serving and the rest standing by. No part of a group's election or store is on another group's hosts.
 */
export class HaGroup extends pulumi.ComponentResource {
  public readonly brokerName: string;
  public readonly failoverUrl: pulumi.Output<string>;
  public readonly publicFailoverUrl: pulumi.Output<string>;
  /** With clientTransport tls+tcp: the plain-TCP URL. */
  public readonly tcpFailoverUrl?: pulumi.Output<string>;
  /** Empty when ZooKeeper is not deployed (shared-kahadb without zookeeperDeploy). */
  public readonly zookeeperConnect: pulumi.Output<string>;
  public readonly nodes: pulumi.Output<NodeOutput[]>;
  /** The brokers' private addresses in node order: what the other groups' bridges dial. */
  public readonly privateIps: pulumi.Output<string[]>;
  public readonly sshUser: string;
  public readonly sshPublicKey: pulumi.Output<string>;
  public readonly sshPrivateKey: pulumi.Output<string>;
  public readonly provisioning: ClusterProvisioning;

  constructor(name: string, args: HaGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("activemq-ha:cluster:HaGroup", name, {}, opts);
    const s = args.settings;
    this.brokerName = s.activemq.brokerName;
    const former = args.formerParents;
    const child: pulumi.ComponentResourceOptions = {
      parent: this,
      ...(former ? { aliases: [{ parent: former.cluster }] } : {}),
    };
    // No tag of its own: the Name tags carry the group (amq-g2-node-1), and the user keeps 45 tags of AWS's 50.
    const tags = args.tags;

    const security = new ClusterSecurity(
      name,
      {
        vpcId: args.vpcId,
        vpcCidr: args.vpcCidr,
        rules: clusterIngressRules(s, args.sshCidrs),
        ...(args.groupsSecurityGroupId !== undefined
          ? { groupsSecurityGroupId: args.groupsSecurityGroupId }
          : {}),
        tags,
      },
      child,
    );
    const storage =
      s.haMode === "shared-kahadb"
        ? new SharedStorage(
            name,
            {
              vpcId: args.vpcId,
              subnetIds: args.subnetIds,
              clusterSecurityGroupId: security.securityGroupId,
              tags,
            },
            child,
          )
        : undefined;

    const plan = buildPlan(s, { firstDeployment: args.firstDeployment === true });
    // The facts come from the nodes' addresses, which exist before any instance: the hosts component asks for them
    // to render each node's rejoin step, which carries the node's rebuild (lib/rollout.ts).
    let facts: pulumi.Output<ClusterFacts> | undefined;
    const factsFrom = (addresses: readonly NodeAddress[]): pulumi.Output<ClusterFacts> => {
      const tlsFacts = args.tls
        ? groupTlsFacts(name, s, args.tls, addresses, this, former?.certificates)
        : undefined;
      const nodeFacts: pulumi.Output<NodeFacts[]> = pulumi
        .all(addresses.map((h) => h.privateIp))
        .apply((ips) => ips.map((privateIp, i) => ({ index: i + 1, privateIp })));
      return pulumi
        .all([
          nodeFacts,
          args.secrets,
          args.peers,
          storage ? storage.dnsName : pulumi.output(undefined),
          tlsFacts ?? pulumi.output(undefined),
        ])
        .apply(([nodes, secrets, peers, sharedStoreHost, tls]) => ({
          nodes,
          secrets,
          // Absent with one group, so a one-group stack's facts (and payloads) are what they were.
          ...(peers.length > 0 ? { peers } : {}),
          ...(sharedStoreHost !== undefined ? { sharedStoreHost } : {}),
          ...(tls !== undefined ? { tls } : {}),
        }));
    };
    const hosts = new ClusterHosts(
      name,
      {
        nodeCount: s.nodeCount,
        os: s.os,
        ...(s.amiId !== undefined ? { amiId: s.amiId } : {}),
        instanceType: s.instanceType,
        rootVolumeSizeGiB: s.rootVolumeSizeGiB,
        rejoinPayload: (addresses) => {
          const known = factsFrom(addresses);
          facts = known;
          return (node) =>
            known.apply((f) => {
              const rebuild = rebuildSteps(plan, node).map((step) => ({
                id: step.id,
                payload: renderPayload(step, f),
              }));
              const members = inNodeOrder(f.nodes).map((n) => n.privateIp);
              const { step, input } = hostRejoinStep(s, node, members, rebuild);
              return renderStepPayload(step, input);
            });
        },
        subnetIds: args.subnetIds,
        securityGroupIds: [
          security.securityGroupId,
          ...(args.groupsSecurityGroupId !== undefined ? [args.groupsSecurityGroupId] : []),
        ],
        ...(args.sshKey !== undefined ? { sshKey: args.sshKey } : {}),
        ...(args.internetGateway !== undefined ? { internetGateway: args.internetGateway } : {}),
        tags,
      },
      child,
    );
    if (facts === undefined) {
      throw new Error("the hosts component did not ask for the group's facts");
    }

    this.provisioning = new ClusterProvisioning(
      name,
      {
        plan,
        facts,
        hosts: new Map(
          hosts.hosts.map((h) => [
            h.index,
            {
              sshAddress: h.publicIp,
              hostKey: h.hostKey,
              instanceId: h.instanceId,
              networkInterfaceId: h.networkInterfaceId,
              // Its own rejoin step only, never the hosts component: the next node's instance waits for this
              // node's rejoin step, which rebuilds a replaced host by itself (lib/rollout.ts).
              after: h.rejoin,
            },
          ]),
        ),
        sshUser: hosts.sshUser,
        sshPrivateKey: hosts.sshPrivateKey,
        dependsOn: storage ? storage.mountTargets : [],
      },
      child,
    );

    // The URLs wait for the readiness gates: `pulumi up` reports them only once the group serves.
    const ready = pulumi.all([...this.provisioning.steps.values()].map((step) => step.id));
    this.privateIps = pulumi.all(hosts.hosts.map((h) => h.privateIp));
    const publicIps = pulumi.all(hosts.hosts.map((h) => h.publicIp));
    this.failoverUrl = pulumi.all([this.privateIps, ready]).apply(([ips]) => failoverUrl(s, ips));
    this.publicFailoverUrl = pulumi.all([publicIps, ready]).apply(([ips]) => failoverUrl(s, ips));
    if (args.tls && tcpOn(s)) {
      this.tcpFailoverUrl = pulumi.all([this.privateIps, ready]).apply(([ips]) => failoverUrl(s, ips, "tcp"));
    }
    this.zookeeperConnect = this.privateIps.apply((ips) =>
      s.zookeeper.deploy ? zookeeperConnect(s, ips) : "",
    );
    this.nodes = pulumi.all(
      hosts.hosts.map((h) =>
        pulumi
          .all([h.availabilityZone, h.instanceId, h.privateIp, h.publicIp, h.hostKey])
          .apply(([availabilityZone, instanceId, privateIp, publicIp, hostKey]) => ({
            index: h.index,
            availabilityZone,
            instanceId,
            privateIp,
            publicIp,
            hostKey: hostKey.trim(),
          })),
      ),
    );
    this.sshUser = hosts.sshUser;
    this.sshPublicKey = hosts.sshPublicKey;
    this.sshPrivateKey = hosts.sshPrivateKey;

    this.registerOutputs({
      failoverUrl: this.failoverUrl,
      publicFailoverUrl: this.publicFailoverUrl,
      zookeeperConnect: this.zookeeperConnect,
      nodes: this.nodes,
    });
  }
}

/** The group's node certificates, and what the brokers' stores are built from. */
function groupTlsFacts(
  name: string,
  s: StackSettings,
  groupTls: GroupTls,
  addresses: readonly NodeAddress[],
  group: HaGroup,
  formerParent: pulumi.Resource | undefined,
): pulumi.Output<TlsFacts> {
  const certificates = new GroupCertificates(
    name,
    {
      tls: s.tls,
      nodes: addresses.map((h) => ({
        index: h.index,
        privateIp: h.privateIp,
        publicIp: h.publicIp,
        dnsNames: h.dnsNames,
      })),
      ca: groupTls.certificates,
      ...(groupTls.nodeKeys !== undefined ? { nodeKeys: groupTls.nodeKeys } : {}),
      bridgeClient: s.groups > 1,
      ...(formerParent ? { formerParent } : {}),
    },
    { parent: group },
  );
  return pulumi
    .all([certificates.nodeCertificates, groupTls.trustedCaCertificates, groupTls.keystorePassword])
    .apply(([nodes, trustedCaCertificates, keystorePassword]) => ({
      nodes,
      trustedCaCertificates,
      keystorePassword,
    }));
}

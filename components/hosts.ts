import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { renderHostKeyCloudConfig } from "../lib/cloudInit";
import { IMAGES } from "../lib/images";
import { sha256 } from "../lib/payload";
import { REJOIN_COMMANDS, rejoinStep, rejoinTriggers } from "../lib/rollout";
import { dialPolicy } from "../lib/stepRun";
import { OperatingSystem } from "../lib/settings";

export interface ClusterHostsArgs {
  readonly nodeCount: number;
  readonly os: OperatingSystem;
  /** Pins the image; otherwise the newest official image of `os`. */
  readonly amiId?: string;
  readonly instanceType: string;
  readonly rootVolumeSizeGiB: number;
  /** The subnet of each node (index 0 is node 1). */
  readonly subnetIds: pulumi.Input<string>[];
  readonly securityGroupIds: pulumi.Input<string>[];
  /** The operator's key pair; when absent one is generated and kept as a Pulumi secret. */
  readonly sshKey?: { readonly publicKey: pulumi.Input<string>; readonly privateKey: pulumi.Input<string> };
  /**
   * Renders each node's rejoin payload (lib/rollout.ts) from every node's addresses, which exist before any
   * instance: node n's instance changes only after node n-1's rejoin step has seen it back in its group.
   */
  readonly rejoinPayload: (addresses: readonly NodeAddress[]) => (node: number) => pulumi.Output<string>;
  /** The VPC's internet gateway, when this program made it: the Elastic IPs associate only after it is attached. */
  readonly internetGateway?: pulumi.Resource;
  readonly tags: Record<string, string>;
}

/** A node's addresses and host key: they outlive its instance. */
export interface NodeAddress {
  readonly index: number;
  readonly privateIp: pulumi.Output<string>;
  readonly publicIp: pulumi.Output<string>;
  /** The Elastic IP's public and private DNS names, where AWS gives them (its TLS certificate names them). */
  readonly dnsNames: pulumi.Output<string[]>;
  /** The host's SSH public key (OpenSSH line), which every connection to it verifies. */
  readonly hostKey: pulumi.Output<string>;
}

export interface HostInfo extends NodeAddress {
  readonly availabilityZone: pulumi.Output<string>;
  readonly instanceId: pulumi.Output<string>;
  /**
   * The node's rejoin step: the node's provisioning starts after it (and nothing else of the hosts), so a replaced
   * host is rebuilt by the rejoin step alone, never by two runs at once.
   */
  readonly rejoin: command.remote.Command;
  readonly networkInterfaceId: pulumi.Output<string>;
}

/**
 * One EC2 instance per node. Each node owns a network interface and an Elastic IP that outlive its instance,
 * so a replaced instance keeps the addresses ZooKeeper's server list and the clients' URL name, and a host key
 * that outlives it too, so SSH can verify whichever instance answers.
 */
export class ClusterHosts extends pulumi.ComponentResource {
  public readonly hosts: HostInfo[];
  /** Every node's addresses and host key, in node order. */
  public readonly addresses: NodeAddress[];
  public readonly sshUser: string;
  public readonly sshPrivateKey: pulumi.Output<string>;
  /** The operator's public key (OpenSSH line): other groups' hosts take the same key. */
  public readonly sshPublicKey: pulumi.Output<string>;

  constructor(name: string, args: ClusterHostsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("activemq-ha:hosts:ClusterHosts", name, {}, opts);
    const parent = { parent: this };
    const image = IMAGES[args.os];
    this.sshUser = image.sshUser;

    let publicKey: pulumi.Input<string>;
    if (args.sshKey) {
      publicKey = args.sshKey.publicKey;
      this.sshPrivateKey = pulumi.secret(args.sshKey.privateKey);
    } else {
      const key = new tls.PrivateKey(`${name}-ssh`, { algorithm: "ED25519" }, parent);
      publicKey = key.publicKeyOpenssh;
      this.sshPrivateKey = pulumi.secret(key.privateKeyOpenssh);
    }
    this.sshPublicKey = pulumi.output(publicKey);
    const keyPair = new aws.ec2.KeyPair(
      `${name}-ssh`,
      { publicKey, tags: { ...args.tags, Name: `${name}-ssh` } },
      parent,
    );

    const amiId =
      args.amiId ??
      aws.ec2
        .getAmiOutput(
          {
            owners: [image.owner],
            mostRecent: true,
            filters: [
              { name: "name", values: [image.namePattern] },
              { name: "architecture", values: ["x86_64"] },
              { name: "virtualization-type", values: ["hvm"] },
            ],
          },
          parent,
        )
        .apply((ami) => ami.id);

    // Every node's addresses and host key first: the rejoin steps' payloads are rendered from them (each step asks
    // the other members whether a master serves, and carries its node's rebuild).
    const nodes = Array.from({ length: args.nodeCount }, (_, i) => {
      const index = i + 1;
      const nodeName = `${name}-node-${index}`;
      const tags = { ...args.tags, Name: nodeName, role: "activemq-zookeeper", node: String(index) };
      const subnetId = args.subnetIds[i % args.subnetIds.length] as pulumi.Input<string>;
      const nic = new aws.ec2.NetworkInterface(
        nodeName,
        {
          subnetId,
          securityGroups: args.securityGroupIds,
          description: `${nodeName} (stable address)`,
          tags,
        },
        parent,
      );
      // pulumi-aws's Eip: an address in a VPC needs the internet gateway attached first (Gateway.NotAttached,
      // which the provider does not retry).
      const eip = new aws.ec2.Eip(
        nodeName,
        { domain: "vpc", networkInterface: nic.id, tags },
        { ...parent, dependsOn: args.internetGateway ? [args.internetGateway] : [] },
      );
      // Made once per node and kept in state: a replacement instance boots with the same key.
      const hostKey = new tls.PrivateKey(`${nodeName}-host-key`, { algorithm: "ED25519" }, parent);
      const address: NodeAddress = {
        index,
        privateIp: nic.privateIp,
        publicIp: eip.publicIp,
        dnsNames: pulumi
          .all([eip.publicDns, eip.privateDns])
          .apply((names) => names.filter((n): n is string => typeof n === "string" && n !== "")),
        hostKey: hostKey.publicKeyOpenssh,
      };
      return { index, nodeName, tags, nic, eip, hostKey, address };
    });
    this.addresses = nodes.map((n) => n.address);
    const rejoinPayload = args.rejoinPayload(this.addresses);

    let previousRejoin: command.remote.Command | undefined;
    this.hosts = nodes.map(({ index, nodeName, tags, nic, eip, hostKey, address }): HostInfo => {
      const userData = pulumi
        .all([hostKey.privateKeyOpenssh, hostKey.publicKeyOpenssh])
        .apply(([privateKey, publicKey]) => renderHostKeyCloudConfig(privateKey, publicKey));
      const instance = new aws.ec2.Instance(
        nodeName,
        {
          ami: amiId,
          instanceType: args.instanceType,
          keyName: keyPair.keyName,
          primaryNetworkInterface: { networkInterfaceId: nic.id },
          metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
          userData: pulumi.secret(userData),
          rootBlockDevice: {
            volumeType: "gp3",
            volumeSize: args.rootVolumeSizeGiB,
            encrypted: true,
            deleteOnTermination: true,
            tags,
          },
          tags,
        },
        {
          ...parent,
          // A newer image must not replace a running broker on the next `pulumi up`.
          ignoreChanges: ["ami"],
          // The network interface can serve one instance at a time: the old one must go before its replacement
          // can boot on it (create-first fails with InvalidNetworkInterface.InUse).
          deleteBeforeReplace: true,
          // One host at a time: AWS stops an instance to change its type or user data, or replaces it; the next
          // waits for this one's rejoin step (lib/rollout.ts).
          dependsOn: [eip, ...(previousRejoin ? [previousRejoin] : [])],
        },
      );
      const rejoin = rejoinStep(index);
      previousRejoin = new command.remote.Command(
        `${name}-${rejoin.id}`,
        {
          connection: {
            host: eip.publicIp,
            user: this.sshUser,
            privateKey: this.sshPrivateKey,
            hostKey: hostKey.publicKeyOpenssh,
            ...dialPolicy(rejoin),
          },
          // `create` is what runs after the instance changed: a changed trigger replaces the step (lib/rollout.ts).
          ...REJOIN_COMMANDS,
          stdin: rejoinPayload(index),
          triggers: pulumi
            .all([instance.instanceType, pulumi.unsecret(userData).apply(sha256), instance.id])
            .apply(([type, digest, id]) => rejoinTriggers(type, digest, id)),
          addPreviousOutputInEnv: false,
        },
        {
          ...parent,
          dependsOn: [instance],
          customTimeouts: { create: `${rejoin.timeoutMinutes + 5}m` },
          // The rebuild it carries holds the group's passwords and keys.
          additionalSecretOutputs: ["stdin"],
        },
      );
      return {
        availabilityZone: instance.availabilityZone,
        instanceId: instance.id,
        rejoin: previousRejoin,
        networkInterfaceId: nic.id,
        ...address,
      };
    });

    this.registerOutputs({
      hosts: this.hosts,
      sshUser: this.sshUser,
      sshPrivateKey: this.sshPrivateKey,
    });
  }
}

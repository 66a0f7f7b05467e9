import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface SharedStorageArgs {
  readonly vpcId: pulumi.Input<string>;
  /** A mount target goes into each, so every host mounts from its own zone. */
  readonly subnetIds: pulumi.Input<string>[];
  /** Only members of this group may reach NFS. */
  readonly clusterSecurityGroupId: pulumi.Input<string>;
  readonly tags: Record<string, string>;
}

/**
 * shared-kahadb: one encrypted EFS file system that every broker points KahaDB at. The broker holding its file
 * lock is master; the others wait for the lock.
 */
export class SharedStorage extends pulumi.ComponentResource {
  /** The NFS server name hosts mount (resolves to the mount target in their own zone). */
  public readonly dnsName: pulumi.Output<string>;
  public readonly fileSystemId: pulumi.Output<string>;
  public readonly mountTargets: aws.efs.MountTarget[];

  constructor(name: string, args: SharedStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("activemq-ha:storage:SharedStorage", name, {}, opts);
    const parent = { parent: this };

    const fileSystem = new aws.efs.FileSystem(
      `${name}-efs`,
      {
        encrypted: true,
        performanceMode: "generalPurpose",
        throughputMode: "elastic",
        tags: { ...args.tags, Name: `${name}-efs` },
      },
      parent,
    );
    const nfsGroup = new aws.ec2.SecurityGroup(
      `${name}-nfs`,
      {
        vpcId: args.vpcId,
        description: "EFS for the shared ActiveMQ store",
        tags: { ...args.tags, Name: `${name}-nfs` },
      },
      parent,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-nfs-from-cluster`,
      {
        securityGroupId: nfsGroup.id,
        ipProtocol: "tcp",
        fromPort: 2049,
        toPort: 2049,
        referencedSecurityGroupId: args.clusterSecurityGroupId,
        description: "NFS from cluster members only",
        tags: { ...args.tags, Name: `${name}-nfs-from-cluster` },
      },
      parent,
    );
    this.mountTargets = args.subnetIds.map(
      (subnetId, i) =>
        new aws.efs.MountTarget(
          `${name}-mount-${i + 1}`,
          { fileSystemId: fileSystem.id, subnetId, securityGroups: [nfsGroup.id] },
          parent,
        ),
    );
    this.dnsName = fileSystem.dnsName;
    this.fileSystemId = fileSystem.id;
    this.registerOutputs({ dnsName: this.dnsName, fileSystemId: this.fileSystemId });
  }
}

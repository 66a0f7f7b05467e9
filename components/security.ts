import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { IngressRule } from "../lib/firewall";

export interface ClusterSecurityArgs {
  readonly vpcId: pulumi.Input<string>;
  /** The VPC's block, for rules whose source is the VPC. */
  readonly vpcCidr: pulumi.Input<string>;
  /** Every ingress rule (lib/firewall.ts): one resource each, so a change touches only that rule. */
  readonly rules: readonly IngressRule[];
  /** With several groups: the security group every group's hosts carry, for rules whose source is "groups". */
  readonly groupsSecurityGroupId?: pulumi.Input<string>;
  readonly tags: Record<string, string>;
}

function groupsSecurityGroup(args: ClusterSecurityArgs, ruleName: string): pulumi.Input<string> {
  if (args.groupsSecurityGroupId === undefined) {
    throw new Error(`rule ${ruleName} admits the other HA groups, but no groups security group was given`);
  }
  return args.groupsSecurityGroupId;
}

/** The cluster's security group: members reach each other on the cluster ports; everyone else only as the rules say. */
export class ClusterSecurity extends pulumi.ComponentResource {
  public readonly securityGroupId: pulumi.Output<string>;

  constructor(name: string, args: ClusterSecurityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("activemq-ha:security:ClusterSecurity", name, {}, opts);
    const parent = { parent: this };

    const group = new aws.ec2.SecurityGroup(
      `${name}-cluster`,
      {
        vpcId: args.vpcId,
        description: "ActiveMQ HA cluster members",
        tags: { ...args.tags, Name: `${name}-cluster` },
      },
      parent,
    );
    for (const rule of args.rules) {
      const source = rule.source;
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-${rule.name}`,
        {
          securityGroupId: group.id,
          ipProtocol: "tcp",
          fromPort: rule.port,
          toPort: rule.port,
          description: rule.description,
          ...(source.kind === "cluster" ? { referencedSecurityGroupId: group.id } : {}),
          ...(source.kind === "securityGroup" ? { referencedSecurityGroupId: source.id } : {}),
          ...(source.kind === "groups"
            ? { referencedSecurityGroupId: groupsSecurityGroup(args, rule.name) }
            : {}),
          ...(source.kind === "vpc" ? { cidrIpv4: args.vpcCidr } : {}),
          ...(source.kind === "cidr" && source.cidr.family === "ipv4" ? { cidrIpv4: source.cidr.text } : {}),
          ...(source.kind === "cidr" && source.cidr.family === "ipv6" ? { cidrIpv6: source.cidr.text } : {}),
          tags: { ...args.tags, Name: `${name}-${rule.name}` },
        },
        parent,
      );
    }
    // Hosts download packages and releases; replies to clients need no rule (security groups are stateful).
    for (const [family, cidr] of [
      ["ipv4", "0.0.0.0/0"],
      ["ipv6", "::/0"],
    ] as const) {
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-egress-${family}`,
        {
          securityGroupId: group.id,
          ipProtocol: "-1",
          description: "outbound traffic (packages and releases)",
          ...(family === "ipv4" ? { cidrIpv4: cidr } : { cidrIpv6: cidr }),
          tags: { ...args.tags, Name: `${name}-egress-${family}` },
        },
        parent,
      );
    }

    this.securityGroupId = group.id;
    this.registerOutputs({ securityGroupId: this.securityGroupId });
  }
}

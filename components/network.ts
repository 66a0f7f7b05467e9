import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { carveSubnets } from "../lib/net";
import { checkZoneCount, checkZonesOffer, zonesOffering, ZONES_USED } from "../lib/placement";
import { NetworkSettings } from "../lib/settings";

export interface ClusterNetworkArgs {
  /** A dedicated VPC to create, or an existing VPC and subnets to use. */
  readonly network: NetworkSettings;
  /** The hosts' instance type: subnets go only to zones that offer it, and existing ones are checked. */
  readonly instanceType: string;
  readonly tags: Record<string, string>;
}

/**
 * The network the hosts live in: by default a dedicated VPC with one public subnet in each of three availability
 * zones, an internet gateway and a default route; or an existing VPC whose subnets are checked to span three zones.
 */
export class ClusterNetwork extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly vpcCidr: pulumi.Output<string>;
  /** One subnet per zone used, in node placement order. */
  public readonly subnetIds: pulumi.Output<string>[];
  public readonly availabilityZones: pulumi.Output<string>[];
  /** The internet gateway this component made (absent with an existing VPC): addresses associate after it. */
  public readonly internetGateway?: aws.ec2.InternetGateway;

  constructor(name: string, args: ClusterNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("activemq-ha:network:ClusterNetwork", name, {}, opts);
    const parent = { parent: this };
    const region = aws.getRegionOutput({}, parent);
    // The zones of the region that offer the hosts' instance type.
    const offering = aws.ec2
      .getInstanceTypeOfferingsOutput(
        {
          locationType: "availability-zone",
          filters: [{ name: "instance-type", values: [args.instanceType] }],
        },
        parent,
      )
      .apply((o) => o.locations);
    // A subnet's id is handed on only once its zone is known to offer the type: no host is placed, or changed,
    // in a zone where AWS would stop it and fail to change its type.
    const checkedSubnetId = (id: pulumi.Output<string>, zone: pulumi.Output<string>) =>
      pulumi.all([id, zone, offering, region.region]).apply(([subnetId, az, offers, regionName]) => {
        checkZonesOffer([az], offers, args.instanceType, regionName);
        return subnetId;
      });

    if (args.network.kind === "existing") {
      const existing = args.network;
      const vpc = aws.ec2.getVpcOutput({ id: existing.vpcId }, parent);
      const subnets = existing.subnetIds.map((id) => aws.ec2.getSubnetOutput({ id }, parent));
      // Checked when AWS answers: every subnet in the VPC, each in a zone of its own.
      const zones = pulumi
        .all([pulumi.all(subnets.map((s) => s.availabilityZone)), pulumi.all(subnets.map((s) => s.vpcId))])
        .apply(([azs, vpcIds]) => {
          const foreign = existing.subnetIds.filter((_, i) => vpcIds[i] !== existing.vpcId);
          if (foreign.length > 0) {
            throw new Error(`subnetIds: ${foreign.join(", ")} are not in vpcId ${existing.vpcId}`);
          }
          if (new Set(azs).size !== azs.length) {
            throw new Error(
              `subnetIds: got subnets in zones ${azs.join(", ")}; allowed: each subnet in a different availability zone`,
            );
          }
          return azs;
        });
      this.vpcId = vpc.id;
      this.vpcCidr = vpc.cidrBlock;
      this.availabilityZones = subnets.map((_, i) => zones.apply((azs) => azs[i] as string));
      this.subnetIds = subnets.map((s, i) =>
        checkedSubnetId(s.id, this.availabilityZones[i] as pulumi.Output<string>),
      );
    } else {
      const available = aws.getAvailabilityZonesOutput(
        // Local and Wavelength zones have their own quirks; regular zones only.
        { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
        parent,
      );
      const vpcCidr = args.network.vpcCidr;
      const zoneNames = pulumi
        .all([available.names, offering, region.region])
        .apply(([names, offers, regionName]) => {
          checkZoneCount(names, regionName);
          return zonesOffering(names, offers, args.instanceType, regionName);
        });
      const vpc = new aws.ec2.Vpc(
        `${name}-vpc`,
        {
          // Waits for the zones: a region without three zones for the type fails before anything is created.
          cidrBlock: zoneNames.apply(() => vpcCidr),
          enableDnsHostnames: true,
          enableDnsSupport: true,
          tags: { ...args.tags, Name: `${name}-vpc` },
        },
        parent,
      );
      const gateway = new aws.ec2.InternetGateway(
        `${name}-igw`,
        { vpcId: vpc.id, tags: { ...args.tags, Name: `${name}-igw` } },
        parent,
      );
      const routes = new aws.ec2.RouteTable(
        `${name}-public`,
        {
          vpcId: vpc.id,
          routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }],
          tags: { ...args.tags, Name: `${name}-public` },
        },
        parent,
      );
      const cidrs = carveSubnets(args.network.vpcCidr, ZONES_USED);
      const subnets = cidrs.map((cidrBlock, i) => {
        const subnet = new aws.ec2.Subnet(
          `${name}-public-${i + 1}`,
          {
            vpcId: vpc.id,
            cidrBlock,
            availabilityZone: zoneNames.apply((z) => z[i] as string),
            // Hosts get Elastic IPs on their network interfaces instead.
            mapPublicIpOnLaunch: false,
            tags: { ...args.tags, Name: `${name}-public-${i + 1}` },
          },
          // A subnet stays in its zone: the choice of zones follows the instance type, and a new type must not move
          // (replace) a running subnet with every host in it. checkedSubnetId refuses a type its zone lacks instead.
          { ...parent, ignoreChanges: ["availabilityZone"] },
        );
        new aws.ec2.RouteTableAssociation(
          `${name}-public-${i + 1}`,
          { subnetId: subnet.id, routeTableId: routes.id },
          parent,
        );
        return subnet;
      });
      this.vpcId = vpc.id;
      this.vpcCidr = vpc.cidrBlock;
      this.availabilityZones = subnets.map((s) => s.availabilityZone);
      this.subnetIds = subnets.map((s) => checkedSubnetId(s.id, s.availabilityZone));
      this.internetGateway = gateway;
    }

    this.registerOutputs({
      vpcId: this.vpcId,
      vpcCidr: this.vpcCidr,
      subnetIds: this.subnetIds,
      availabilityZones: this.availabilityZones,
    });
  }
}

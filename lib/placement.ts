// Where each node goes. Pure.

/** Nodes round-robin over the zones in the order given, so three nodes land in three distinct zones. */
export function spreadAcrossZones<T>(nodeCount: number, zones: readonly T[]): T[] {
  if (zones.length === 0) {
    throw new Error("no availability zones to place nodes in");
  }
  return Array.from({ length: nodeCount }, (_, i) => zones[i % zones.length] as T);
}

/**
 * How many zones the cluster spans: three. A quorum of 3, 5 or 7 nodes survives the loss of any one zone only
 * when no zone holds a majority, which three zones guarantee and two cannot.
 */
export const ZONES_USED = 3;

export function checkZoneCount(available: readonly string[], region: string): void {
  if (available.length < ZONES_USED) {
    throw new Error(
      `region ${region} offers ${available.length} availability zone(s) (${available.join(", ")}); ` +
        `this cluster needs ${ZONES_USED} so that losing one zone never loses the quorum. Choose another aws:region.`,
    );
  }
}

/**
 * The zones a new VPC's subnets go to: the first ZONES_USED of the region's zones, in the region's order, that offer
 * the instance type (EC2 offers a type in some zones of a region only; us-east-1 has such zones for t3 in some
 * accounts). Throws, naming the type, the region and the zones that offer it, when fewer do.
 */
export function zonesOffering(
  available: readonly string[],
  offering: readonly string[],
  instanceType: string,
  region: string,
): string[] {
  const usable = available.filter((z) => offering.includes(z));
  if (usable.length < ZONES_USED) {
    throw new Error(
      `instanceType: ${instanceType} is offered in ${usable.length} of region ${region}'s availability zones ` +
        `(${usable.join(", ") || "none"}; the region has ${available.join(", ")}); this cluster needs ${ZONES_USED}. ` +
        `Choose another instanceType or aws:region.`,
    );
  }
  return usable.slice(0, ZONES_USED);
}

/**
 * Refuses an instance type that a zone the hosts are in does not offer: AWS would stop the instance, fail to change
 * its type and leave it stopped. Names the type, the zones without it and the ones with it.
 */
export function checkZonesOffer(
  zones: readonly string[],
  offering: readonly string[],
  instanceType: string,
  region: string,
): void {
  const lacking = zones.filter((z) => !offering.includes(z));
  if (lacking.length > 0) {
    throw new Error(
      `instanceType: ${instanceType} is not offered in availability zone(s) ${lacking.join(", ")} of region ` +
        `${region}, where the cluster's subnets are (it is offered in ${offering.join(", ") || "none"}); nothing was ` +
        `changed. Choose a type offered in ${zones.join(", ")}.`,
    );
  }
}

/** EC2's default quota of Elastic IP addresses per region (Service Quotas code L-0263D0A3). */
export const DEFAULT_ELASTIC_IP_QUOTA = 5;

/**
 * The warning for a stack that will hold more Elastic IPs than the default quota (one per host): without a raised
 * quota the update fails part-way, at the sixth address, with AddressLimitExceeded. Undefined when it fits, or when
 * the update adds no address.
 */
export function elasticIpWarning(total: number, added: number): string | undefined {
  if (added <= 0 || total <= DEFAULT_ELASTIC_IP_QUOTA) {
    return undefined;
  }
  return (
    `this stack holds ${total} Elastic IP addresses (one per host; this update adds ${added}), more than the ` +
    `default quota of ${DEFAULT_ELASTIC_IP_QUOTA} per region: unless this account's quota "EC2-VPC Elastic IPs" ` +
    `(Service Quotas, code L-0263D0A3) leaves room for ${added} more, the update fails part-way with ` +
    `AddressLimitExceeded. Check it with: aws service-quotas get-service-quota --service-code ec2 --quota-code ` +
    `L-0263D0A3, and the addresses in use with: aws ec2 describe-addresses.`
  );
}

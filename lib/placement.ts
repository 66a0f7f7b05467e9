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

/**
 * A listing may consume several stock items (bundle, kit) or several units of one (multipack).
 * Its availability is the number of complete sets: min over components of ⌊ATS_i / n_i⌋.
 * A component with negative ATS makes the bundle negative too (an oversell, clamped to 0 only
 * when published).
 */
export type Component = { itemId: string; perUnit: number };

export function bundleAvailability(
  components: readonly { ats: number; perUnit: number }[],
): number {
  if (components.length === 0) return 0;
  let min = Number.POSITIVE_INFINITY;
  for (const { ats, perUnit } of components) {
    if (!Number.isInteger(perUnit) || perUnit < 1) {
      throw new RangeError(`component quantity must be a positive integer, got ${perUnit}`);
    }
    min = Math.min(min, Math.floor(ats / perUnit));
  }
  return min;
}

/** Availability of any listing: a plain listing is a bundle of one unit of one item. */
export function listingAvailability(
  components: readonly Component[],
  atsByItem: ReadonlyMap<string, number>,
): number {
  return bundleAvailability(
    components.map((c) => ({ ats: atsByItem.get(c.itemId) ?? 0, perUnit: c.perUnit })),
  );
}

/**
 * Multi-location decisions for the source store.
 *
 * - Where a sale from another channel is committed: the source location with the most ATS
 *   (Trunk's "location with most surplus"), ties broken by the primary flag, then by id, so the
 *   choice is deterministic.
 * - How the source storefront's published quantity is spread over its locations: largest ATS
 *   first, never more than a location's own ATS, so no location offers units it does not have.
 */
export type LocationAts = { locationId: string; ats: number; isPrimary?: boolean };

export function chooseCommitLocation(locations: readonly LocationAts[]): string | null {
  let best: LocationAts | null = null;
  for (const loc of locations) {
    if (
      !best ||
      loc.ats > best.ats ||
      (loc.ats === best.ats && Boolean(loc.isPrimary) && !best.isPrimary) ||
      (loc.ats === best.ats &&
        Boolean(loc.isPrimary) === Boolean(best.isPrimary) &&
        loc.locationId < best.locationId)
    ) {
      best = loc;
    }
  }
  return best?.locationId ?? null;
}

export function allocateAcrossLocations(
  total: number,
  locations: readonly LocationAts[],
): Map<string, number> {
  const result = new Map<string, number>();
  const ordered = [...locations].sort(
    (a, b) =>
      b.ats - a.ats ||
      Number(Boolean(b.isPrimary)) - Number(Boolean(a.isPrimary)) ||
      (a.locationId < b.locationId ? -1 : 1),
  );
  let remaining = Math.max(0, total);
  for (const loc of ordered) {
    const share = Math.min(remaining, Math.max(0, loc.ats));
    result.set(loc.locationId, share);
    remaining -= share;
  }
  return result;
}

/**
 * The published quantity of every listing, from item levels and buffer rules: bundles count
 * complete sets, and a source-store listing gets its location's share of the item's quantity.
 * Used by the ledger services after every event and when listings are republished.
 */
import { allocateAcrossLocations } from "./allocation";
import { ats } from "./availability";
import { resolvePolicy, publishedQuantity } from "./buffers";
import { listingAvailability, type Component } from "./bundles";
import type { BufferRule, LevelFacts } from "./types";

export type PublishListing = {
  id: string;
  connectionId: string;
  sku: string | null;
  /** Set for source-store listings: one per (physical item, source location). */
  sourceLocationId: string | null;
  components: Component[];
};

export type PublishLevel = LevelFacts & { itemId: string; locationId: string; isPrimary?: boolean };

/** Item-level ATS over the source locations. */
export function atsByItem(levels: readonly PublishLevel[]): Map<string, number> {
  const result = new Map<string, number>();
  for (const level of levels)
    result.set(level.itemId, (result.get(level.itemId) ?? 0) + ats(level));
  return result;
}

/**
 * The published quantity of every listing:
 * - provisional holds lower the item's availability first (see `holds`);
 * - a channel listing shows its buffered availability (bundles: complete sets);
 * - the source store sells the same pool from its locations, so its item-level published
 *   quantity is split over the locations, never more at a location than that location has.
 */
export function computePublished(
  listings: readonly PublishListing[],
  levels: readonly PublishLevel[],
  rules: readonly BufferRule[],
  /**
   * Provisional holds per item: units a channel's own drop shows sold before its order reached
   * the ledger. They lower what every listing publishes, never the ledger itself.
   */
  holds: ReadonlyMap<string, number> = new Map(),
): Map<string, number> {
  const itemAts = atsByItem(levels);
  for (const [itemId, units] of holds) {
    if (units > 0 && itemAts.has(itemId)) itemAts.set(itemId, itemAts.get(itemId)! - units);
  }
  const result = new Map<string, number>();
  const sourceShares = new Map<string, Map<string, number>>();

  for (const listing of listings) {
    const available = listingAvailability(listing.components, itemAts);
    const policy = resolvePolicy(rules, {
      connectionId: listing.connectionId,
      sku: listing.sku ?? "",
    });
    const published = publishedQuantity(available, policy);
    const component = listing.components[0];
    if (
      listing.sourceLocationId === null ||
      listing.components.length !== 1 ||
      !component ||
      component.perUnit !== 1
    ) {
      result.set(listing.id, published);
      continue;
    }
    const shareKey = `${listing.connectionId}|${component.itemId}`;
    let shares = sourceShares.get(shareKey);
    if (!shares) {
      const locations = levels
        .filter((l) => l.itemId === component.itemId)
        .map((l) => ({ locationId: l.locationId, ats: ats(l), isPrimary: l.isPrimary }));
      shares = allocateAcrossLocations(published, locations);
      sourceShares.set(shareKey, shares);
    }
    result.set(listing.id, shares.get(listing.sourceLocationId) ?? 0);
  }
  return result;
}

/**
 * Recomputes the published quantity of listings outside any event: after a catalog import,
 * a buffer-rule change, a listing remap. Works in chunks, each under the same item locks the
 * apply path takes, so a concurrent sale can never be overwritten by a stale computation.
 */
import { computePublished } from "../../domain/publish";
import * as holds from "../../repositories/holds.server";
import * as ledger from "../../repositories/ledger.server";
import { transaction } from "../../repositories/tx.server";

/** Returns the connections that have listings to push. */
export async function republishListings(
  shopId: string,
  listingIds: string[],
  force = false,
): Promise<Set<string>> {
  const connections = new Set<string>();
  for (let i = 0; i < listingIds.length; i += 200) {
    const chunk = listingIds.slice(i, i + 200);
    await transaction(async (tx) => {
      const shop = await ledger.shopState(tx, shopId);
      if (!shop) return;
      const componentRows = await ledger.componentsOf(tx, chunk);
      const itemIds = [...new Set(componentRows.map((c) => c.itemId))];
      const locked = await ledger.lockItemsWithBundlePartners(tx, shopId, itemIds);
      const levels = await ledger.loadLevels(tx, [...locked.keys()]);
      const listings = await ledger.listingsToPublish(tx, shopId, chunk);
      const published = computePublished(
        listings.map((l) => ({
          ...l,
          components: componentRows
            .filter((c) => c.listingId === l.id)
            .map((c) => ({ itemId: c.itemId, perUnit: c.quantity })),
        })),
        levels,
        shop.rules,
        await holds.holdsByItem(tx, [...locked.keys()]),
      );
      const marked = await ledger.markListingsChanged(tx, {
        listings: listings.map((l) => ({ id: l.id, published: published.get(l.id) ?? 0, force })),
        receiptId: null,
        since: new Date(),
      });
      for (const l of listings) if (marked.has(l.id)) connections.add(l.connectionId);
    });
  }
  return connections;
}

export async function republishShop(shopId: string): Promise<Set<string>> {
  return republishListings(shopId, await ledger.activeListingIds(shopId));
}

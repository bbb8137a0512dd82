import { computePublished } from "../../domain/publish";
import { sql, transaction } from "../../lib/sql.server";
import * as repo from "../../repositories/ledger.server";

/**
 * Recomputes the published quantity of listings outside any event: after a catalog import,
 * a buffer-rule change, a listing remap. Works in chunks, each under the same item locks the
 * apply path takes, so a concurrent sale can never be overwritten by a stale computation.
 * Returns the connections that have listings to push.
 */
export async function republishListings(
  shopId: string,
  listingIds: string[],
  force = false,
): Promise<Set<string>> {
  const connections = new Set<string>();
  for (let i = 0; i < listingIds.length; i += 200) {
    const chunk = listingIds.slice(i, i + 200);
    await transaction(async (tx) => {
      const shop = await repo.shopState(tx, shopId);
      if (!shop) return;
      const componentRows = await tx.query<repo.ComponentRow>(sql`
        SELECT listing_id AS "listingId", item_id AS "itemId", quantity FROM listing_component
         WHERE listing_id = ANY(${chunk}::uuid[])`);
      const itemIds = [...new Set(componentRows.map((c) => c.itemId))];
      const locked = await repo.lockItemsWithBundlePartners(tx, shopId, itemIds);
      const levels = await repo.loadLevels(tx, [...locked.keys()]);
      const listings = await tx.query<{
        id: string;
        connectionId: string;
        sku: string | null;
        sourceLocationId: string | null;
      }>(sql`
        SELECT id, connection_id AS "connectionId", sku, source_location_id AS "sourceLocationId"
          FROM listing WHERE id = ANY(${chunk}::uuid[]) AND shop_id = ${shopId}::uuid`);
      const published = computePublished(
        listings.map((l) => ({
          ...l,
          components: componentRows
            .filter((c) => c.listingId === l.id)
            .map((c) => ({ itemId: c.itemId, perUnit: c.quantity })),
        })),
        levels,
        shop.rules,
      );
      const marked = await repo.markListingsChanged(tx, {
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
  const { db } = await import("../../lib/sql.server");
  const rows = await db().query<{ id: string }>(
    sql`SELECT id FROM listing WHERE shop_id = ${shopId}::uuid AND status = 'active'`,
  );
  return republishListings(
    shopId,
    rows.map((r) => r.id),
  );
}

/**
 * Risk checks, the reads: listings whose channel keeps selling at zero or does not track
 * inventory, open catalog issues (empty, duplicate, unmatched SKUs), and items a channel sold
 * where the shop has no listing of them on that channel; plus recording a policy fixed from the
 * risk page.
 */
import type { RiskCatalogIssue, RiskListing, SoldWithoutListing } from "../domain/risk";
import { db, sql } from "../lib/sql.server";

/** Listings flagged by the catalog (untracked or CONTINUE), one row per listing. */
export async function riskyListings(shopId: string): Promise<RiskListing[]> {
  return db().query(sql`
    SELECT l.id AS "listingId", c.id AS "connectionId", c.name AS "connectionName", c.kind::text AS channel,
           c.account_ref AS "accountRef", l.sku, l.title, l.remote_ref AS "remoteRef",
           l.remote_variant_ref AS "remoteVariantRef", l.remote_product_ref AS "remoteProductRef",
           l.tracked, l.sells_when_out_of_stock AS "sellsWhenOutOfStock"
      FROM listing l JOIN connection c ON c.id = l.connection_id
     WHERE l.shop_id = ${shopId}::uuid AND l.status <> 'disabled' AND c.status <> 'disconnected'
       AND (l.tracked = false OR l.sells_when_out_of_stock = true)
     ORDER BY c.name, l.sku, l.remote_location_ref`);
}

/** Open catalog issues of the kinds risk checks report. */
export async function openCatalogIssues(shopId: string): Promise<RiskCatalogIssue[]> {
  return db().query(sql`
    SELECT c.id AS "connectionId", c.name AS "connectionName", c.kind::text AS channel,
           c.account_ref AS "accountRef", i.kind, i.sku, i.remote_refs AS "remoteRefs", i.details
      FROM catalog_issue i JOIN connection c ON c.id = i.connection_id
     WHERE i.shop_id = ${shopId}::uuid AND i.resolved_at IS NULL AND c.status <> 'disconnected'
       AND i.kind IN ('empty_sku', 'duplicate_sku', 'unmatched_sku')
     ORDER BY c.name, i.kind, i.sku`);
}

/**
 * Items a connection sold in the last `days` days with no listing of that item on that
 * connection (its quantity there is never written).
 */
export async function soldWithoutListing(
  shopId: string,
  days: number,
): Promise<SoldWithoutListing[]> {
  return db().query(sql`
    SELECT c.id AS "connectionId", c.name AS "connectionName", c.kind::text AS channel, o.item_id AS "itemId",
           i.sku, count(DISTINCT o.order_id)::int AS orders, sum(o.ordered)::int AS units
      FROM order_line o
      JOIN connection c ON c.id = o.connection_id
      JOIN stock_item i ON i.id = o.item_id
     WHERE o.shop_id = ${shopId}::uuid AND c.status <> 'disconnected'
       AND o.created_at > now() - make_interval(days => ${days})
       AND NOT EXISTS (SELECT 1 FROM listing l JOIN listing_component lc ON lc.listing_id = l.id
                        WHERE l.connection_id = o.connection_id AND lc.item_id = o.item_id AND l.status <> 'disabled')
     GROUP BY c.id, o.item_id, i.sku
     ORDER BY c.name, i.sku`);
}

/** The variant and product refs of a connection's listings of one variant (null: not ours). */
export async function variantOfConnection(
  shopId: string,
  connectionId: string,
  variantRef: string,
): Promise<{ productRef: string | null; sellsWhenOutOfStock: boolean | null } | null> {
  const rows = await db().query<{
    productRef: string | null;
    sellsWhenOutOfStock: boolean | null;
  }>(sql`
    SELECT l.remote_product_ref AS "productRef", l.sells_when_out_of_stock AS "sellsWhenOutOfStock"
      FROM listing l
     WHERE l.shop_id = ${shopId}::uuid AND l.connection_id = ${connectionId}::uuid
       AND l.remote_variant_ref = ${variantRef}
     LIMIT 1`);
  return rows[0] ?? null;
}

/** The channel now refuses sales at zero for these variants (until its catalog says otherwise). */
export async function markStopsAtZero(connectionId: string, variantRefs: string[]): Promise<void> {
  if (variantRefs.length === 0) return;
  await db().execute(sql`
    UPDATE listing SET sells_when_out_of_stock = false
     WHERE connection_id = ${connectionId}::uuid AND remote_variant_ref = ANY(${variantRefs}::text[])`);
}

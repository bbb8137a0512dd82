/**
 * Read model of the admin product block (extensions/stockguard-product-block): for the variants
 * of one product at the shop's source store, the StockGuard items behind them, their balances,
 * every channel listing of those items (what StockGuard publishes, what the channel last showed,
 * the last write), the buffer rules that can apply, and the open (confirmed, unresolved) incidents.
 */
import type { BufferRule, LevelFacts } from "../domain/types";
import { db, sql } from "../lib/sql.server";

export type BlockItem = { variantRef: string; itemId: string; sku: string; title: string | null };

export async function itemsOfSourceVariants(
  shopId: string,
  variantRefs: string[],
): Promise<BlockItem[]> {
  if (variantRefs.length === 0) return [];
  return db().query<BlockItem>(sql`
    SELECT DISTINCT ON (l.remote_variant_ref)
           l.remote_variant_ref AS "variantRef", lc.item_id AS "itemId", si.sku,
           COALESCE(l.title, si.title) AS title
      FROM listing l
      JOIN connection c ON c.id = l.connection_id AND c.role = 'source'
      JOIN listing_component lc ON lc.listing_id = l.id
      JOIN stock_item si ON si.id = lc.item_id
     WHERE l.shop_id = ${shopId}::uuid AND l.remote_variant_ref = ANY(${variantRefs}::text[])
     ORDER BY l.remote_variant_ref, l.created_at`);
}

export async function itemBalances(
  itemIds: string[],
): Promise<(LevelFacts & { itemId: string })[]> {
  if (itemIds.length === 0) return [];
  return db().query(sql`
    SELECT item_id AS "itemId", sum(on_hand)::int AS "onHand", sum(committed)::int AS committed,
           sum(held)::int AS held, sum(damaged)::int AS damaged, sum(safety_stock)::int AS "safetyStock"
      FROM stock_level WHERE item_id = ANY(${itemIds}::uuid[]) GROUP BY item_id`);
}

export type BlockListing = {
  itemId: string;
  connectionId: string;
  channel: string;
  kind: string;
  role: "source" | "sales";
  connectionStatus: string;
  sku: string | null;
  published: number;
  remote: number | null;
  remoteObservedAt: Date | null;
  lastPushedAt: Date | null;
  pending: boolean;
  components: number;
};

export async function listingsOfItems(shopId: string, itemIds: string[]): Promise<BlockListing[]> {
  if (itemIds.length === 0) return [];
  return db().query<BlockListing>(sql`
    SELECT lc.item_id AS "itemId", c.id AS "connectionId", c.name AS channel, c.kind::text AS kind,
           c.role::text AS role, c.status::text AS "connectionStatus", l.sku,
           l.published_quantity AS published, l.remote_quantity AS remote,
           l.remote_observed_at AS "remoteObservedAt", l.last_pushed_at AS "lastPushedAt",
           l.published_version > l.pushed_version AS pending,
           (SELECT count(*)::int FROM listing_component x WHERE x.listing_id = l.id) AS components
      FROM listing l
      JOIN listing_component lc ON lc.listing_id = l.id
      JOIN connection c ON c.id = l.connection_id
     WHERE l.shop_id = ${shopId}::uuid AND lc.item_id = ANY(${itemIds}::uuid[])
       AND l.status = 'active' AND c.status <> 'disconnected'
     ORDER BY c.role, c.name, l.remote_location_ref`);
}

export async function rulesForSkus(shopId: string, skus: string[]): Promise<BufferRule[]> {
  return db().query<BufferRule>(sql`
    SELECT id, connection_id AS "connectionId", sku, kind::text AS kind, value
      FROM buffer_rule
     WHERE shop_id = ${shopId}::uuid AND (sku IS NULL OR sku = ANY(${skus}::text[]))`);
}

export async function openIncidentCounts(
  itemIds: string[],
): Promise<{ itemId: string; open: number }[]> {
  if (itemIds.length === 0) return [];
  return db().query(sql`
    SELECT item_id AS "itemId", count(*)::int AS open
      FROM oversell_incident
     WHERE item_id = ANY(${itemIds}::uuid[]) AND status = 'confirmed' AND resolved_at IS NULL
     GROUP BY item_id`);
}

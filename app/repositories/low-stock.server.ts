/**
 * Low-stock episodes (Flow trigger "Stock ran low across channels"): the figures the domain
 * decides on — per item of an active shop, available to sell over every location and units sold
 * on every channel since a time (opening balances excluded) — and the episode rows themselves,
 * one per item while it is low (an insert that finds one records nothing).
 */
import { db, sql } from "../lib/sql.server";

export type LowStockRow = {
  itemId: string;
  shopId: string;
  sku: string;
  ats: number;
  unitsSold: number;
  wasLow: boolean;
};

/** Items that sold since `since`, or are in a low episode now. */
export async function lowStockCandidates(
  since: Date,
  openingOrderId: string,
): Promise<LowStockRow[]> {
  return db().query<LowStockRow>(sql`
    WITH sold AS (
      SELECT o.item_id,
             sum(CASE WHEN o.cancelled_all THEN 0 ELSE GREATEST(o.ordered - o.cancelled, 0) END * o.per_unit)::int AS units
        FROM order_line o
       WHERE o.created_at >= ${since}::timestamptz AND o.order_id <> ${openingOrderId}
       GROUP BY o.item_id
    ), wanted AS (
      SELECT item_id FROM sold UNION SELECT item_id FROM low_stock_state
    )
    SELECT i.id AS "itemId", i.shop_id AS "shopId", i.sku,
           COALESCE((SELECT sum(s.on_hand - s.committed - s.held - s.damaged - s.safety_stock)::int
                       FROM stock_level s WHERE s.item_id = i.id), 0) AS ats,
           COALESCE(sold.units, 0) AS "unitsSold",
           (ls.item_id IS NOT NULL) AS "wasLow"
      FROM wanted w
      JOIN stock_item i ON i.id = w.item_id
      JOIN shop sh ON sh.id = i.shop_id AND sh.status = 'active'
      LEFT JOIN sold ON sold.item_id = i.id
      LEFT JOIN low_stock_state ls ON ls.item_id = i.id`);
}

/** Starts the item's episode; false when one was already running (another worker started it). */
export async function startLowStockEpisode(input: {
  itemId: string;
  shopId: string;
  episode: string;
}): Promise<boolean> {
  const rows = await db().query<{ itemId: string }>(sql`
    INSERT INTO low_stock_state (item_id, shop_id, episode)
    VALUES (${input.itemId}::uuid, ${input.shopId}::uuid, ${input.episode})
    ON CONFLICT (item_id) DO NOTHING
    RETURNING item_id AS "itemId"`);
  return rows.length > 0;
}

export async function endLowStockEpisodes(itemIds: string[]): Promise<void> {
  if (itemIds.length === 0) return;
  await db().execute(sql`DELETE FROM low_stock_state WHERE item_id = ANY(${itemIds}::uuid[])`);
}

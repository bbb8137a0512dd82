/**
 * The Unmatched lines page's read model: order lines no listing or SKU matched (open ones, most
 * recently seen first) with their channel, and the stock items the merchant can map one to,
 * searched by SKU or title.
 */
import { db, sql } from "../../lib/sql.server";

export type UnmatchedLineRow = {
  id: bigint;
  connectionId: string;
  connectionName: string;
  kind: string;
  orderId: string;
  lineId: string;
  sku: string | null;
  remoteRef: string | null;
  quantity: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
};

export async function listOpenUnmatched(input: {
  shopId: string;
  limit: number;
}): Promise<UnmatchedLineRow[]> {
  return db().query<UnmatchedLineRow>(sql`
    SELECT u.id, u.connection_id AS "connectionId", c.name AS "connectionName", c.kind::text AS kind,
           u.order_id AS "orderId", u.line_id AS "lineId", u.sku, u.remote_ref AS "remoteRef", u.quantity,
           u.first_seen_at AS "firstSeenAt", u.last_seen_at AS "lastSeenAt"
      FROM unmatched_line u JOIN connection c ON c.id = u.connection_id
     WHERE u.shop_id = ${input.shopId}::uuid AND u.resolved_at IS NULL
     ORDER BY u.last_seen_at DESC, u.id DESC
     LIMIT ${input.limit}`);
}

export async function countOpenUnmatched(input: { shopId: string }): Promise<number> {
  const [row] = await db().query<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM unmatched_line
     WHERE shop_id = ${input.shopId}::uuid AND resolved_at IS NULL`);
  return row?.n ?? 0;
}

export type ItemChoiceRow = { id: string; sku: string; title: string | null };

/**
 * Stock items of the shop whose SKU or title contains `query` (case-insensitive; `%` and `_`
 * match themselves), SKUs starting with it first; every item in SKU order when it is empty.
 */
export async function searchItems(input: {
  shopId: string;
  query: string;
  limit: number;
}): Promise<ItemChoiceRow[]> {
  const pattern = `%${input.query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const prefix = `${input.query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return db().query<ItemChoiceRow>(sql`
    SELECT id, sku, title FROM stock_item
     WHERE shop_id = ${input.shopId}::uuid
       AND (sku ILIKE ${pattern} OR title ILIKE ${pattern})
     ORDER BY (sku ILIKE ${prefix}) DESC, sku
     LIMIT ${input.limit}`);
}

export async function findItem(input: {
  shopId: string;
  itemId: string;
}): Promise<ItemChoiceRow | null> {
  const rows = await db().query<ItemChoiceRow>(sql`
    SELECT id, sku, title FROM stock_item WHERE shop_id = ${input.shopId}::uuid AND id = ${input.itemId}::uuid`);
  return rows[0] ?? null;
}

/**
 * Provisional holds (app/domain/operations.ts `HoldOperation`): per listing, units its channel's
 * own drop showed sold before the order reached the ledger. Written and read inside the ledger
 * transaction, under the items' locks, like the balances they lower.
 */
import { db, sql } from "../lib/sql.server";
import type { Tx } from "./tx.server";

/**
 * Adds `units` to a listing's hold (the expiry moves with the latest drop) and, in the same
 * statement, records that the channel shows `shown` (unless a newer observation is recorded):
 * a second report of the same drop (the level update and a compare-and-set read, racing) then
 * finds the drop already seen under the same locks instead of holding its units twice — a
 * double hold outlived the order that consumed one of them and kept every other channel a unit
 * low until it expired (PUSH_SETTLE_MS).
 */
export async function addHold(
  tx: Tx,
  input: {
    listingId: string;
    shopId: string;
    connectionId: string;
    units: number;
    shown: number;
    observedAt: string;
    expiresAt: string;
  },
): Promise<void> {
  await tx.execute(sql`
    WITH shown AS (
      UPDATE listing SET remote_quantity = ${input.shown}, remote_observed_at = ${input.observedAt}::timestamptz,
                         updated_at = now()
       WHERE id = ${input.listingId}::uuid
         AND (remote_observed_at IS NULL OR remote_observed_at <= ${input.observedAt}::timestamptz)
    )
    INSERT INTO provisional_hold (listing_id, shop_id, connection_id, units, observed_at, expires_at)
    VALUES (${input.listingId}::uuid, ${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.units},
            ${input.observedAt}::timestamptz, ${input.expiresAt}::timestamptz)
    ON CONFLICT (listing_id) DO UPDATE
      SET units = provisional_hold.units + EXCLUDED.units, observed_at = EXCLUDED.observed_at,
          expires_at = GREATEST(provisional_hold.expires_at, EXCLUDED.expires_at)`);
}

/** Uses up to `units` of a listing's hold (its order arrived); returns how many were held. */
export async function consumeHold(tx: Tx, listingId: string, units: number): Promise<number> {
  if (units <= 0) return 0;
  // One statement: the hold is used up (deleted) or reduced, whichever its size calls for.
  // Holds change only under their items' locks, which the caller holds.
  const [used] = await tx.query<{ units: number }>(sql`
    WITH gone AS (
      DELETE FROM provisional_hold WHERE listing_id = ${listingId}::uuid AND units <= ${units}
      RETURNING units
    ), less AS (
      UPDATE provisional_hold SET units = units - ${units}
       WHERE listing_id = ${listingId}::uuid AND units > ${units}
      RETURNING ${units}::int AS units
    )
    SELECT COALESCE((SELECT units FROM gone), (SELECT units FROM less), 0)::int AS units`);
  return used?.units ?? 0;
}

/** Releases a listing's hold if it is (still) expired at `now`. */
export async function releaseExpiredHold(tx: Tx, listingId: string, now: string): Promise<boolean> {
  const n = await tx.execute(sql`
    DELETE FROM provisional_hold WHERE listing_id = ${listingId}::uuid AND expires_at <= ${now}::timestamptz`);
  return n > 0;
}

/** Held units per item (a hold on a bundle holds each component × its quantity). */
export async function holdsByItem(tx: Tx, itemIds: string[]): Promise<Map<string, number>> {
  if (itemIds.length === 0) return new Map();
  const rows = await tx.query<{ itemId: string; units: number }>(sql`
    SELECT c.item_id AS "itemId", sum(h.units * c.quantity)::int AS units
      FROM provisional_hold h JOIN listing_component c ON c.listing_id = h.listing_id
     WHERE c.item_id = ANY(${itemIds}::uuid[])
     GROUP BY c.item_id`);
  return new Map(rows.map((r) => [r.itemId, r.units]));
}

/** Holds expired by `now`, by shop (the sweeper releases them). */
export async function expiredHolds(
  now: Date,
  limit: number,
): Promise<{ listingId: string; shopId: string }[]> {
  return db().query(sql`
    SELECT h.listing_id AS "listingId", h.shop_id AS "shopId"
      FROM provisional_hold h JOIN shop s ON s.id = h.shop_id AND s.status = 'active'
     WHERE h.expires_at <= ${now}::timestamptz ORDER BY h.expires_at LIMIT ${limit}`);
}

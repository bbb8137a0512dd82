/**
 * Merchant decisions: an admin change (on hand adjustment, safety stock) that left less available
 * than the channels already sold, recorded inside the ledger event that applied it, in place of
 * an oversell incident. Read back per item by the admin's item page.
 */
import { sql } from "../lib/sql.server";
import type { Tx } from "./tx.server";

export async function insertMerchantDecision(
  tx: Tx,
  input: {
    shopId: string;
    itemId: string;
    sku: string;
    movementId: bigint;
    kind: string;
    actor: string;
    reason: string | null;
    shortfall: number;
    atsBefore: number;
    atsAfter: number;
  },
): Promise<bigint> {
  const rows = await tx.query<{ id: bigint }>(sql`
    INSERT INTO merchant_decision (shop_id, item_id, sku, movement_id, kind, actor, reason,
                                   shortfall, ats_before, ats_after)
    VALUES (${input.shopId}::uuid, ${input.itemId}::uuid, ${input.sku}, ${input.movementId},
            ${input.kind}, ${input.actor}, ${input.reason}, ${input.shortfall},
            ${input.atsBefore}, ${input.atsAfter})
    RETURNING id`);
  return rows[0]!.id;
}

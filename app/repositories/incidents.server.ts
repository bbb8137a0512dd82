/**
 * Oversell incidents: a shortfall recorded with the movement that caused it, the listings' state
 * at that moment (what each channel showed, when it was last written) and its root cause.
 */
import { sql } from "../lib/sql.server";
import type { Tx } from "./tx.server";

export async function insertIncident(
  tx: Tx,
  input: {
    shopId: string;
    itemId: string;
    sku: string;
    connectionId: string | null;
    orderRef: string | null;
    lineRef: string | null;
    movementId: bigint;
    receiptId: bigint | null;
    shortfall: number;
    atsBefore: number;
    atsAfter: number;
    snapshot: unknown;
    rootCause: string;
  },
): Promise<bigint> {
  const rows = await tx.query<{ id: bigint }>(sql`
    INSERT INTO oversell_incident (shop_id, item_id, sku, connection_id, order_ref, line_ref, movement_id,
                                   receipt_id, shortfall, ats_before, ats_after, snapshot, root_cause)
    VALUES (${input.shopId}::uuid, ${input.itemId}::uuid, ${input.sku}, ${input.connectionId}::uuid,
            ${input.orderRef}, ${input.lineRef}, ${input.movementId}, ${input.receiptId}, ${input.shortfall},
            ${input.atsBefore}, ${input.atsAfter}, ${JSON.stringify(input.snapshot)}::jsonb, ${input.rootCause})
    RETURNING id`);
  return rows[0]!.id;
}

import { isLastWriterWins } from "../../domain/ledger";
import { sql, transaction } from "../../lib/sql.server";
import type { LineOperation } from "../ledger/apply-event.server";

/**
 * Fast path for the most common delivery: an order snapshot that changes nothing (Shopify sends
 * orders/updated right after orders/create, and again for every payment or tag change). When
 * every line already has that quantity and every refund and fulfillment it lists is already a
 * movement, applying it would only record the newer version: do just that, in one statement,
 * without locking items. Returns false (take the full path) whenever in doubt: a line of a
 * bundle, an unknown line, a missing movement, or a concurrent change.
 */
export async function applyIfNoOp(input: {
  shopId: string;
  connectionId: string;
  receiptId: bigint;
  operations: LineOperation[];
}): Promise<boolean> {
  const ops = input.operations;
  if (ops.length === 0) return false;
  const orderId = ops[0]!.orderId;
  if (ops.some((o) => o.orderId !== orderId || o.connectionId !== input.connectionId)) return false;
  const lww = ops.filter((o) => isLastWriterWins(o.command));
  const keyed = ops.filter((o) => !isLastWriterWins(o.command));
  const versions = new Set(lww.map((o) => ("version" in o.command ? o.command.version : "")));
  if (versions.size > 1) return false;
  const version = [...versions][0] ?? null;

  return transaction(async (tx) => {
    const lines = await tx.query<{
      lineId: string;
      ordered: number;
      perUnit: number;
      orderedVersion: string | null;
      n: number;
    }>(sql`
      SELECT line_id AS "lineId", min(ordered) AS ordered, min(per_unit) AS "perUnit",
             min(ordered_version) AS "orderedVersion", count(*)::int AS n
        FROM order_line WHERE connection_id = ${input.connectionId}::uuid AND order_id = ${orderId}
       GROUP BY line_id`);
    for (const op of lww) {
      const line = lines.find((l) => l.lineId === op.lineId);
      const quantity = "quantity" in op.command ? op.command.quantity : -1;
      if (!line || line.n !== 1 || line.ordered !== quantity * line.perUnit) return false;
    }
    if (keyed.length > 0) {
      if (keyed.some((o) => (lines.find((l) => l.lineId === o.lineId)?.n ?? 0) !== 1)) return false;
      const found = await tx.query<{ n: number }>(sql`
        SELECT count(*)::int AS n FROM movement
         WHERE shop_id = ${input.shopId}::uuid AND idempotency_key = ANY(${keyed.map((o) => o.key)}::text[])`);
      if ((found[0]?.n ?? 0) !== keyed.length) return false;
    }
    await tx.execute(sql`
      WITH bump AS (
        UPDATE order_line SET ordered_version = ${version}, updated_at = now()
         WHERE connection_id = ${input.connectionId}::uuid AND order_id = ${orderId}
           AND ${version}::text IS NOT NULL AND line_id = ANY(${lww.map((o) => o.lineId)}::text[])
           AND (ordered_version IS NULL OR ordered_version < ${version})
        RETURNING 1
      )
      UPDATE receipt SET status = 'applied', applied_at = now(), attempts = attempts + 1
       WHERE id = ${input.receiptId}::bigint AND status = 'pending'`);
    return true;
  });
}

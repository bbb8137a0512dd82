/**
 * Fast path for the most common delivery: an order snapshot that changes nothing (Shopify sends
 * orders/updated right after orders/create, and again for every payment or tag change). When
 * every line already has that quantity and every refund and fulfillment it lists is already a
 * movement, applying it would only record the newer version: do just that, without locking
 * items. Returns false (take the full path) whenever in doubt: a line of a bundle, an unknown
 * line, a missing movement, or a concurrent change.
 *
 * Runs inside the event's transaction after its order lock (`ledger.lockOrders`): a delivery of
 * the same order being applied concurrently has committed by then, so the one that arrives
 * second finds its lines and ends here.
 */
import { isLastWriterWins } from "../../domain/ledger";
import type { LineOperation } from "../../domain/operations";
import * as ledger from "../../repositories/ledger.server";
import { markReceiptApplied } from "../../repositories/receipts.server";
import type { Tx } from "../../repositories/tx.server";

export async function applyIfNoOp(
  tx: Tx,
  input: {
    shopId: string;
    connectionId: string;
    receiptId: bigint;
    operations: LineOperation[];
  },
): Promise<boolean> {
  const ops = input.operations;
  if (ops.length === 0) return false;
  const orderId = ops[0]!.orderId;
  if (ops.some((o) => o.orderId !== orderId || o.connectionId !== input.connectionId)) return false;
  const lww = ops.filter((o) => isLastWriterWins(o.command));
  const keyed = ops.filter((o) => !isLastWriterWins(o.command));
  const versions = new Set(lww.map((o) => ("version" in o.command ? o.command.version : "")));
  if (versions.size > 1) return false;
  const version = [...versions][0] ?? null;

  const lines = await ledger.orderLineSummary(tx, input.connectionId, orderId);
  for (const op of lww) {
    const line = lines.find((l) => l.lineId === op.lineId);
    const quantity = "quantity" in op.command ? op.command.quantity : -1;
    if (!line || line.n !== 1 || line.ordered !== quantity * line.perUnit) return false;
  }
  if (keyed.length > 0) {
    if (keyed.some((o) => (lines.find((l) => l.lineId === o.lineId)?.n ?? 0) !== 1)) return false;
    const found = await ledger.countMovements(
      tx,
      input.shopId,
      keyed.map((o) => o.key),
    );
    if (found !== keyed.length) return false;
  }
  await ledger.bumpOrderVersion(tx, {
    connectionId: input.connectionId,
    orderId,
    lineIds: lww.map((o) => o.lineId),
    version,
  });
  await markReceiptApplied(tx, input.receiptId);
  return true;
}

/**
 * The most common delivery changes nothing: an order snapshot whose lines StockGuard already
 * holds at those quantities (Shopify sends orders/updated right after orders/create, and again
 * for every payment or tag change). Applying it would only record the newer version; this does
 * just that in one statement (`ledger.settleUnchangedOrder`), without locking items. False (take
 * the full path) whenever in doubt: a line of a bundle, an unknown line, a missing movement.
 *
 * Two places settle such snapshots:
 * - the web's edge (`settleUnchangedDelivery`), before anything is stored: the delivery is
 *   answered 200 with no receipt, no queue and no transaction: one statement instead of the
 *   seven a stored one costs (decision 0017). A redelivery is settled again, harmlessly;
 * - the ingest of a stored receipt, inside the event's transaction after its order lock
 *   (`applyIfNoOp`): a delivery of the same order being applied concurrently has committed by
 *   then, so the one that arrives second finds its lines and ends here.
 */
import { unchangedClaim, type LedgerOperation, type LineOperation } from "../../domain/operations";
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
  // A creation (every line "placed") almost never finds its lines already there: not asked.
  if (input.operations.every((o) => o.command.kind === "placed")) return false;
  const claim = unchangedClaim(input.operations, input.connectionId);
  if (!claim) return false;
  const settled = await ledger.settleUnchangedOrder(
    { shopId: input.shopId, connectionId: input.connectionId, ...claim },
    tx,
  );
  if (settled) await markReceiptApplied(tx, input.receiptId);
  return settled;
}

/**
 * A checked order delivery for one connection, settled before it is stored when it changes
 * nothing. Outside a transaction: the statement row-locks the order's lines itself, and lines an
 * apply has not committed yet make the claim fail (the delivery is then stored as usual).
 */
export async function settleUnchangedDelivery(
  target: { shopId: string; connectionId: string },
  operations: LedgerOperation[],
): Promise<boolean> {
  const claim = unchangedClaim(operations, target.connectionId);
  if (!claim) return false;
  return ledger.settleUnchangedOrder({ ...target, ...claim });
}

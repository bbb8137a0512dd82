/**
 * What a ledger event is made of: channel-neutral operations on order lines and on stock items,
 * each with the idempotency key derived from the external event. Channel adapters translate
 * deliveries into these; the apply service records them exactly once.
 */
import { isLastWriterWins, type ItemCommand, type LineCommand } from "./ledger";

/** One effect on one order line (per channel order line, not per component). */
export type LineOperation = {
  type: "line";
  /** Unique per effect, derived from the external event (channel, order, line, kind, ...). */
  key: string;
  connectionId: string;
  orderId: string;
  lineId: string;
  /** The channel's SKU, as sent (normalised by the apply service). */
  sku: string | null;
  /** The channel's id of what was sold (variant / inventory item gid, seller SKU). */
  remoteRef?: string | null;
  command: LineCommand;
};

/** An effect on a stock item at a location (inspection, count, manual adjustment, ...). */
export type ItemOperation = {
  type: "item";
  key: string;
  itemId?: string;
  sku?: string;
  /** Hub location id; defaults to the primary source location. */
  locationId?: string;
  connectionId?: string | null;
  command: ItemCommand;
};

/**
 * A provisional hold on a listing (not a ledger fact): a channel's own drop shows `units` more
 * sold than the ledger knows, or the hold is released because nothing explained it in time.
 */
export type HoldOperation = {
  type: "hold";
  /** Unique within the event (holds are not movements: no idempotency across events). */
  key: string;
  listingId: string;
  change:
    | {
        kind: "add";
        units: number;
        /** What the channel showed: the hold never exceeds published − shown under the lock. */
        shown: number;
        observedAt: string;
        expiresAt: string;
        /**
         * Seen by the read a listing was owed, while StockGuard's model of the channel equalled
         * what the listing publishes: the read settles the doubt, so the drop is held even though
         * the listing is still flagged (apply-holds).
         */
        settlesRead?: boolean;
        /**
         * Revealed by the answer of a change sent at `sentAt` from `expected` to `intended`
         * (push-sales): a level update the change itself caused may have been applied first,
         * measured against the model from before the change (apply-holds).
         */
        answerOf?: { expected: number; intended: number; sentAt: string };
      }
    | { kind: "release"; expiredBy: string };
};

export type LedgerOperation = LineOperation | ItemOperation | HoldOperation;

export type LedgerEvent = {
  shopId: string;
  receiptId?: bigint | null;
  /** Who or what caused it: `shopify:orders/create`, `user:ops@shop.com`, `reconcile`. */
  actor: string;
  reason?: string | null;
  /** When the event reached us (start of the sync-latency clock). */
  receivedAt?: Date;
  operations: LedgerOperation[];
  /** Mark `receiptId` applied in the same transaction (the ingest path). */
  markReceiptApplied?: boolean;
  /**
   * The merchant's own change in the admin, previewed and confirmed (an adjustment, a safety
   * stock): a shortfall it causes is recorded as their decision, never as an oversell incident.
   */
  merchantDecision?: boolean;
};

/** Ledger movement kind of each line command (the `movement.kind` enum). */
export const LINE_MOVEMENT_KIND: Record<LineCommand["kind"], string> = {
  placed: "order_placed",
  edited: "order_edited",
  cancelled_all: "order_cancelled",
  cancelled: "line_cancelled",
  shipped: "shipped",
  returned: "returned",
  refunded_no_restock: "refunded_no_restock",
};

/**
 * What an order snapshot claims about lines StockGuard already holds, for the check that it
 * changes nothing (Shopify sends `orders/updated` right after `orders/create`, and again for every
 * payment or tag change): every last-writer-wins line has exactly this quantity (per stock item:
 * × units per listing), every keyed effect it lists is already a movement, and its lines are
 * plain (one row each, not bundles). Null when the snapshot cannot be such a no-op by its shape:
 * no line operations, several orders or connections, or lines carrying different versions.
 */
export type UnchangedClaim = {
  orderId: string;
  /** Last-writer-wins lines and the quantity the snapshot gives each. */
  lines: { lineId: string; quantity: number }[];
  /** The version the lines take when the claim holds (null: nothing to record). */
  version: string | null;
  /** Idempotency keys of the keyed effects (cancels, shipments, refunds) and their lines. */
  keys: string[];
  keyedLineIds: string[];
};

export function unchangedClaim(
  operations: LedgerOperation[],
  connectionId: string,
): UnchangedClaim | null {
  if (operations.length === 0 || operations.some((op) => op.type !== "line")) return null;
  const ops = operations as LineOperation[];
  const orderId = ops[0]!.orderId;
  if (ops.some((o) => o.orderId !== orderId || o.connectionId !== connectionId)) return null;
  const lines: UnchangedClaim["lines"] = [];
  const versions = new Set<string>();
  const keyed: LineOperation[] = [];
  for (const op of ops) {
    const command = op.command;
    if (isLastWriterWins(command) && "version" in command) {
      lines.push({ lineId: op.lineId, quantity: command.quantity });
      versions.add(command.version);
    } else keyed.push(op);
  }
  if (versions.size > 1) return null;
  return {
    orderId,
    lines,
    version: [...versions][0] ?? null,
    keys: keyed.map((o) => o.key),
    keyedLineIds: keyed.map((o) => o.lineId),
  };
}

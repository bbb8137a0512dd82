/**
 * Step 3 of a ledger event: order-line commands, in the order given. Each line component's
 * commitment row is created (or locked) and moves by the domain's line algebra: last-writer-wins
 * commands (placed, edited) are idempotent by version, the others by their keys.
 */
import { isZeroDelta } from "../../domain/availability";
import {
  applyLineCommand,
  isLastWriterWins,
  scaleLineCommand,
  type LineState,
} from "../../domain/ledger";
import { LINE_MOVEMENT_KIND, type LineOperation } from "../../domain/operations";
import { normalizeSku } from "../../domain/sku";
import * as ledger from "../../repositories/ledger.server";
import { consumeListingHold, followChannelRelease, takeChannelSale } from "./apply-holds.server";
import type { EventContext } from "./event-context.server";
import type { ResolvedComponent } from "./resolve-lines.server";

/** Commands by which a channel's own order gives units back to its storefront. */
const RELEASES = new Set(["edited", "cancelled_all", "cancelled"]);

export async function applyLineOperations(
  ctx: EventContext,
  ops: LineOperation[],
  resolved: Map<LineOperation, ResolvedComponent[]>,
): Promise<void> {
  for (const op of ops) {
    const parts = resolved.get(op);
    if (!parts) continue;
    for (const part of parts) {
      const locationId = part.locationId ?? (await ctx.commitLocation(part.itemId));
      await ctx.level(part.itemId, locationId);
      const row = await ledger.lockOrderLine(ctx.tx, {
        shopId: ctx.shopId,
        connectionId: op.connectionId,
        orderId: op.orderId,
        lineId: op.lineId,
        itemId: part.itemId,
        locationId,
        listingId: part.listingId,
        sku: normalizeSku(op.sku),
        perUnit: part.perUnit,
      });
      const state: LineState = {
        ordered: row.ordered,
        orderedVersion: row.orderedVersion,
        cancelledAll: row.cancelledAll,
        cancelled: row.cancelled,
        shipped: row.shipped,
        returned: row.returned,
      };
      const applied = applyLineCommand(state, scaleLineCommand(op.command, row.perUnit));
      const lww = isLastWriterWins(op.command);
      if (lww && sameLine(state, applied.state)) {
        ctx.result.duplicates++;
        continue;
      }
      if (lww && isZeroDelta(applied.delta)) {
        // A newer version with no effect (e.g. an order update that changed other fields):
        // remember the version, no movement needed. LWW is idempotent without a key.
        await ledger.saveOrderLine(ctx.tx, row.id, applied.state, row.committed);
        if (part === parts[0]) await placedAfterItsRefund(ctx, row, state, applied.state, 0);
        continue;
      }
      const key = parts.length > 1 ? `${op.key}#${part.itemId}` : op.key;
      const inserted = await ctx.record({
        itemId: part.itemId,
        locationId: row.locationId,
        key: lww ? `${key}@${applied.state.orderedVersion}` : key,
        kind: LINE_MOVEMENT_KIND[op.command.kind],
        delta: applied.delta,
        connectionId: op.connectionId,
        orderRef: op.orderId,
        lineRef: op.lineId,
        listingId: row.listingId,
        line: {
          id: row.id,
          state: applied.state,
          committed: row.committed + applied.delta.committed,
        },
      });
      if (!inserted) {
        ctx.result.duplicates++;
        continue;
      }
      // The order explains units its channel's drop had provisionally held: no longer held;
      // the rest were taken off the channel's storefront when sold, which StockGuard follows.
      // Units the line took from the pool: an order's commitment, or a shipment whose order has
      // not arrived yet (on hand leaves with nothing committed) — either explains the drop.
      const taken = applied.delta.committed - applied.delta.onHand;
      if (part === parts[0] && taken > 0 && row.perUnit > 0) {
        const units = Math.floor(taken / row.perUnit);
        // Sold when the order was placed if this is the line's first appearance (an order first
        // seen through a later update carries a later version: taken as the sale time, a sale
        // made before StockGuard's last look at the channel was taken for one after it); an
        // edit that raises a known line sold its units when it was made.
        const version = "version" in op.command ? op.command.version : null;
        const placedAt = "soldAt" in op.command ? (op.command.soldAt ?? null) : null;
        await takeChannelSale(
          ctx,
          row.listingId,
          units,
          state.ordered === 0 && placedAt ? placedAt : version,
        );
      }
      if (part === parts[0] && lww)
        await placedAfterItsRefund(ctx, row, state, applied.state, taken);
      // The channel's own cancel put units back on its storefront: read it before the next write.
      if (part === parts[0] && applied.delta.committed < 0 && RELEASES.has(op.command.kind))
        await followChannelRelease(ctx, row.listingId);
    }
  }
}

/**
 * An order line placed after its refund was applied (the refund's webhook came first): the
 * refunded units never became a commitment, yet placing them took them off the channel's
 * storefront — a drop held meanwhile that the placement explains and nothing else would consume
 * (held until it expired, it hid them on every other store: chaos convergence, 2 units for 15 s).
 * Those units are no longer held; the cancel gave them back, so the channel is read.
 */
async function placedAfterItsRefund(
  ctx: EventContext,
  row: { listingId: string | null; perUnit: number },
  before: LineState,
  after: LineState,
  taken: number,
): Promise<void> {
  if (before.cancelled <= 0 || row.perUnit <= 0) return;
  const placed = after.ordered - before.ordered;
  const refundedFirst = Math.min(Math.max(0, placed - Math.max(0, taken)), before.cancelled);
  const units = Math.floor(refundedFirst / row.perUnit);
  if (units > 0 && (await consumeListingHold(ctx, row.listingId, units)) > 0)
    await followChannelRelease(ctx, row.listingId);
}

function sameLine(a: LineState, b: LineState): boolean {
  return (
    a.ordered === b.ordered &&
    a.orderedVersion === b.orderedVersion &&
    a.cancelledAll === b.cancelledAll &&
    a.cancelled === b.cancelled &&
    a.shipped === b.shipped &&
    a.returned === b.returned
  );
}

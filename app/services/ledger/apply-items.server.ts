/**
 * Item operations of a ledger event (inspection, count, manual adjustment, safety stock): which
 * item each names (step 1, before locking), then their effects (step 4, under the locks).
 */
import { isZeroDelta } from "../../domain/availability";
import { DomainError } from "../../domain/errors";
import { applyItemCommand } from "../../domain/ledger";
import type { ItemOperation } from "../../domain/operations";
import { normalizeSku } from "../../domain/sku";
import * as ledger from "../../repositories/ledger.server";
import type { Tx } from "../../repositories/tx.server";
import { consumeListingHold } from "./apply-holds.server";
import type { EventContext } from "./event-context.server";

/** The item each operation names (by id or SKU, within the shop); an unknown one is an error. */
export async function resolveItems(
  tx: Tx,
  shopId: string,
  ops: ItemOperation[],
): Promise<Map<ItemOperation, string>> {
  const targets = new Map<ItemOperation, string>();
  if (ops.length === 0) return targets;
  const ids = ops.map((o) => o.itemId).filter((x): x is string => Boolean(x));
  const skus = ops.map((o) => normalizeSku(o.sku)).filter((s): s is string => s !== null);
  const found = [
    ...(await ledger.findItemsById(tx, shopId, ids)),
    ...(await ledger.findItemsBySku(tx, shopId, skus)),
  ];
  for (const op of ops) {
    const sku = normalizeSku(op.sku);
    const item = found.find((i) => (op.itemId ? i.id === op.itemId : i.sku === sku));
    if (!item) throw new DomainError("unknown_item", `unknown stock item ${op.itemId ?? op.sku}`);
    targets.set(op, item.id);
  }
  return targets;
}

export async function applyItemOperations(
  ctx: EventContext,
  ops: ItemOperation[],
  targets: Map<ItemOperation, string>,
): Promise<void> {
  for (const op of ops) {
    const itemId = targets.get(op)!;
    const locationId = op.locationId ?? (await ctx.primaryLocation());
    const facts = await ctx.level(itemId, locationId);
    // A count decided against a ledger that has moved since (the source's own shipment applied
    // between the ledger's read and this lock) would put back a unit the store's read had not
    // yet lost, or take one twice: it is not applied, and the reader reads the level again.
    const basis = op.command.kind === "on_hand_counted" ? op.command.basis : undefined;
    if (basis && facts.onHand !== basis.onHand) {
      (ctx.result.staleCounts ??= []).push(op.key);
      continue;
    }
    // A count compares the source's on_hand, read a moment ago, with the ledger now (under the
    // item lock). Changes the ledger made in between (a shipment elsewhere) are still in the
    // outbox, since writes to the source wait for the push lock the reader holds: take the
    // outbox as of now, never as the caller saw it before this lock, or such a change is
    // counted a second time as a physical change (seen in the multi-store test).
    const command =
      op.command.kind === "on_hand_counted"
        ? {
            ...op.command,
            pendingToSource: await ctx.pendingToSource(itemId, locationId),
          }
        : op.command;
    const delta = applyItemCommand(facts, command);
    // Absolute statements that match the ledger already (a count equal to our balance) leave
    // no movement behind.
    if (isZeroDelta(delta) && op.command.kind !== "manual_adjustment") {
      ctx.result.duplicates++;
      continue;
    }
    const inserted = await ctx.record({
      itemId,
      locationId,
      key: op.key,
      kind: op.command.kind,
      delta,
      connectionId: op.connectionId ?? null,
      orderRef: null,
      lineRef: null,
      listingId: null,
      line: null,
    });
    if (!inserted) {
      ctx.result.duplicates++;
      continue;
    }
    // Units the source store lost physically may be what its own drop had provisionally held.
    if (op.command.kind === "on_hand_counted" && delta.onHand < 0) {
      const sourceListing = ctx.locked.listings.find(
        (l) =>
          l.connectionRole === "source" &&
          l.sourceLocationId === locationId &&
          ctx.locked.components.some((c) => c.listingId === l.id && c.itemId === itemId),
      );
      await consumeListingHold(ctx, sourceListing?.id ?? null, -delta.onHand);
    }
  }
}

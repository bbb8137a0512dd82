/**
 * Applies one ledger event in one transaction: idempotent per operation key, items locked in id
 * order, balances changed by atomic deltas in the same transaction as the movement insert.
 * Returns the listings whose published quantity changed (the caller enqueues pushes).
 *
 * The steps, each in its own module: resolve the lines and items (resolve-lines, apply-items) →
 * lock the items and their bundle partners and load their balances (event-context) → order-line
 * commands (apply-lines) → item commands (apply-items) → provisional holds (apply-holds) →
 * published quantities (publish-changes).
 *
 * An order line that cannot be covered is still recorded (the sale happened) and raises an
 * oversell incident; a shortfall is never hidden by clamping.
 */
import { DomainError, ShopUninstalledError, UnknownShopError } from "../../domain/errors";
import { requireKey, validateLineCommand } from "../../domain/ledger";
import type {
  HoldOperation,
  ItemOperation,
  LedgerEvent,
  LineOperation,
} from "../../domain/operations";
import * as ledger from "../../repositories/ledger.server";
import { markReceiptApplied } from "../../repositories/receipts.server";
import { transaction, type Tx } from "../../repositories/tx.server";
import { applyHoldOperations, resolveHoldItems } from "./apply-holds.server";
import { applyItemOperations, resolveItems } from "./apply-items.server";
import { applyLineOperations } from "./apply-lines.server";
import { EventContext, type ApplyResult } from "./event-context.server";
import { publishChanges } from "./publish-changes.server";
import { resolveLines } from "./resolve-lines.server";

export type { ApplyResult };

/** Validates everything that needs no database, so bad input fails before any write. */
export function validateEvent(event: LedgerEvent): void {
  if (!event.shopId) throw new DomainError("invalid_command", "shopId is required");
  if (!event.actor) throw new DomainError("invalid_command", "actor is required");
  const keys = new Set<string>();
  for (const op of event.operations) {
    requireKey(op.key);
    if (keys.has(op.key))
      throw new DomainError("invalid_command", `duplicate key ${op.key} in one event`);
    keys.add(op.key);
    if (op.type === "hold") {
      if (!op.listingId) throw new DomainError("invalid_command", "a hold needs a listingId");
      if (op.change.kind === "add" && !(Number.isInteger(op.change.units) && op.change.units > 0))
        throw new DomainError("invalid_command", "a hold adds a positive whole number of units");
    } else if (op.type === "line") {
      if (!op.connectionId || !op.orderId || !op.lineId) {
        throw new DomainError(
          "invalid_command",
          "a line operation needs connectionId, orderId and lineId",
        );
      }
      validateLineCommand(op.command);
    } else if (!op.itemId && !op.sku) {
      throw new DomainError("invalid_command", "an item operation needs itemId or sku");
    }
  }
}

export async function applyLedgerEvent(event: LedgerEvent): Promise<ApplyResult> {
  validateEvent(event);
  return transaction((tx) => applyInTransaction(tx, event));
}

/**
 * The same, except that once the event's orders are locked `shortcut` may settle it another way
 * (a snapshot that changes nothing: ingest/noop-snapshot): then nothing else runs and the
 * result is null. One transaction either way.
 */
export async function applyLedgerEventUnless(
  event: LedgerEvent,
  shortcut: (tx: Tx) => Promise<boolean>,
): Promise<ApplyResult | null> {
  validateEvent(event);
  return transaction(async (tx) => {
    await ledger.lockOrders(tx, lineOperations(event));
    if (await shortcut(tx)) return null;
    return applyInTransaction(tx, event, true);
  });
}

/**
 * The same, inside a transaction the caller opened: the event commits together with the caller's
 * own conditional update (a cycle count approved once books its corrections once).
 */
export async function applyLedgerEventInTransaction(
  tx: Tx,
  event: LedgerEvent,
): Promise<ApplyResult> {
  validateEvent(event);
  return applyInTransaction(tx, event);
}

function lineOperations(event: LedgerEvent): LineOperation[] {
  return event.operations.filter((op): op is LineOperation => op.type === "line");
}

async function applyInTransaction(
  tx: Tx,
  event: LedgerEvent,
  ordersLocked = false,
): Promise<ApplyResult> {
  const lineOps = lineOperations(event);
  // 0. One order at a time (its later deliveries then find its lines: ledger.lockOrders).
  if (!ordersLocked) await ledger.lockOrders(tx, lineOps);
  const itemOps = event.operations.filter((op): op is ItemOperation => op.type === "item");
  const holdOps = event.operations.filter((op): op is HoldOperation => op.type === "hold");

  // 1. Which items the event touches.
  const { resolved, unmatched } = await resolveLines(tx, event.shopId, lineOps);
  const itemTargets = await resolveItems(tx, event.shopId, itemOps);
  const heldItems = await resolveHoldItems(tx, event.shopId, holdOps);

  // 2. Lock them (and their bundle partners) in id order; under the locks our view is exact.
  const direct = new Set<string>([...itemTargets.values(), ...heldItems]);
  for (const parts of resolved.values()) for (const part of parts) direct.add(part.itemId);
  // The shop's state comes with the balances (one round trip less). Only resolving ran before it;
  // an unmatched line it recorded is rolled back with the throw.
  const locked = await ledger.lockAndLoad(tx, event.shopId, [...direct]);
  const shop = locked.shop;
  if (!shop) throw new UnknownShopError(event.shopId);
  if (shop.status !== "active") throw new ShopUninstalledError(shop.domain);
  const ctx = new EventContext(tx, event, shop, locked);
  ctx.result.unmatched = unmatched;

  // 3–5. Effects, then what every dependent listing should now show.
  await applyLineOperations(ctx, lineOps, resolved);
  await applyItemOperations(ctx, itemOps, itemTargets);
  await applyHoldOperations(ctx, holdOps);
  await publishChanges(ctx);
  if (event.markReceiptApplied && event.receiptId != null)
    await markReceiptApplied(tx, event.receiptId);
  return ctx.result;
}

import { ats, isZeroDelta, newlyOversold } from "../../domain/availability";
import { chooseCommitLocation } from "../../domain/allocation";
import { DomainError, ShopUninstalledError, UnknownShopError } from "../../domain/errors";
import { classifyOversell } from "../../domain/incidents";
import {
  applyItemCommand,
  applyLineCommand,
  isLastWriterWins,
  requireKey,
  scaleLineCommand,
  validateLineCommand,
  type ItemCommand,
  type LineCommand,
  type LineState,
} from "../../domain/ledger";
import { computePublished } from "../../domain/publish";
import { normalizeSku } from "../../domain/sku";
import type { FactDelta, LevelFacts } from "../../domain/types";
import { transaction } from "../../lib/sql.server";
import * as repo from "../../repositories/ledger.server";

/** One effect on one order line (per channel order line, not per component). */
export type LineOperation = {
  type: "line";
  /** Unique per effect, derived from the external event (channel, order, line, kind, ...). */
  key: string;
  connectionId: string;
  orderId: string;
  lineId: string;
  /** The channel's SKU, as sent (normalised here). */
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

export type LedgerEvent = {
  shopId: string;
  receiptId?: bigint | null;
  /** Who or what caused it: `shopify:orders/create`, `user:ops@shop.com`, `reconcile`. */
  actor: string;
  reason?: string | null;
  /** When the event reached us (start of the sync-latency clock). */
  receivedAt?: Date;
  operations: (LineOperation | ItemOperation)[];
  /** Mark `receiptId` applied in the same transaction (the ingest path). */
  markReceiptApplied?: boolean;
};

export type ChangedListing = { listingId: string; connectionId: string; publishedQuantity: number };

export type ApplyResult = {
  applied: number;
  duplicates: number;
  unmatched: number;
  incidents: { id: bigint; itemId: string; shortfall: number; rootCause: string }[];
  changedListings: ChangedListing[];
};

const LINE_KIND: Record<LineCommand["kind"], string> = {
  placed: "order_placed",
  edited: "order_edited",
  cancelled_all: "order_cancelled",
  cancelled: "line_cancelled",
  shipped: "shipped",
  returned: "returned",
  refunded_no_restock: "refunded_no_restock",
};

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
    if (op.type === "line") {
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

/**
 * Applies one event to the ledger in one transaction: idempotent per operation key, items
 * locked in id order, balances changed by atomic deltas in the same transaction as the movement
 * insert. Returns the listings whose published quantity changed (the caller enqueues pushes).
 *
 * An order line that cannot be covered is still recorded (the sale happened) and raises an
 * oversell incident; a shortfall is never hidden by clamping.
 */
export async function applyLedgerEvent(event: LedgerEvent): Promise<ApplyResult> {
  validateEvent(event);
  return transaction((tx) => applyInTransaction(tx, event));
}

type ResolvedComponent = {
  itemId: string;
  perUnit: number;
  listingId: string | null;
  locationId: string | null;
};

async function applyInTransaction(tx: repo.Tx, event: LedgerEvent): Promise<ApplyResult> {
  const shop = await repo.shopState(tx, event.shopId);
  if (!shop) throw new UnknownShopError(event.shopId);
  if (shop.status !== "active") throw new ShopUninstalledError(shop.domain);

  const result: ApplyResult = {
    applied: 0,
    duplicates: 0,
    unmatched: 0,
    incidents: [],
    changedListings: [],
  };
  const sourceConnectionId = shop.connections.find((c) => c.role === "source")?.id ?? null;
  const receiptId = event.receiptId ?? null;
  const lineOps = event.operations.filter((op): op is LineOperation => op.type === "line");
  const itemOps = event.operations.filter((op): op is ItemOperation => op.type === "item");

  // 1. Which stock items does each line consume? Existing commitments first (their mapping is
  //    fixed at first sight), then the connection's listings, then the shop's SKUs.
  const resolved = new Map<LineOperation, ResolvedComponent[]>();
  const byOrder = new Map<string, LineOperation[]>();
  for (const op of lineOps) {
    const k = `${op.connectionId}|${op.orderId}`;
    byOrder.set(k, [...(byOrder.get(k) ?? []), op]);
  }
  for (const ops of byOrder.values()) {
    const first = ops[0]!;
    const refs = ops.map((o) => o.remoteRef).filter((r): r is string => Boolean(r));
    const skus = ops.map((o) => normalizeSku(o.sku)).filter((s): s is string => s !== null);
    const { existing, listings, items } = await repo.resolveOrderLines(tx, {
      shopId: event.shopId,
      connectionId: first.connectionId,
      orderId: first.orderId,
      lineIds: ops.map((o) => o.lineId),
      refs,
      skus,
    });
    const pending: LineOperation[] = [];
    for (const op of ops) {
      const rows = existing.filter((r) => r.lineId === op.lineId);
      if (rows.length > 0) {
        resolved.set(
          op,
          rows.map((r) => ({
            itemId: r.itemId,
            perUnit: r.perUnit,
            listingId: r.listingId,
            locationId: r.locationId,
          })),
        );
      } else pending.push(op);
    }
    if (pending.length === 0) continue;
    for (const op of pending) {
      const sku = normalizeSku(op.sku);
      const listing =
        (op.remoteRef &&
          listings.find(
            (l) => l.remoteRef === op.remoteRef || l.remoteVariantRef === op.remoteRef,
          )) ||
        (sku !== null ? listings.find((l) => l.sku === sku) : undefined);
      if (listing && listing.components.length > 0) {
        resolved.set(
          op,
          listing.components.map((c) => ({
            itemId: c.itemId,
            perUnit: c.quantity,
            listingId: listing.id,
            locationId: null,
          })),
        );
        continue;
      }
      const item = sku !== null ? items.find((i) => i.sku === sku) : undefined;
      if (item) {
        resolved.set(op, [{ itemId: item.id, perUnit: 1, listingId: null, locationId: null }]);
        continue;
      }
      const quantity = "quantity" in op.command ? op.command.quantity : 0;
      await repo.recordUnmatched(tx, {
        shopId: event.shopId,
        connectionId: op.connectionId,
        orderId: op.orderId,
        lineId: op.lineId,
        sku: op.sku,
        remoteRef: op.remoteRef ?? null,
        quantity,
      });
      result.unmatched++;
    }
  }

  const itemOpTargets = new Map<ItemOperation, string>();
  if (itemOps.length > 0) {
    const ids = itemOps.map((o) => o.itemId).filter((x): x is string => Boolean(x));
    const skus = itemOps.map((o) => normalizeSku(o.sku)).filter((s): s is string => s !== null);
    const found = [
      ...(await repo.findItemsById(tx, event.shopId, ids)),
      ...(await repo.findItemsBySku(tx, event.shopId, skus)),
    ];
    for (const op of itemOps) {
      const sku = normalizeSku(op.sku);
      const item = found.find((i) => (op.itemId ? i.id === op.itemId : i.sku === sku));
      if (!item) throw new DomainError("unknown_item", `unknown stock item ${op.itemId ?? op.sku}`);
      itemOpTargets.set(op, item.id);
    }
  }

  // 2. Lock every item whose balances or published quantities this event can change.
  const direct = new Set<string>([...itemOpTargets.values()]);
  for (const components of resolved.values()) for (const c of components) direct.add(c.itemId);
  // Under the locks our in-memory view of these balances is exact.
  const {
    skuOf,
    levels: levelRows,
    listings,
    components,
  } = await repo.lockAndLoad(tx, event.shopId, [...direct]);
  const levels = new Map<string, repo.LevelRow>();
  const levelKey = (itemId: string, locationId: string) => `${itemId}|${locationId}`;
  for (const row of levelRows) levels.set(levelKey(row.itemId, row.locationId), row);
  let locations: { id: string; isPrimary: boolean }[] | null = null;
  const shopLocations = async () => (locations ??= await repo.sourceLocations(tx, event.shopId));

  const ensureLevelRow = async (itemId: string, locationId: string): Promise<repo.LevelRow> => {
    const key = levelKey(itemId, locationId);
    let row = levels.get(key);
    if (!row) {
      const loc = (await shopLocations()).find((l) => l.id === locationId);
      if (!loc)
        throw new DomainError(
          "unknown_location",
          `location ${locationId} is not a source location of this shop`,
        );
      await repo.ensureLevel(tx, event.shopId, itemId, locationId);
      row = {
        itemId,
        locationId,
        isPrimary: loc.isPrimary,
        onHand: 0,
        committed: 0,
        held: 0,
        damaged: 0,
        safetyStock: 0,
      };
      levels.set(key, row);
    }
    return row;
  };
  const itemAts = (itemId: string): number => {
    let total = 0;
    for (const row of levels.values()) if (row.itemId === itemId) total += ats(row);
    return total;
  };
  const commitLocation = async (itemId: string): Promise<string> => {
    const candidates = [...levels.values()]
      .filter((r) => r.itemId === itemId)
      .map((r) => ({ locationId: r.locationId, ats: ats(r), isPrimary: r.isPrimary }));
    const chosen =
      chooseCommitLocation(candidates) ??
      (await shopLocations()).find((l) => l.isPrimary)?.id ??
      (await shopLocations())[0]?.id;
    if (!chosen)
      throw new DomainError(
        "unknown_location",
        "the shop has no source location to commit stock at",
      );
    return chosen;
  };

  const touched = new Set<string>();

  const record = async (input: {
    itemId: string;
    locationId: string;
    key: string;
    kind: string;
    delta: FactDelta;
    connectionId: string | null;
    orderRef: string | null;
    lineRef: string | null;
    listingId: string | null;
    line: { id: bigint; state: LineState; committed: number } | null;
  }): Promise<boolean> => {
    const movementId = await repo.recordMovement(
      tx,
      {
        shopId: event.shopId,
        itemId: input.itemId,
        locationId: input.locationId,
        key: input.key,
        kind: input.kind,
        delta: input.delta,
        receiptId,
        connectionId: input.connectionId,
        orderRef: input.orderRef,
        lineRef: input.lineRef,
        actor: event.actor,
        reason: event.reason ?? null,
      },
      input.line,
    );
    if (movementId === null) return false;
    const adjustment = sourceAdjustmentFor(
      input.kind,
      input.delta,
      input.connectionId,
      sourceConnectionId,
    );
    if (adjustment && sourceConnectionId) {
      await repo.insertSourceAdjustment(tx, {
        shopId: event.shopId,
        connectionId: sourceConnectionId,
        itemId: input.itemId,
        locationId: input.locationId,
        movementId,
        ...adjustment,
      });
    }
    const before = itemAts(input.itemId);
    if (!isZeroDelta(input.delta)) {
      const row = await ensureLevelRow(input.itemId, input.locationId);
      addInPlace(row, input.delta);
      touched.add(levelKey(input.itemId, input.locationId));
    }
    const after = itemAts(input.itemId);
    const shortfall = newlyOversold(before, after);
    if (shortfall > 0) {
      const itemListings = listings.filter((l) =>
        components.some((c) => c.listingId === l.id && c.itemId === input.itemId),
      );
      const selling =
        itemListings.find((l) => l.id === input.listingId) ??
        itemListings.find((l) => l.connectionId === input.connectionId) ??
        null;
      const rootCause = classifyOversell({ movementKind: input.kind, listing: selling });
      const id = await repo.insertIncident(tx, {
        shopId: event.shopId,
        itemId: input.itemId,
        sku: skuOf.get(input.itemId) ?? "",
        connectionId: input.connectionId,
        orderRef: input.orderRef,
        lineRef: input.lineRef,
        movementId,
        receiptId,
        shortfall,
        atsBefore: before,
        atsAfter: after,
        snapshot: itemListings.map((l) => ({
          listingId: l.id,
          connectionId: l.connectionId,
          role: l.connectionRole,
          published: l.publishedQuantity,
          pushed: l.pushedQuantity,
          lastPushedAt: l.lastPushedAt,
          remote: l.remoteQuantity,
          remoteObservedAt: l.remoteObservedAt,
        })),
        rootCause,
      });
      result.incidents.push({ id, itemId: input.itemId, shortfall, rootCause });
    }
    result.applied++;
    return true;
  };

  // The selling channel already moved its own `available` when the order happened there (and
  // back when it was cancelled): remember that, so the next compare-and-set write expects the
  // right number and the channel's echo is recognised as one.
  const channelMoves = new Map<string, { units: number; at: string }>();

  // 3. Order lines, in the order given.
  for (const op of lineOps) {
    const parts = resolved.get(op);
    if (!parts) continue;
    for (const part of parts) {
      const locationId = part.locationId ?? (await commitLocation(part.itemId));
      await ensureLevelRow(part.itemId, locationId);
      const row = await repo.lockOrderLine(tx, {
        shopId: event.shopId,
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
      if (isLastWriterWins(op.command) && sameLine(state, applied.state)) {
        result.duplicates++;
        continue;
      }
      if (isLastWriterWins(op.command) && isZeroDelta(applied.delta)) {
        // A newer version with no effect (e.g. an order update that changed other fields):
        // remember the version, no movement needed. LWW is idempotent without a key.
        await repo.saveOrderLine(tx, row.id, applied.state, row.committed);
        continue;
      }
      const key = parts.length > 1 ? `${op.key}#${part.itemId}` : op.key;
      const inserted = await record({
        itemId: part.itemId,
        locationId: row.locationId,
        key: isLastWriterWins(op.command) ? `${key}@${applied.state.orderedVersion}` : key,
        kind: LINE_KIND[op.command.kind],
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
      if (!inserted) result.duplicates++;
    }
  }

  if (channelMoves.size > 0) await repo.applyChannelMoves(tx, channelMoves);

  // 4. Item operations.
  for (const op of itemOps) {
    const itemId = itemOpTargets.get(op)!;
    const locationId =
      op.locationId ??
      (await shopLocations()).find((l) => l.isPrimary)?.id ??
      (await shopLocations())[0]?.id;
    if (!locationId) throw new DomainError("unknown_location", "the shop has no source location");
    const facts = await ensureLevelRow(itemId, locationId);
    // A count compares the source's on_hand, read a moment ago, with the ledger now (under the
    // item lock). Changes the ledger made in between (a shipment elsewhere) are still in the
    // outbox, since writes to the source wait for the push lock the reader holds: take the
    // outbox as of now, never as the caller saw it before this lock, or such a change is
    // counted a second time as a physical change (seen in the multi-store test).
    const command =
      op.command.kind === "on_hand_counted"
        ? { ...op.command, pendingToSource: await repo.pendingToSource(tx, itemId, locationId) }
        : op.command;
    const delta = applyItemCommand(facts, command);
    // Absolute statements that match the ledger already (a count equal to our balance) leave
    // no movement behind.
    if (isZeroDelta(delta) && op.command.kind !== "manual_adjustment") {
      result.duplicates++;
      continue;
    }
    const inserted = await record({
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
    if (!inserted) result.duplicates++;
  }

  // 5. Published quantities of every listing that depends on a changed balance.
  if (touched.size > 0) {
    const changedItems = new Set([...touched].map((k) => k.split("|")[0]!));
    const affected = listings.filter((l) =>
      components.some((c) => c.listingId === l.id && changedItems.has(c.itemId)),
    );
    const published = computePublished(
      affected.map((l) => ({
        id: l.id,
        connectionId: l.connectionId,
        sku: l.sku,
        sourceLocationId: l.sourceLocationId,
        components: components
          .filter((c) => c.listingId === l.id)
          .map((c) => ({ itemId: c.itemId, perUnit: c.quantity })),
      })),
      [...levels.values()],
      shop.rules,
    );
    const marks = affected.map((listing) => {
      const onlyItem = components.find((c) => c.listingId === listing.id)?.itemId;
      // Source-store levels also carry the projected reserved / held / safety states, so any
      // change at the level needs a push, even when the available number stays the same.
      const force =
        listing.sourceLocationId !== null &&
        onlyItem !== undefined &&
        touched.has(levelKey(onlyItem, listing.sourceLocationId));
      return { id: listing.id, published: published.get(listing.id) ?? 0, force };
    });
    const marked = await repo.markListingsChanged(tx, {
      listings: marks,
      receiptId,
      since: event.receivedAt ?? new Date(),
    });
    for (const mark of marks) {
      if (!marked.has(mark.id)) continue;
      const listing = affected.find((l) => l.id === mark.id)!;
      result.changedListings.push({
        listingId: mark.id,
        connectionId: listing.connectionId,
        publishedQuantity: mark.published,
      });
    }
  }
  if (event.markReceiptApplied && receiptId !== null) await repo.markReceiptApplied(tx, receiptId);
  return result;
}

/**
 * Physical changes the source store has not seen: the source's own orders, counts and restocks
 * already happened there, but a marketplace shipment, a marketplace return restocked in the
 * warehouse, or an adjustment made in StockGuard must be written to Shopify so its on_hand keeps
 * matching the shelf. Returns the Shopify state to adjust, or null.
 */
export function sourceAdjustmentFor(
  kind: string,
  delta: FactDelta,
  connectionId: string | null,
  sourceConnectionId: string | null,
): { stateName: string; delta: number } | null {
  if (delta.onHand === 0 || connectionId === sourceConnectionId) return null;
  switch (kind) {
    case "shipped": // the unit sat in `reserved` for the other channel's order
      return { stateName: "reserved", delta: delta.onHand };
    case "returned": // back in the warehouse, awaiting inspection
      return { stateName: "quality_control", delta: delta.onHand };
    case "written_off":
      return { stateName: "damaged", delta: delta.onHand };
    case "manual_adjustment":
      return { stateName: "available", delta: delta.onHand };
    default:
      return null;
  }
}

function addInPlace(target: LevelFacts, delta: FactDelta): void {
  target.onHand += delta.onHand;
  target.committed += delta.committed;
  target.held += delta.held;
  target.damaged += delta.damaged;
  target.safetyStock += delta.safetyStock;
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

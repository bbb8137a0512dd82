/**
 * Provisional holds in a ledger event: a channel's own drop seen before its order (`add`: the
 * listing's items are held by that many units, lowering what every listing publishes), an
 * expired hold released, and holds consumed by the orders and counts that explain them. Holds are
 * never movements: the ledger's balances and incidents ignore them.
 */
import { DomainError } from "../../domain/errors";
import { debugEnabled, log } from "../../logger.server";
import type { HoldOperation } from "../../domain/operations";
import { showsPublished } from "../../domain/plan";
import * as holds from "../../repositories/holds.server";
import * as ledger from "../../repositories/ledger.server";
import type { ListingRow } from "../../repositories/ledger.server";
import type { Tx } from "../../repositories/tx.server";
import type { EventContext } from "./event-context.server";

/** The items each hold's listing consumes (to lock them with the event's other items). */
export async function resolveHoldItems(
  tx: Tx,
  shopId: string,
  ops: HoldOperation[],
): Promise<string[]> {
  if (ops.length === 0) return [];
  const listings = await ledger.listingItems(
    tx,
    shopId,
    ops.map((o) => o.listingId),
  );
  for (const op of ops) {
    if (!listings.some((l) => l.listingId === op.listingId))
      throw new DomainError("unknown_item", `unknown listing ${op.listingId}`);
  }
  return [...new Set(listings.flatMap((l) => l.itemIds))];
}

export async function applyHoldOperations(ctx: EventContext, ops: HoldOperation[]): Promise<void> {
  for (const op of ops) {
    const listing = ctx.locked.listings.find((l) => l.id === op.listingId);
    if (!listing) continue;
    if (op.change.kind === "add") {
      // Under the locks the listing's remote quantity is StockGuard's current model of what the
      // channel shows (its own orders applied since shift it): an order applied since the drop
      // was seen already explains that much of it.
      const model = listing.remoteQuantity ?? listing.publishedQuantity;
      trace(listing, "hold", {
        asked: op.change.units,
        shown: op.change.shown,
        observedAt: op.change.observedAt,
        settlesRead: op.change.settlesRead ?? false,
      });
      // What StockGuard believes the channel shows is uncertain until it is read (see
      // `owedRead`): a drop measured against it may be a sale already applied, which leaves the
      // model above what the listing publishes (the order lowered the one, not the other). The
      // read itself decides: a drop it found while the model still equalled what the listing
      // publishes is the channel's own sale on its way, held like any other (else the push
      // wrote the published quantity over it — a sold unit offered again until its order came).
      if (
        listing.needsRead &&
        !(op.change.settlesRead && showsPublished(model, listing.publishedQuantity))
      )
        continue;
      // The drop was measured outside the locks. A look at the channel recorded since (a write's
      // answer, a read) is newer than this observation: the model already says what the channel
      // showed after it, and a drop it revealed was held by that look. Measured against it, the
      // older observation took the same sale again (chaos convergence: the web read a listing,
      // its level update of a sale stamped to the second; the push then recorded its change's
      // answer, which had held that sale; held twice, one unit outlived the order for the whole
      // settle window). A change's answer is exempt: what it shows is the moment before it.
      // A sale made after that look and before this observation is possible too: a sales
      // channel is read before its next write (the source's level is counted by its read).
      if (
        !op.change.answerOf &&
        listing.remoteObservedAt !== null &&
        new Date(op.change.observedAt).getTime() < new Date(listing.remoteObservedAt).getTime()
      ) {
        trace(listing, "hold not taken: older than the model", {
          asked: op.change.units,
          shown: op.change.shown,
          observedAt: op.change.observedAt,
        });
        if (listing.connectionRole === "sales") await owedRead(ctx, listing);
        continue;
      }
      // The channel's own sales applied since the model's look that could not be placed against
      // it may be in this drop: their orders are in the ledger already, so they are not held.
      const unplaced = listing.unplacedSold;
      const units = Math.min(op.change.units, model - op.change.shown - unplaced);
      if (unplaced > 0)
        trace(listing, "drop less the sales not placed", { unplaced, shown: op.change.shown });
      if (!(units > 0)) {
        await unheldByAnswer(ctx, listing, op.change, model);
        continue;
      }
      await holds.addHold(ctx.tx, {
        listingId: op.listingId,
        shopId: ctx.shopId,
        connectionId: listing.connectionId,
        units,
        shown: op.change.shown,
        observedAt: op.change.observedAt,
        expiresAt: op.change.expiresAt,
      });
      listing.remoteQuantity = op.change.shown;
      ctx.holdChanged(op.listingId, units);
    } else if (await holds.releaseExpiredHold(ctx.tx, op.listingId, op.change.expiredBy)) {
      ctx.result.holdUnitsReleased = (ctx.result.holdUnitsReleased ?? 0) + listing.holdUnits;
      ctx.holdChanged(op.listingId, -listing.holdUnits);
    }
  }
}

/**
 * A change sent from `expected` to `intended` left the channel lower than planned: its answer
 * holds the store's own sale it reveals, measured from what the channel showed just before the
 * change (`shown`). The level update the change itself caused can be applied first (the web gets
 * it while the push is still recording the answer), and it was measured against the model from
 * before the change — held as a drop of `expected − level`, the change's own −d units counted as
 * a sale: one unit outlived its order and kept every other store a unit low until the hold
 * expired (chaos convergence, seed 11: a sale reflected after 16.7 s).
 *
 * That is what a model below `shown` means here: an update from before the change (the sale on
 * its way) leaves the model at or above what the channel showed just before it, one from after
 * it leaves the model at most the answer, below. So the answer takes back the change's own units
 * from a hold an update made since the change was sent — never more than that hold. The update
 * itself is never dropped (a write whose answer is never recorded, Redis lost mid-push, must
 * still leave the model right).
 */
async function unheldByAnswer(
  ctx: EventContext,
  listing: ListingRow,
  change: Extract<HoldOperation["change"], { kind: "add" }>,
  model: number,
): Promise<void> {
  const answer = change.answerOf;
  if (!answer || listing.holdUnits <= 0 || listing.remoteObservedAt === null) return;
  const lowered = answer.expected - answer.intended;
  if (lowered <= 0 || model >= change.shown) return;
  if (new Date(listing.remoteObservedAt).getTime() <= new Date(answer.sentAt).getTime()) return;
  const units = Math.min(lowered, change.shown - model, listing.holdUnits);
  const released = await holds.consumeHold(ctx.tx, listing.id, units);
  trace(listing, "change's own units released", { released, ...answer, shown: change.shown });
  ctx.holdChanged(listing.id, -released);
}

/** An order or count explained `units` of a listing's hold: they are no longer held. */
export async function consumeListingHold(
  ctx: EventContext,
  listingId: string | null,
  units: number,
): Promise<number> {
  if (!listingId || units <= 0) return 0;
  const listing = ctx.locked.listings.find((l) => l.id === listingId);
  if (!listing || listing.holdUnits <= 0) return 0;
  const consumed = await holds.consumeHold(ctx.tx, listingId, units);
  ctx.holdChanged(listingId, -consumed);
  return consumed;
}

/**
 * A channel's own order took `units` from the pool: the units its channel's drop had held
 * provisionally are no longer held, the rest were taken off its storefront when sold, which
 * StockGuard follows (`followChannelSale`).
 *
 * A hold holds the sales its observations saw, so an order sold after the listing's last look
 * (the hold's newest observation or later) is not among them: it leaves the hold to the order
 * that is and moves the model. Taken by the later sale, the hold was gone when the earlier
 * sale's order came; that order was placed before the look and moved nothing, the model stayed
 * a unit high, and the next look held the later sale again, with its order already applied —
 * every other store a unit low for the settle window (multi-store e2e, traced: a store sold
 * twice within two seconds, the second order arrived first). An order that cannot be placed
 * against the look (the same second) still takes the hold, and the channel is read.
 */
export async function takeChannelSale(
  ctx: EventContext,
  listingId: string | null,
  units: number,
  soldAt: string | null,
): Promise<void> {
  if (!listingId || units <= 0) return;
  const listing = ctx.locked.listings.find((l) => l.id === listingId);
  const order =
    listing && soldAt && listing.holdUnits > 0
      ? saleBeforeObservation(soldAt, listing.remoteObservedAt)
      : null;
  const held = order === "after" ? 0 : await consumeListingHold(ctx, listingId, units);
  if (held > 0 && order === "unknown") {
    trace(listing!, "hold taken by a sale that cannot be placed", { units, held, soldAt });
    await unplacedSale(ctx, listing!, held);
  }
  await followChannelSale(ctx, listingId, units - held, soldAt);
}

/**
 * The channel's own sale, applied, cannot be placed against the last look at it: the look may
 * or may not include it. The channel is read; the units are remembered so that the read does
 * not hold them again as a drop nothing explains. Without that, a read that found the model
 * equal to what the listing publishes (the pool raised by a receipt as the order took a unit)
 * held the sale as one on its way, with its order already applied (chaos soak, traced: released
 * unexplained after 13 s).
 */
async function unplacedSale(ctx: EventContext, listing: ListingRow, units: number): Promise<void> {
  listing.unplacedSold = (await ledger.recordUnplacedSale(ctx.tx, listing.id, units)) ?? 0;
  await owedRead(ctx, listing);
}

/**
 * A channel's own order reached the ledger: the channel took those units off its own storefront
 * when it sold them, so what StockGuard believes it shows moves with them — unless it was
 * observed after the sale (the observation already includes it) or a hold already accounted for
 * them. Keeps echo detection and compare-and-set expectations right, and lets a later drop be
 * told from a sale already known.
 */
export async function followChannelSale(
  ctx: EventContext,
  listingId: string | null,
  units: number,
  soldAt: string | null,
): Promise<void> {
  if (!listingId || units <= 0) return;
  const listing = ctx.locked.listings.find((l) => l.id === listingId);
  if (!listing || listing.remoteQuantity === null) return;
  if (!soldAt) {
    // Taken without a sale time (a shipment whose order has not arrived: the order, when it
    // comes, takes nothing more): nobody can say whether what StockGuard last saw there
    // included it, and nothing later will move the model for it. Read the channel; until then
    // no drop is held against the model (a hold here outlived its sale by the whole settle
    // window: chaos convergence, a fulfilment delivered before its order).
    trace(listing, "own sale", { units, soldAt, order: "unknown (no sale time)" });
    await owedRead(ctx, listing);
    return;
  }
  const order = saleBeforeObservation(soldAt, listing.remoteObservedAt);
  trace(listing, "own sale", { units, soldAt, order });
  if (order === "after") {
    if (await ledger.shiftRemote(ctx.tx, listingId, -units, soldAt))
      listing.remoteQuantity -= units;
  } else if (order === "unknown") {
    await unplacedSale(ctx, listing, units);
  }
}

/**
 * Whether a sale happened after StockGuard last observed the channel ("after": the observation
 * does not include it), before it, or too close to tell: order times are only to the second
 * (the sale happened within the second after `soldAt`), and the store's clock is not ours.
 */
function saleBeforeObservation(
  soldAt: string,
  observedAt: Date | string | null,
): "after" | "before" | "unknown" {
  if (observedAt === null) return "after";
  const sold = new Date(soldAt).getTime();
  const observed = new Date(observedAt).getTime();
  // A time with milliseconds (Walmart, Amazon) is the sale's own; one without (Shopify) may be up
  // to a second early.
  const resolution = /\.\d*[1-9]/.test(soldAt) ? 0 : 1_000;
  if (observed < sold - CLOCK_SLACK_MS) return "after";
  if (observed >= sold + resolution + CLOCK_SLACK_MS) return "before";
  return "unknown";
}
/** How far the channel's clock may be from ours. */
const CLOCK_SLACK_MS = 500;

/**
 * A sales channel's own order released units (cancelled, edited down): the channel offers them
 * again at once, and StockGuard cannot tell whether what it last saw there already included
 * that — the next push reads the channel before planning (a model left one low would make a
 * listing look up to date while the channel shows more).
 */
export async function followChannelRelease(
  ctx: EventContext,
  listingId: string | null,
): Promise<void> {
  if (!listingId) return;
  const listing = ctx.locked.listings.find((l) => l.id === listingId);
  if (!listing || listing.connectionRole !== "sales") return;
  await owedRead(ctx, listing);
}

/**
 * What the channel shows is uncertain until it is read: the next push reads a sales channel
 * first, the source's counting read reads the source; no drop is held against the uncertain
 * model meanwhile.
 */
async function owedRead(ctx: EventContext, listing: ListingRow): Promise<void> {
  await ledger.markNeedsRead(ctx.tx, listing.id);
  listing.needsRead = true;
  ctx.result.changedListings.push({
    listingId: listing.id,
    connectionId: listing.connectionId,
    publishedQuantity: listing.publishedQuantity,
  });
}

/** Debug trace of how a listing's model of the channel moves (LOG_LEVEL=debug). */
function trace(listing: ListingRow, step: string, detail: Record<string, unknown>): void {
  if (!debugEnabled()) return;
  log({ connectionId: listing.connectionId }).debug(
    {
      listingId: listing.id,
      sku: listing.sku,
      model: listing.remoteQuantity,
      modelAt: listing.remoteObservedAt,
      needsRead: listing.needsRead,
      holdUnits: listing.holdUnits,
      ...detail,
    },
    `listing model: ${step}`,
  );
}

/**
 * A channel tells us a level's sellable quantity changed — after a sale, a merchant's edit, or
 * our own write (the echo). It carries no on_hand and no actor, so:
 *
 * - older than our last write, or equal to what we know the channel shows → an echo or a
 *   replay: nothing is counted and nothing is written;
 * - on the source store → the level is flagged and read back (coalesced per connection); the
 *   read compares the physical on_hand with the ledger (allowing for our own writes still on
 *   their way) and counts only a real change at the source;
 * - on another channel → recorded as an observation; the push planner lowers the channel at
 *   once if it shows more than published, and waits for the order if it shows less;
 * - while the channel applies a write it accepted (Amazon ACCEPTED): equal to that write → the
 *   write is confirmed; anything else is kept as an observation for the confirmation to weigh.
 */
import type { LevelObservation } from "../../channels/channel-adapter";
import {
  enqueuePush,
  enqueueSafely,
  enqueueThrottledCatalogRefresh,
} from "../../queues/jobs.server";
import { isLateEcho, unordered } from "../../domain/echoes";
import { debugEnabled, log } from "../../logger.server";
import * as listings from "../../repositories/listings.server";
import { holdUnexplainedDrop } from "./drops.server";
import { scheduleSourceRead } from "./read-source-levels.server";

/** Whether the update told us something new (recorded), and what was done about it. */
export type LevelOutcome = { recorded: boolean; action: string };

export async function observeLevel(
  connection: { id: string; role: "source" | "sales" },
  level: LevelObservation,
  receivedAt: Date,
): Promise<LevelOutcome> {
  const outcome = await settleLevel(connection, level, receivedAt);
  if (debugEnabled())
    log({ connectionId: connection.id }).debug(
      { ref: level.remoteRef, quantity: level.quantity, at: level.at, ...outcome },
      "level observed",
    );
  return outcome;
}

async function settleLevel(
  connection: { id: string; role: "source" | "sales" },
  level: LevelObservation,
  receivedAt: Date,
): Promise<LevelOutcome> {
  const listing = await listings.listingAtLevel(
    connection.id,
    level.remoteRef,
    level.remoteLocationRef,
  );
  if (!listing) {
    // A level we do not track: a new variant, or a location we do not sync. Refresh the catalog.
    await enqueueSafely("catalog", () => enqueueThrottledCatalogRefresh(connection.id));
    return { recorded: false, action: "unknown level: catalog refresh scheduled" };
  }
  if (listing.pendingTrackingId !== null) {
    // The channel is applying a write it accepted (Amazon ACCEPTED). A report of that quantity
    // confirms it (Amazon's MFN quantity notification once the patch is processed). Any other
    // report may predate the write (an earlier write landing, a sale the write overwrites) or
    // follow it (a sale after it landed, reported before the confirmation): it is kept as an
    // observation — no hold, no push — and the confirmation keeps whichever is newer.
    const at = level.precise && level.at.getTime() <= receivedAt.getTime() ? level.at : receivedAt;
    if (level.quantity === null || level.quantity !== listing.pendingQuantity) {
      await listings.recordRemote({
        listingId: listing.id,
        quantity: level.quantity,
        source: "webhook",
        at,
      });
      return { recorded: true, action: "an accepted write is being applied: observation kept" };
    }
    const off = await listings.confirmPending(
      connection.id,
      [{ listingId: listing.id, trackingId: listing.pendingTrackingId, quantity: level.quantity }],
      at,
    );
    if (off > 0) await enqueueSafely("push", () => enqueuePush(connection.id));
    return { recorded: true, action: "confirms an accepted write" };
  }
  // Level timestamps may carry whole seconds only: only a payload clearly older than our last
  // write is a replay (channels with exact times: any payload not newer than what we know). On
  // the source store nothing is dropped on time alone (a read decides).
  const slack = level.precise ? 0 : 2_000;
  const older = (t: Date | null) =>
    t !== null &&
    (level.precise ? level.at.getTime() <= t.getTime() : level.at.getTime() < t.getTime() - slack);
  if (
    connection.role !== "source" &&
    (older(listing.lastPushedAt) || older(listing.remoteObservedAt))
  ) {
    return { recorded: false, action: "older than what we know: ignored" };
  }
  const known =
    connection.role === "source"
      ? (listing.remoteState?.available ?? listing.remoteQuantity)
      : listing.remoteQuantity;
  if (level.quantity === known)
    return { recorded: false, action: "echo: matches what the channel shows" };
  const lastSeen = latest(listing.lastPushedAt, listing.remoteObservedAt);
  if (connection.role === "source" && unordered(level, lastSeen, slack)) {
    // The source's on_hand (a receipt) is only counted by its read: no hold, the read decides.
    await flagSourceRead(connection.id, listing.id);
    return { recorded: false, action: "not ordered against our write: read scheduled" };
  }
  if (isLateEcho(level, listing.recentWrites, slack)) {
    // A write of ours delivered after a newer one (domain/echoes.ts). The source's level is
    // still read: a receipt there that happens to land on that number is counted by the read.
    if (connection.role !== "source") {
      // A real sale can land on a number we wrote moments ago (stock near one value goes up and
      // down by a unit): if StockGuard's model now equals what it publishes, the next push reads
      // the channel instead of trusting the model (a missed sale there would otherwise leave the
      // listing one off for good once the pool rises again).
      await listings.markNeedsRead([listing.id], receivedAt);
      await enqueueSafely("push", () => enqueuePush(connection.id));
      return { recorded: false, action: "late echo of an earlier write: read before writing" };
    }
    await flagSourceRead(connection.id, listing.id);
    return { recorded: false, action: "late echo of an earlier write: read scheduled" };
  }
  if (
    connection.role !== "source" &&
    !level.precise &&
    known !== null &&
    level.quantity !== null &&
    level.quantity > known
  ) {
    // A sales channel's own events only take units off its storefront (a cancel is followed
    // through its order, which owes a read), so a rise is our own write reported late (above)
    // or a report older than sales StockGuard has already followed — stamped to the second, it
    // cannot be placed against them. Taken at face value it put a sold unit back into the model,
    // and the read that found it gone held that unit until the hold expired (chaos convergence:
    // every other store a unit low for 11 s). Read before writing instead.
    await listings.markNeedsRead([listing.id], receivedAt);
    await enqueueSafely("push", () => enqueuePush(connection.id));
    return { recorded: false, action: "a rise that cannot be placed: read before writing" };
  }
  if (unordered(level, lastSeen, slack)) {
    // Before or after our last write or observation, nobody can tell: the channel is read
    // before the next write instead.
    await listings.markNeedsRead([listing.id], receivedAt);
    await enqueueSafely("push", () => enqueuePush(connection.id));
    return { recorded: false, action: "not ordered against our write: read before writing" };
  }

  // First the drop, measured against what StockGuard believed the channel showed; then the
  // observation (remote_source = 'webhook' marks "observed, not read yet" for the source read).
  const seenAt = seenBy(level, receivedAt);
  await holdUnexplainedDrop(connection, listing, known, level.quantity, seenAt);
  await listings.recordRemote({
    listingId: listing.id,
    quantity: level.quantity,
    source: "webhook",
    at: seenAt,
  });
  if (connection.role === "source") {
    await scheduleSourceRead(connection.id);
    return { recorded: true, action: "source level changed: read scheduled" };
  }
  await listings.markDirty([listing.id], receivedAt);
  await enqueueSafely("push", () => enqueuePush(connection.id));
  return { recorded: true, action: "channel quantity observed: push planned" };
}

/**
 * When the channel is known to have shown what an update reports: its own time (a time to the
 * second: by the end of that second), never later than it reached us. Not the time it reached
 * us — delivered 1.5 s late, an update stamped on arrival claimed the channel showed its
 * quantity after a sale made in between, so that sale's order was taken as already included,
 * the model stayed a unit high, and the read that found the unit gone held it until the hold
 * expired (chaos convergence: every other store a unit low for 14 s).
 */
function seenBy(level: LevelObservation, receivedAt: Date): Date {
  const upTo = level.at.getTime() + (level.precise ? 0 : 1_000);
  return upTo < receivedAt.getTime() ? new Date(upTo) : receivedAt;
}

/** The coalesced counting read of the source's flagged levels (read-source-levels). */
async function flagSourceRead(connectionId: string, listingId: string): Promise<void> {
  await listings.flagForSourceRead([listingId]);
  await scheduleSourceRead(connectionId);
}

function latest(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

/**
 * A channel showing fewer units than StockGuard publishes for it, and than it showed before, has
 * most likely sold them and its order has not reached the ledger yet (its webhook may be delayed
 * or retried for minutes). Seen by a level update or by a read (a compare-and-set write found
 * the channel changed), those units are held at once — a provisional hold, not a ledger fact —
 * so every other channel is lowered now instead of when the order arrives. The order consumes the
 * hold; if nothing explains it within PUSH_SETTLE_MS it is released and the channel corrected.
 */
import { env } from "../../env.server";
import { debugEnabled, log } from "../../logger.server";
import { enqueuePushes, enqueueSafely } from "../../queues/jobs.server";
import { applyLedgerEvent } from "../ledger/apply-event.server";

export type ChannelDrop = {
  listing: { id: string; shopId: string; publishedQuantity: number };
  /** What StockGuard believed the channel showed (null: its published quantity). */
  before: number | null;
  /** What the channel shows now (null: it did not say). */
  now: number | null;
  observedAt: Date;
  /** Found by the read a listing was owed, its model equal to what it publishes (apply-holds). */
  settlesRead?: boolean;
  /** Revealed by a change's answer (push-sales; see `HoldOperation`). */
  answerOf?: { expected: number; intended: number; sentAt: Date };
};

export async function holdUnexplainedDrop(
  connection: { id: string },
  listing: ChannelDrop["listing"],
  before: number | null,
  now: number | null,
  observedAt: Date,
): Promise<number> {
  return holdUnexplainedDrops(connection, [{ listing, before, now, observedAt }]);
}

/**
 * Several listings of one connection read at once (a compare-and-set write found them changed):
 * their drops are held in one ledger event — one transaction, the items locked once — instead
 * of one event each while the connection's push waits. Returns the units asked to be held.
 */
export async function holdUnexplainedDrops(
  connection: { id: string },
  drops: readonly ChannelDrop[],
): Promise<number> {
  // Against what StockGuard believed the channel showed (the apply step re-checks it under the
  // items' locks, where orders applied meanwhile have moved it).
  const held = drops
    .map((d) => ({
      ...d,
      units: d.now === null ? 0 : (d.before ?? d.listing.publishedQuantity) - d.now,
    }))
    .filter((d) => d.units > 0);
  if (held.length === 0) return 0;
  const result = await applyLedgerEvent({
    shopId: held[0]!.listing.shopId,
    actor: "channel:level-drop",
    receivedAt: held[0]!.observedAt,
    operations: held.map((d) => ({
      type: "hold" as const,
      key: `hold/${d.listing.id}/${d.observedAt.toISOString()}`,
      listingId: d.listing.id,
      change: {
        kind: "add" as const,
        units: d.units,
        shown: d.now!,
        observedAt: d.observedAt.toISOString(),
        expiresAt: new Date(d.observedAt.getTime() + env().PUSH_SETTLE_MS).toISOString(),
        settlesRead: d.settlesRead,
        answerOf: d.answerOf && { ...d.answerOf, sentAt: d.answerOf.sentAt.toISOString() },
      },
    })),
  });
  if (debugEnabled())
    for (const d of held)
      log({ connectionId: connection.id }).debug(
        { listingId: d.listing.id, before: d.before, now: d.now, units: d.units },
        "channel drop held",
      );
  const others = result.changedListings
    .map((l) => l.connectionId)
    .filter((id) => id !== connection.id);
  await enqueueSafely("push", () => enqueuePushes(others));
  return held.reduce((n, d) => n + d.units, 0);
}

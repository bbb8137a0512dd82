/**
 * A channel showing fewer units than StockGuard publishes for it, and than it showed before, has
 * most likely sold them and its order has not reached the ledger yet (its webhook may be delayed
 * or retried for minutes). Seen by a level update or by a read (a compare-and-set write found
 * the channel changed), those units are held at once — a provisional hold, not a ledger fact —
 * so every other channel is lowered now instead of when the order arrives. The order consumes the
 * hold; if nothing explains it within PUSH_SETTLE_MS it is released and the channel corrected.
 */
import { env } from "../../env.server";
import { log } from "../../logger.server";
import { enqueuePushes, enqueueSafely } from "../../queues/jobs.server";
import { applyLedgerEvent } from "../ledger/apply-event.server";

export async function holdUnexplainedDrop(
  connection: { id: string },
  listing: { id: string; shopId: string; publishedQuantity: number },
  before: number | null,
  now: number | null,
  observedAt: Date,
): Promise<number> {
  if (now === null) return 0;
  // Against what StockGuard believed the channel showed (the apply step re-checks it under the
  // items' locks, where orders applied meanwhile have moved it).
  const units = (before ?? listing.publishedQuantity) - now;
  if (units <= 0) return 0;
  const result = await applyLedgerEvent({
    shopId: listing.shopId,
    actor: "channel:level-drop",
    receivedAt: observedAt,
    operations: [
      {
        type: "hold",
        key: `hold/${listing.id}/${observedAt.toISOString()}`,
        listingId: listing.id,
        change: {
          kind: "add",
          units,
          shown: now,
          observedAt: observedAt.toISOString(),
          expiresAt: new Date(observedAt.getTime() + env().PUSH_SETTLE_MS).toISOString(),
        },
      },
    ],
  });
  log({ connectionId: connection.id, listingId: listing.id }).debug(
    { before, now, units, changed: result.changedListings.length },
    "channel drop held",
  );
  const others = result.changedListings
    .map((l) => l.connectionId)
    .filter((id) => id !== connection.id);
  await enqueueSafely("push", () => enqueuePushes(others));
  return units;
}

/**
 * Level updates StockGuard must not take at face value. Every write to a channel comes back as a
 * level update (Shopify `inventory_levels/update`), and deliveries are delayed, retried and
 * reordered, while a level's time is only to the second:
 *
 * - the echo of an earlier write can arrive after a newer one. Its quantity then differs from
 *   what the channel shows now and looks like a sale there (a drop from the newer write) or a
 *   restock. A level update repeating a quantity StockGuard wrote at or after its time (less the
 *   slack) is that write's late echo;
 * - any level update stamped no later than our last write plus the slack cannot be placed before
 *   or after it: the level a sale left before our absolute write (superseded by it) delivered
 *   late, as well as a sale after it. A sales channel is read back instead before the next write
 *   (the read decides whether it sold); the source store's level is counted by its read.
 *
 * Taken at face value they made phantom provisional holds that lowered every channel, whose own
 * writes echoed in turn: 277 holds in an 8-second storm of 107 orders, SKUs driven to 0 with
 * stock left until the holds expired, sales reflected 12–20 s late at p95. A real sale that
 * happens to look like an echo is not lost: the read, or its order, accounts for it.
 */

/** One write: the quantity it left on the channel and when (ISO time). */
export type RecentWrite = { q: number; at: string };

/** How long writes are remembered, and how many at most. */
export const RECENT_WRITES_MS = 30_000;
export const RECENT_WRITES_KEPT = 8;

export function isLateEcho(
  observation: { quantity: number | null; at: Date; precise?: boolean },
  writes: readonly RecentWrite[],
  slackMs: number,
): boolean {
  if (observation.quantity === null || observation.precise) return false;
  const earliest = observation.at.getTime() - slackMs;
  return writes.some((w) => w.q === observation.quantity && new Date(w.at).getTime() >= earliest);
}

/** Whether an observation cannot be ordered against our last write (see above). */
export function unordered(
  observation: { at: Date; precise?: boolean },
  lastWriteAt: Date | null,
  slackMs: number,
): boolean {
  return (
    !observation.precise &&
    lastWriteAt !== null &&
    observation.at.getTime() <= lastWriteAt.getTime() + slackMs
  );
}

/** The writes to remember after writing `values` (in order) at `at` (one entry per quantity). */
export function rememberWrites(
  writes: readonly RecentWrite[],
  values: readonly number[],
  at: Date,
): RecentWrite[] {
  const since = at.getTime() - RECENT_WRITES_MS;
  const added = new Set(values);
  const kept = writes.filter((w) => new Date(w.at).getTime() > since && !added.has(w.q));
  return [...kept, ...[...added].map((q) => ({ q, at: at.toISOString() }))].slice(
    -RECENT_WRITES_KEPT,
  );
}

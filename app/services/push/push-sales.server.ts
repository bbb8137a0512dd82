/**
 * Push to a store or marketplace that sells the hub's stock: read the current published
 * quantity of dirty listings (jobs carry keys only), plan, write absolute numbers (with
 * compare-and-set where the channel has it), and on a stale expectation re-read and recompute —
 * never overwrite blindly. Where the channel takes changes (`relativeWrites`, PUSH_WRITES) a
 * listing StockGuard is sure of is sent the change from what it shows instead: the store keeps a
 * sale it makes meanwhile, and the answer says what it shows after (decision 0014). Writes a
 * channel only accepts (queued) are recorded as pending and
 * confirmed later; a listing the channel throttles stays dirty for a deferred run; channels with
 * a daily revision budget are paced so a hot listing never exceeds it.
 */
import { randomUUID } from "node:crypto";
import { ChannelReadsThrottledError, ChannelThrottledError } from "../../channels/errors";
import type {
  ChannelAdapter,
  ConnectionContext,
  QuantityWrite,
  RemoteQuantity,
  RemoteRef,
  WriteResult,
} from "../../channels/channel-adapter";
import { rememberWrites } from "../../domain/echoes";
import { planSalesWrites, showsPublished, type SalesPlan } from "../../domain/plan";
import { calendarDay, revisionDecision } from "../../domain/revisions";
import { env } from "../../env.server";
import { log } from "../../logger.server";
import { enqueueConfirmWrites, enqueueSafely } from "../../queues/jobs.server";
import * as listings from "../../repositories/listings.server";
import { holdUnexplainedDrops, type ChannelDrop } from "../ingest/drops.server";
import { pushMetrics } from "./metrics.server";

export type PushOutcome = {
  wrote: number;
  upToDate: number;
  stale: number;
  rejected: number;
  deferredUntil: Date | null;
  more: boolean;
};

export const BATCH = 250;
/** First look at an accepted write (Amazon applies a patch within seconds to minutes). */
export const CONFIRM_AFTER_MS = 2_000;
/** Revisions kept for drops to zero under a daily budget. */
const REVISION_RESERVE = 10;

export async function pushSalesConnection(
  conn: ConnectionContext,
  adapter: ChannelAdapter,
  options: { now?: () => Date } = {},
): Promise<PushOutcome> {
  const now = options.now ?? (() => new Date());
  const outcome: PushOutcome = {
    wrote: 0,
    upToDate: 0,
    stale: 0,
    rejected: 0,
    deferredUntil: null,
    more: false,
  };
  const logger = log({ connectionId: conn.id, shop: conn.accountRef });
  const relative = adapter.capabilities.relativeWrites && env().PUSH_WRITES === "relative";
  /** This push's claim on the listings it sends changes to. */
  const token = randomUUID();

  for (let round = 0; round < 4; round++) {
    let dirty = await listings.dirtyListings(conn.id, BATCH);
    if (dirty.length === 0) return outcome;
    // The channel may have changed on its own (its own cancel, a rise reported late). Only a
    // listing that would be left alone must be read first: any other is written anyway, and an
    // absolute write (compare-and-set or not) settles what it shows.
    const unsure = (l: listings.DirtyListing) =>
      l.needsRead && showsPublished(l.remoteQuantity, l.publishedQuantity);
    if (dirty.some(unsure)) {
      let readThrottled = false;
      try {
        await readBack(conn, adapter, dirty.filter(unsure), now);
      } catch (error) {
        if (!(error instanceof ChannelThrottledError)) throw error;
        // Writes do not wait for reads: those still unread stay dirty and are looked at again
        // (what was read before the budget ran out is recorded).
        const until = new Date(now().getTime() + Math.max(50, error.retryAfterMs));
        if (!outcome.deferredUntil || until < outcome.deferredUntil) outcome.deferredUntil = until;
        readThrottled = true;
      }
      const again = new Set(dirty.map((l) => l.id));
      dirty = (await listings.dirtyListings(conn.id, BATCH)).filter(
        (l) => again.has(l.id) && !(readThrottled && unsure(l)),
      );
      if (dirty.length === 0) return outcome;
    }
    const byId = new Map(dirty.map((l) => [l.id, l]));
    const plan = planSalesWrites(
      dirty.map((l) => ({
        listingId: l.id,
        published: l.publishedQuantity,
        remoteQuantity: l.remoteQuantity,
      })),
    );
    if (logger.isLevelEnabled("debug"))
      logger.debug(
        {
          round,
          listings: dirty.map((l) => ({
            sku: l.sku,
            published: l.publishedQuantity,
            remote: l.remoteQuantity,
            needsRead: l.needsRead,
          })),
        },
        "push planned",
      );
    const budgetDeferred = await applyRevisionBudget(adapter, plan, byId, now());
    for (const d of budgetDeferred) {
      if (!outcome.deferredUntil || d < outcome.deferredUntil) outcome.deferredUntil = d;
    }

    const at = now();
    await listings.recordPushedBatch(
      conn.id,
      plan.upToDate.map((id) => {
        const l = byId.get(id)!;
        pushMetrics.observeLatency(conn.kind, l.dirtySince, at);
        return {
          listingId: id,
          version: l.publishedVersion,
          quantity: l.publishedQuantity,
          wrote: false,
          receiptIds: l.pendingReceiptIds,
        };
      }),
      at,
    );
    outcome.upToDate += plan.upToDate.length;
    if (plan.writes.length === 0) {
      outcome.more = dirty.length === BATCH && budgetDeferred.length < dirty.length;
      return outcome;
    }

    const sentAt = now();
    const intended = new Map(
      plan.writes.map((w) => [
        w.listingId,
        rememberWrites(byId.get(w.listingId)!.recentWrites, [w.quantity], sentAt),
      ]),
    );
    // A change is sent only to a listing this push claims, and nothing to one another push's
    // change is still on its way to: two pushes of the connection at once (its lock lost with
    // Redis), or one killed between its call and its record, must not land a unit twice — the
    // idempotency key is the batch's, and another batch holding the same listing has another.
    const { changes, busy } = await listings.rememberIntendedWrites(
      [...intended].map(([listingId, recentWrites]) => ({
        listingId,
        recentWrites,
        change: relative && !byId.get(listingId)!.needsRead,
      })),
      token,
      sentAt,
    );
    for (const since of busy.values()) {
      const until = new Date(since.getTime() + listings.CHANGE_IN_FLIGHT_MS);
      if (!outcome.deferredUntil || until < outcome.deferredUntil) outcome.deferredUntil = until;
    }
    plan.writes = plan.writes.filter((w) => !busy.has(w.listingId));
    if (plan.writes.length === 0) {
      outcome.more = dirty.length === BATCH && budgetDeferred.length + busy.size < dirty.length;
      return outcome;
    }
    const writes: QuantityWrite[] = plan.writes.map((w) => {
      const l = byId.get(w.listingId)!;
      return {
        listingId: l.id,
        remoteRef: l.remoteRef,
        remoteLocationRef: l.remoteLocationRef,
        sku: l.sku,
        quantity: w.quantity,
        expected: adapter.capabilities.compareAndSet ? w.expected : null,
        relative: changes.has(l.id),
      };
    });
    const version = plan.writes
      .map((w) => `${w.listingId}:${byId.get(w.listingId)!.publishedVersion}`)
      .join(",");
    const planned = new Map(plan.writes.map((w) => [w.listingId, w.quantity]));
    const sent = new Map(writes.map((w) => [w.listingId, w]));
    const writeStart = Date.now();
    let results: WriteResult[];
    try {
      results = await adapter.writeQuantities(conn, writes, version);
    } catch (error) {
      // Refused before anything was applied: the changes are free again. Any other failure may
      // have landed them: their claims stay until answered by a compare-and-set.
      if (error instanceof ChannelThrottledError)
        await listings.releaseChanges(token, [...changes]);
      throw error;
    }
    if (logger.isLevelEnabled("debug")) {
      const resultOf = new Map(results.map((r) => [r.listingId, r]));
      logger.debug(
        {
          round,
          ms: Date.now() - writeStart,
          writes: writes.map((w) => {
            const r = resultOf.get(w.listingId);
            return {
              sku: w.sku,
              quantity: w.quantity,
              expected: w.expected,
              relative: w.relative,
              state: r?.state,
              // What a change left the channel showing (≠ quantity: it moved meanwhile).
              after: r?.state === "applied" ? r.quantity : undefined,
            };
          }),
        },
        "write call",
      );
    }
    pushMetrics.writes(conn.kind, writes.length);

    const stale: string[] = [];
    const written = now();
    const applied: Parameters<typeof listings.recordPushedBatch>[1] = [];
    const pending: Parameters<typeof listings.recordPending>[0] = [];
    const drops: ChannelDrop[] = [];
    let moved = 0;
    for (const r of results) {
      const l = byId.get(r.listingId)!;
      if (r.state === "applied") {
        // A change from the expectation that lands elsewhere than planned: the store moved
        // meanwhile (what it showed just before is the answer less the change). A drop is its
        // own sale on its way, held as a read would hold it; either way the listing stays dirty
        // and is planned again from what the store shows now — no read needed.
        const write = sent.get(l.id)!;
        const shift = write.relative ? r.quantity - write.quantity : 0;
        if (shift < 0)
          drops.push({
            listing: { id: l.id, shopId: conn.shopId, publishedQuantity: l.publishedQuantity },
            before: write.expected,
            now: write.expected! + shift,
            observedAt: written,
            answerOf: { expected: write.expected!, intended: write.quantity, sentAt },
          });
        if (shift !== 0) moved++;
        applied.push({
          listingId: l.id,
          version: shift === 0 ? l.publishedVersion : 0,
          quantity: r.quantity,
          wrote: true,
          receiptIds: l.pendingReceiptIds,
          // The intent is remembered already; a channel that applied another number adds it.
          recentWrites: rememberWrites(
            intended.get(l.id) ?? l.recentWrites,
            planned.get(l.id) === r.quantity ? [] : [r.quantity],
            written,
          ),
          // What the store showed when the change landed, as the model had it when planned: the
          // store's own sales the model followed meanwhile beyond the ones the answer reveals
          // (shift) came after the change and stay taken off.
          ...(write.relative && shift <= 0 && l.remoteQuantity !== null
            ? { plannedFrom: { quantity: l.remoteQuantity + shift, seenAt: l.remoteObservedAt } }
            : {}),
          compared: !write.relative && write.expected !== null,
        });
        if (shift === 0) pushMetrics.observeLatency(conn.kind, l.dirtySince, written);
        outcome.wrote++;
      } else if (r.state === "pending") {
        // Queued by the channel: written once confirmed (confirm-writes), until then pending.
        pending.push({
          listingId: l.id,
          version: l.publishedVersion,
          quantity: r.quantity,
          trackingId: r.trackingId,
        });
        outcome.wrote++;
      } else if (r.state === "throttled") {
        // Not written: the listing stays dirty and the connection is looked at again then.
        const until = new Date(written.getTime() + Math.max(50, r.retryAfterMs));
        if (!outcome.deferredUntil || until < outcome.deferredUntil) outcome.deferredUntil = until;
        pushMetrics.failure(conn.kind, "throttled");
      } else if (r.state === "stale") {
        stale.push(l.id);
      } else if (r.state === "rejected") {
        outcome.rejected++;
        logger.warn({ listingId: l.id, code: r.code, reason: r.message }, "write rejected");
        await listings.recordListingFailure({
          shopId: conn.shopId,
          connectionId: conn.id,
          listingId: l.id,
          kind: "write_rejected",
          reason: `${r.code ?? "rejected"}: ${r.message}`,
          permanent: !r.retryable,
        });
        pushMetrics.failure(conn.kind, "write_rejected");
      }
    }
    // Held before the answers are recorded: the hold weighs each drop against the model it had.
    await holdUnexplainedDrops(conn, drops);
    await listings.recordPushedBatch(conn.id, applied, written, {
      offKeepsDirty: true,
      changeToken: token,
    });
    // Changes refused or throttled were not applied: free again.
    const answered = new Set(applied.map((r) => r.listingId));
    await listings.releaseChanges(
      token,
      [...changes].filter((id) => !answered.has(id)),
    );
    await listings.recordPending(pending, written);
    if (pending.length > 0)
      await enqueueSafely("confirm", () => enqueueConfirmWrites(conn.id, CONFIRM_AFTER_MS));
    if (adapter.capabilities.dailyRevisionsPerListing !== null) {
      const day = calendarDay(written, adapter.capabilities.revisionDayTimeZone).day;
      await listings.countRevisions(
        [...applied, ...pending].map((r) => r.listingId),
        day,
      );
    }
    outcome.stale += moved;
    if (stale.length === 0) {
      outcome.more = dirty.length === BATCH;
      if (!outcome.more && moved === 0) return outcome;
      continue;
    }
    // Someone else changed the channel (a sale there, an edit): read what it shows now and plan
    // again from that.
    outcome.stale += stale.length;
    const readStart = Date.now();
    await readBack(
      conn,
      adapter,
      stale.map((id) => byId.get(id)!),
      now,
    );
    if (logger.isLevelEnabled("debug"))
      logger.debug(
        { round, stale: stale.map((id) => byId.get(id)!.sku), ms: Date.now() - readStart },
        "stale writes read back",
      );
  }
  outcome.more = true;
  return outcome;
}

/** What the channel shows now for each of `rows` (undefined: it did not answer for that one). */
export async function readEach<T extends RemoteRef>(
  conn: ConnectionContext,
  adapter: ChannelAdapter,
  rows: readonly T[],
): Promise<[T, RemoteQuantity | undefined][]> {
  const reads = await adapter.readQuantities(
    conn,
    rows.map((l) => ({ remoteRef: l.remoteRef, remoteLocationRef: l.remoteLocationRef })),
  );
  return pairReads(rows, reads);
}

function pairReads<T extends RemoteRef>(
  rows: readonly T[],
  reads: readonly RemoteQuantity[],
): [T, RemoteQuantity | undefined][] {
  return rows.map((l) => [
    l,
    reads.find((x) => x.remoteRef === l.remoteRef && x.remoteLocationRef === l.remoteLocationRef),
  ]);
}

/**
 * Reads what the channel shows now for `rows` and records it. A channel lower than StockGuard
 * believed sold on its own (its order is on its way): those units are held so the other channels
 * are lowered now.
 */
async function readBack(
  conn: ConnectionContext,
  adapter: ChannelAdapter,
  rows: listings.DirtyListing[],
  now: () => Date,
): Promise<void> {
  let answered: [listings.DirtyListing, RemoteQuantity | undefined][];
  let throttled: ChannelReadsThrottledError | null = null;
  try {
    answered = await readEach(conn, adapter, rows);
  } catch (error) {
    if (!(error instanceof ChannelReadsThrottledError)) throw error;
    // The budget ran out part-way: what was read counts, the rest stays owed a read.
    answered = pairReads(rows, error.partial).filter(([, read]) => read !== undefined);
    throttled = error;
  }
  // Held against a model StockGuard is sure of, or one owed this read that still equals what
  // the listing publishes (a sale applied but not followed leaves it above: apply-holds
  // re-checks under the locks). One ledger event for every drop read.
  await holdUnexplainedDrops(
    conn,
    answered
      .filter(([l]) => !l.needsRead || showsPublished(l.remoteQuantity, l.publishedQuantity))
      .map(([l, read]) => ({
        listing: { id: l.id, shopId: conn.shopId, publishedQuantity: l.publishedQuantity },
        before: l.remoteQuantity,
        now: read?.quantity ?? null,
        observedAt: read?.observedAt ?? now(),
        settlesRead: l.needsRead,
      })),
  );
  await listings.recordRemoteBatch(
    answered.map(([l, read]) => ({
      listingId: l.id,
      quantity: read?.quantity ?? null,
      state: null,
      at: read?.observedAt ?? now(),
    })),
    "read",
  );
  await listings.clearNeedsRead(answered.map(([l]) => l.id));
  if (throttled) throw throttled;
}

/**
 * Channels with a daily revision budget (eBay): writes the budget does not allow now leave the
 * plan and stay dirty; returns when to look again.
 */
async function applyRevisionBudget(
  adapter: ChannelAdapter,
  plan: SalesPlan,
  byId: Map<string, listings.DirtyListing>,
  now: Date,
): Promise<Date[]> {
  const perDay = adapter.capabilities.dailyRevisionsPerListing;
  if (perDay === null || plan.writes.length === 0) return [];
  const { day, endsAt } = calendarDay(now, adapter.capabilities.revisionDayTimeZone);
  const used = await listings.revisionsUsed(
    plan.writes.map((w) => w.listingId),
    day,
  );
  const budget = {
    perDay,
    reserve: Math.min(REVISION_RESERVE, Math.floor(perDay / 10)),
    minIntervalMs: env().PUSH_COALESCE_MS,
  };
  const retries: Date[] = [];
  plan.writes = plan.writes.filter((w) => {
    const decision = revisionDecision({
      budget,
      used: used.get(w.listingId) ?? 0,
      target: w.quantity,
      lastWriteAt: byId.get(w.listingId)?.lastPushedAt ?? null,
      now,
      dayEndsAt: endsAt,
    });
    if (!decision.write) retries.push(decision.retryAt);
    return decision.write;
  });
  return retries;
}

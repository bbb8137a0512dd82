/**
 * The push to the source store (`pushSourceConnection`, run by the push job for a source
 * connection): outbox deltas first, then moves between `available` and the states StockGuard
 * owns, so the storefront offers the published quantity while on_hand stays physical.
 */
import { randomUUID } from "node:crypto";
import type {
  ChannelAdapter,
  ConnectionContext,
  SourceStorePort,
  StateAdjustment,
  StateMove,
} from "../../channels/channel-adapter";
import { ChannelPermanentError } from "../../channels/errors";
import { rememberWrites, type RecentWrite } from "../../domain/echoes";
import {
  OWNED_STATES,
  sourceTargets,
  stateMoves,
  type OwnedState,
  type StateMap,
} from "../../domain/plan";
import { log } from "../../logger.server";
import * as listings from "../../repositories/listings.server";
import * as outbox from "../../repositories/outbox.server";
import { scheduleSourceRead } from "../ingest/read-source-levels.server";
import { pushMetrics } from "./metrics.server";
import { BATCH, readEach, type PushOutcome } from "./push-sales.server";

type Work = {
  listing: listings.DirtyListing;
  level: listings.SourceLevel;
  remote: Record<string, number>;
  wrote: boolean;
  /** Every `available` our calls left at this level, in order (each comes back as an echo). */
  shown: number[];
  /** The recent writes remembered before the calls (see `rememberIntendedWrites`). */
  intended?: RecentWrite[];
  /** A call's answer showed the level changed by something else: the counting read looks. */
  changedUnderUs?: boolean;
};

/**
 * Push to the source store, where the physical stock is. Its storefront must offer exactly the
 * published quantity while on_hand keeps matching the shelf, so nothing here sets `available`:
 *
 * 1. physical changes Shopify has not seen (the outbox: a marketplace shipment leaves
 *    `reserved`, a marketplace return enters `quality_control`) are written as deltas, each
 *    exactly once, with compare-and-set on the state;
 * 2. units are then moved between `available` and the states StockGuard owns (reserved,
 *    quality_control, damaged, safety_stock) until they match the projection
 *    (docs/decisions/0003-buffers-on-the-source-store.md). Moves leave on_hand alone, and the
 *    `available` side opts out of compare-and-set so the store's own concurrent sales compose.
 *
 * A stale expectation means someone else changed an owned state: re-read and recompute.
 */
export async function pushSourceConnection(
  conn: ConnectionContext,
  adapter: ChannelAdapter,
  options: { now?: () => Date },
): Promise<PushOutcome> {
  const store = adapter.source;
  if (!store) throw new ChannelPermanentError(`${conn.kind} cannot be a source store`);
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

  for (let round = 0; round < 6; round++) {
    const dirty = (await listings.dirtyListings(conn.id, BATCH)).filter(
      (l) => l.itemId && l.sourceLocationId,
    );
    if (dirty.length === 0) return outcome;

    const unknown = dirty.filter((l) => !l.remoteState);
    if (unknown.length > 0) await refresh(conn, adapter, unknown, now);
    const fresh =
      unknown.length > 0
        ? (await listings.dirtyListings(conn.id, BATCH)).filter(
            (l) => l.itemId && l.sourceLocationId,
          )
        : dirty;

    const levels = await listings.sourceLevels(
      conn.id,
      fresh.map((l) => ({ itemId: l.itemId!, locationId: l.sourceLocationId! })),
    );
    const work: Work[] = [];
    for (const listing of fresh) {
      const level = levels.find(
        (v) => v.itemId === listing.itemId && v.locationId === listing.sourceLocationId,
      );
      if (!level) {
        await listings.recordPushed({
          listingId: listing.id,
          connectionId: conn.id,
          version: listing.publishedVersion,
          quantity: listing.remoteQuantity ?? 0,
          wrote: false,
          at: now(),
          receiptIds: listing.pendingReceiptIds,
        });
        continue;
      }
      work.push({
        listing,
        level,
        remote: { ...(listing.remoteState ?? {}) },
        wrote: false,
        shown: [],
      });
    }

    // 1. The outbox. A unit leaving (negative delta) is taken from `available`: it may not have
    //    reached `reserved` yet, and the projection below moves the owned states to their
    //    targets anyway, so the end state is the same and no state is ever driven negative.
    //    Deltas compose, so no compare-and-set: a batch's parameters depend only on its rows,
    //    and the batch key stored with them makes any resend exactly-once at Shopify.
    let stale = false;
    for (const batch of await outbox.unconfirmedBatches(conn.id)) {
      const result = await store.adjust(
        conn,
        batch.stateName,
        batch.changes.map((c) => ({
          inventoryItemId: c.remoteRef,
          locationId: c.remoteLocationRef,
          name: batch.stateName,
          delta: c.delta,
          expected: null,
          ledgerDocumentUri: `gid://stockguard/Movement/${c.firstId}`,
        })),
        batch.batchKey,
        batch.reason,
      );
      if (!result.ok)
        throw new ChannelPermanentError(
          `resending outbox batch ${batch.batchKey} was rejected: ${describe(result.errors)}`,
        );
      await outbox.markAdjustmentsWritten(batch.ids);
      // The levels these rows touched are re-read below if they are in this round's work.
      for (const w of work) {
        const mine = w.level.pending.filter((p) => batch.ids.some((id) => id.toString() === p.id));
        if (mine.length === 0) continue;
        w.level.pending = w.level.pending.filter((p) => !mine.includes(p));
        const delta = mine.reduce((sum, p) => sum + p.delta, 0);
        w.remote[batch.stateName] = (w.remote[batch.stateName] ?? 0) + delta;
        w.remote.on_hand = (w.remote.on_hand ?? 0) + delta;
        applyAfter(store, w, result.after);
        w.wrote = true;
        w.shown.push(w.remote.available ?? 0);
      }
    }
    // One call per state and reason (a cycle count's corrections carry Shopify's own reason).
    const stateOf = (p: listings.SourceLevel["pending"][number]) =>
      p.delta < 0 ? "available" : p.stateName;
    const groups: [string, string | null][] = [];
    for (const name of ["quality_control", "damaged", "reserved", "available"]) {
      const reasons = new Set(
        work.flatMap((w) =>
          w.level.pending
            .filter((p) => p.status === "pending" && stateOf(p) === name)
            .map((p) => p.reason ?? null),
        ),
      );
      for (const reason of reasons) groups.push([name, reason]);
    }
    for (const [name, reason] of groups) {
      const changes: (StateAdjustment & { ids: bigint[]; w: Work })[] = [];
      for (const w of work) {
        const pending = w.level.pending.filter(
          (p) => p.status === "pending" && stateOf(p) === name && (p.reason ?? null) === reason,
        );
        if (pending.length === 0) continue;
        const delta = pending.reduce((sum, p) => sum + p.delta, 0);
        const ids = pending.map((p) => BigInt(p.id));
        if (delta === 0) {
          await outbox.markAdjustmentsWritten(ids);
          continue;
        }
        changes.push({
          inventoryItemId: w.listing.remoteRef,
          locationId: w.listing.remoteLocationRef,
          name,
          delta,
          expected: null,
          ledgerDocumentUri: `gid://stockguard/Movement/${pending[0]!.id}`,
          ids,
          w,
        });
      }
      for (let i = 0; i < changes.length; i += BATCH) {
        const chunk = changes.slice(i, i + BATCH);
        const batchKey = randomUUID();
        const claimed = await outbox.claimAdjustments(
          chunk.flatMap((c) => c.ids),
          batchKey,
        );
        if (claimed.length !== chunk.flatMap((c) => c.ids).length) {
          // Another push took some of these rows; plan again from the database.
          stale = true;
          break;
        }
        const result = await store.adjust(conn, name, chunk, batchKey, reason);
        if (!result.ok) {
          await outbox.markAdjustmentsFailed(
            chunk.flatMap((c) => c.ids),
            describe(result.errors),
          );
          throw new ChannelPermanentError(
            `adjusting ${name} was rejected: ${describe(result.errors)}`,
          );
        }
        await outbox.markAdjustmentsWritten(chunk.flatMap((c) => c.ids));
        pushMetrics.writes(conn.kind, chunk.length);
        for (const c of chunk) {
          c.w.remote[name] = (c.w.remote[name] ?? 0) + c.delta;
          c.w.remote.on_hand = (c.w.remote.on_hand ?? 0) + c.delta;
          applyAfter(store, c.w, result.after);
          c.w.wrote = true;
          c.w.shown.push(c.w.remote.available ?? 0);
        }
      }
      if (stale) break;
    }

    // 2. Projection moves, one state per level per call.
    if (!stale) {
      const queue = new Map<Work, { state: OwnedState; diff: number }[]>();
      for (const w of work) {
        const targets = sourceTargets(w.level, w.level.committedOther, w.listing.publishedQuantity);
        const moves = stateMoves(targets, owned(w.remote));
        if (moves.length > 0) queue.set(w, moves);
      }
      while (queue.size > 0 && !stale) {
        const batch: { w: Work; move: StateMove; diff: number; state: OwnedState }[] = [];
        for (const [w, moves] of queue) {
          const next = moves.shift()!;
          if (moves.length === 0) queue.delete(w);
          batch.push({
            w,
            diff: next.diff,
            state: next.state,
            move: {
              inventoryItemId: w.listing.remoteRef,
              locationId: w.listing.remoteLocationRef,
              quantity: Math.abs(next.diff),
              from: next.diff > 0 ? "available" : next.state,
              to: next.diff > 0 ? next.state : "available",
              ownedState: next.state,
              ownedExpected: w.remote[next.state] ?? 0,
            },
          });
          if (batch.length === BATCH) break;
        }
        // Each move comes back as a level update: remembered before the call (domain/echoes.ts).
        const predicted = new Map<Work, number>();
        for (const b of batch)
          predicted.set(b.w, (predicted.get(b.w) ?? b.w.remote.available ?? 0) - b.diff);
        await listings.rememberIntendedWrites(
          [...predicted].map(([w, value]) => {
            w.intended = rememberWrites(w.intended ?? w.listing.recentWrites, [value], now());
            return { listingId: w.listing.id, recentWrites: w.intended };
          }),
        );
        const result = await store.move(
          conn,
          batch.map((b) => b.move),
          batch.flatMap((b) => [
            b.w.listing.id,
            b.w.listing.publishedVersion,
            b.state,
            b.diff,
            b.move.ownedExpected,
          ]),
        );
        if (!result.ok) {
          if (result.stale) {
            stale = true;
            break;
          }
          throw new ChannelPermanentError(
            `moving quantities was rejected: ${result.errors.map((e) => `${e.code}: ${e.message}`).join("; ")}`,
          );
        }
        pushMetrics.writes(conn.kind, batch.length);
        for (const b of batch) {
          b.w.remote[b.state] = (b.w.remote[b.state] ?? 0) + b.diff;
          b.w.remote.available = (b.w.remote.available ?? 0) - b.diff;
          applyAfter(store, b.w, result.after);
          b.w.wrote = true;
          b.w.shown.push(b.w.remote.available ?? 0);
          // The store's own answer differs from our model moved by this call: something else
          // changed the level (a sale, a receipt its level update may look like our echo).
          if (b.w.remote.available !== predicted.get(b.w)) b.w.changedUnderUs = true;
        }
      }
    }

    if (stale) {
      outcome.stale++;
      logger.info("source store changed under us; re-reading levels");
      await refresh(
        conn,
        adapter,
        work.map((w) => w.listing),
        now,
      );
      continue;
    }

    const at = now();
    await listings.recordPushedBatch(
      conn.id,
      work.map((w) => {
        pushMetrics.observeLatency(conn.kind, w.listing.dirtySince, at);
        if (w.wrote) outcome.wrote++;
        else outcome.upToDate++;
        return {
          listingId: w.listing.id,
          version: w.listing.publishedVersion,
          quantity: w.remote.available ?? w.listing.publishedQuantity,
          wrote: w.wrote,
          receiptIds: w.listing.pendingReceiptIds,
          remoteState: w.remote,
          ...(w.wrote
            ? { recentWrites: rememberWrites(w.intended ?? w.listing.recentWrites, w.shown, at) }
            : {}),
        };
      }),
      at,
    );
    const changed = work.filter((w) => w.changedUnderUs).map((w) => w.listing.id);
    if (changed.length > 0) {
      await listings.flagForSourceRead(changed);
      await scheduleSourceRead(conn.id);
    }
    if (dirty.length < BATCH) return outcome;
  }
  outcome.more = true;
  return outcome;
}

function describe(errors: { code: string | null; message: string }[]): string {
  return errors.map((e) => `${e.code}: ${e.message}`).join("; ");
}

function owned(remote: Record<string, number>): StateMap {
  return Object.fromEntries(OWNED_STATES.map((s) => [s, remote[s] ?? 0])) as StateMap;
}

function applyAfter(store: SourceStorePort, w: Work, after: Map<string, number>): void {
  for (const name of ["available", "on_hand", ...OWNED_STATES]) {
    const value = after.get(store.levelKey(w.listing.remoteRef, w.listing.remoteLocationRef, name));
    if (value !== undefined) w.remote[name] = value;
  }
}

async function refresh(
  conn: ConnectionContext,
  adapter: ChannelAdapter,
  stale: listings.DirtyListing[],
  now: () => Date,
): Promise<void> {
  const reads = await readEach(conn, adapter, stale);
  await listings.recordRemotes(
    reads.map(([l, read]) => ({
      listingId: l.id,
      quantity: read?.quantity ?? null,
      state: read?.states ?? {},
      source: "read" as const,
      at: read?.observedAt ?? now(),
    })),
  );
}

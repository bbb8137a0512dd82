/**
 * Push to a store or marketplace that sells the hub's stock: read the current published
 * quantity of dirty listings (jobs carry keys only), plan, write absolute numbers (with
 * compare-and-set where the channel has it), and on a stale expectation re-read and recompute —
 * never overwrite blindly.
 */
import type {
  ChannelAdapter,
  ConnectionContext,
  QuantityWrite,
} from "../../channels/channel-adapter";
import { planSalesWrites } from "../../domain/plan";
import { log } from "../../logger.server";
import * as listings from "../../repositories/listings.server";
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

export async function pushSalesConnection(
  conn: ConnectionContext,
  adapter: ChannelAdapter,
  options: { now?: () => Date; settleMs: number },
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

  for (let round = 0; round < 4; round++) {
    const dirty = await listings.dirtyListings(conn.id, BATCH);
    if (dirty.length === 0) return outcome;
    const byId = new Map(dirty.map((l) => [l.id, l]));
    const plan = planSalesWrites(
      dirty.map((l) => ({
        listingId: l.id,
        published: l.publishedQuantity,
        pushedQuantity: l.pushedQuantity,
        remoteQuantity: l.remoteQuantity,
        remoteSource: l.remoteSource,
        remoteObservedAt: l.remoteObservedAt,
      })),
      now(),
      options.settleMs,
    );

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
    for (const d of plan.deferred) {
      if (!outcome.deferredUntil || d.until < outcome.deferredUntil)
        outcome.deferredUntil = d.until;
    }
    if (plan.writes.length === 0) {
      outcome.more = dirty.length === BATCH && plan.deferred.length < dirty.length;
      return outcome;
    }

    const writes: QuantityWrite[] = plan.writes.map((w) => {
      const l = byId.get(w.listingId)!;
      return {
        listingId: l.id,
        remoteRef: l.remoteRef,
        remoteLocationRef: l.remoteLocationRef,
        quantity: w.quantity,
        expected: w.expected,
      };
    });
    const version = plan.writes
      .map((w) => `${w.listingId}:${byId.get(w.listingId)!.publishedVersion}`)
      .join(",");
    const results = await adapter.writeQuantities(conn, writes, version);
    pushMetrics.writes(conn.kind, writes.length);

    const stale: string[] = [];
    const written = now();
    const applied: Parameters<typeof listings.recordPushedBatch>[1] = [];
    for (const r of results) {
      const l = byId.get(r.listingId)!;
      if (r.state === "applied") {
        applied.push({
          listingId: l.id,
          version: l.publishedVersion,
          quantity: r.quantity,
          wrote: true,
          receiptIds: l.pendingReceiptIds,
        });
        pushMetrics.observeLatency(conn.kind, l.dirtySince, written);
        outcome.wrote++;
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
    await listings.recordPushedBatch(conn.id, applied, written);
    if (stale.length === 0) {
      outcome.more = dirty.length === BATCH;
      if (!outcome.more) return outcome;
      continue;
    }
    // Someone else changed the channel (a sale there, an edit): read what it shows now and plan
    // again from that.
    outcome.stale += stale.length;
    const reads = await adapter.readQuantities(
      conn,
      stale.map((id) => ({
        remoteRef: byId.get(id)!.remoteRef,
        remoteLocationRef: byId.get(id)!.remoteLocationRef,
      })),
    );
    for (const id of stale) {
      const l = byId.get(id)!;
      const read = reads.find(
        (x) => x.remoteRef === l.remoteRef && x.remoteLocationRef === l.remoteLocationRef,
      );
      await listings.recordRemote({
        listingId: id,
        quantity: read?.quantity ?? null,
        source: "read",
        at: read?.observedAt ?? now(),
      });
    }
  }
  outcome.more = true;
  return outcome;
}

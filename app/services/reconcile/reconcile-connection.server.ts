/**
 * Reconciliation: read what the channel shows for every listing, compare it with what should be
 * published, record each difference with its likely cause, and repair it through the normal push
 * (compare-and-set where the channel has it, coalesced). On the source store the physical on_hand
 * is compared with the ledger too (a count through the same path as a webhook-triggered read).
 */
import { adapterFor } from "../../channels/registry.server";
import { log } from "../../logger.server";
import { enqueuePush, enqueueSafely } from "../../queues/jobs.server";
import * as connections from "../../repositories/connections.server";
import * as listings from "../../repositories/listings.server";
import { webhookUrl } from "../connect-marketplace.server";
import { holdUnexplainedDrop } from "../ingest/drops.server";
import { readSourceLevels } from "../ingest/read-source-levels.server";
import { isFlowDrift, recordDriftTrigger } from "../flow/triggers.server";

export type ReconcileSummary = {
  listings: number;
  drift: number;
  repaired: number;
  skipped?: string;
};

const PAGE = 250;

export async function reconcileConnection(
  connectionId: string,
  reason: string,
): Promise<ReconcileSummary> {
  const row = await connections.loadConnection(connectionId);
  if (!row || row.shopStatus !== "active" || row.status !== "active")
    return { listings: 0, drift: 0, repaired: 0, skipped: "inactive" };
  const conn = connections.toContext(row);
  const adapter = adapterFor(row.kind);
  const logger = log({ shop: row.shopDomain, connectionId, reason });
  const summary: ReconcileSummary = { listings: 0, drift: 0, repaired: 0 };
  // The notifications this connection needs are there (recreated when someone deleted them).
  if (adapter.ensureSubscriptions) {
    try {
      const report = await adapter.ensureSubscriptions(conn, {
        callbackUrl: webhookUrl(row.kind, connectionId),
      });
      if (report.created.length > 0) {
        logger.warn({ created: report.created }, "missing webhook subscriptions recreated");
        await connections.recordConnectionFailure({
          shopId: row.shopId,
          connectionId,
          kind: "subscription_missing",
          reason: `webhook subscriptions were missing and have been recreated: ${report.created.join(", ")}`,
        });
      }
    } catch (error) {
      await connections.recordConnectionFailure({
        shopId: row.shopId,
        connectionId,
        kind: "subscription_failed",
        reason: `webhook subscriptions could not be checked: ${(error as Error).message}`,
      });
    }
  }
  let after = "00000000-0000-0000-0000-000000000000";
  for (;;) {
    const page = await listings.listingPage(connectionId, after, PAGE);
    if (page.length === 0) break;
    after = page[page.length - 1]!.id;
    summary.listings += page.length;
    const reads = await adapter.readQuantities(conn, page);
    const drifted: string[] = [];
    for (const l of page) {
      const read = reads.find(
        (r) => r.remoteRef === l.remoteRef && r.remoteLocationRef === l.remoteLocationRef,
      );
      if (!read) continue;
      // A sales channel lower than we believed has most likely sold units whose order is on its
      // way: held like a drop seen by a webhook (every channel lowered now, released unexplained).
      if (row.role === "sales" && l.remote !== null)
        await holdUnexplainedDrop(
          { id: connectionId },
          { id: l.id, shopId: row.shopId, publishedQuantity: l.published },
          l.remote,
          read.quantity,
          read.observedAt,
        );
      await listings.recordRemote({
        listingId: l.id,
        quantity: read.quantity,
        state: read.states,
        source: "read",
        at: read.observedAt,
      });
      if (read.quantity === l.published || l.dirty) continue;
      const cause =
        read.quantity === null
          ? "not_stocked_at_location"
          : l.pushed === null
            ? "never_written"
            : read.quantity === l.pushed
              ? "published_change_not_pushed"
              : "changed_on_channel";
      const driftId = await listings.recordDrift({
        shopId: row.shopId,
        connectionId,
        listingId: l.id,
        expected: l.published,
        observed: read.quantity ?? 0,
        cause,
        repaired: read.quantity !== null,
      });
      // Shopify Flow "Stock drift found", for drift StockGuard did not cause itself.
      if (isFlowDrift(cause))
        await recordDriftTrigger({
          driftId,
          shopId: row.shopId,
          connectionId,
          listingId: l.id,
          expected: l.published,
          observed: read.quantity ?? 0,
          cause,
        });
      if (read.quantity !== null) drifted.push(l.id);
      summary.drift++;
    }
    if (drifted.length > 0) {
      await listings.markDirty(drifted, new Date());
      summary.repaired += drifted.length;
    }
  }
  if (row.role === "source") {
    // Physical stock: every level goes through the same guarded comparison as a webhook read
    // (postponed while the store's own order events are in flight).
    await listings.flagAllForSourceRead(connectionId);
    await readSourceLevels(connectionId, 0);
  }
  await connections.markReconciled(connectionId);
  if (summary.repaired > 0) await enqueueSafely("push", () => enqueuePush(connectionId));
  if (summary.drift > 0) logger.warn(summary, "drift found and repaired");
  return summary;
}

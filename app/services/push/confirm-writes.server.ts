/**
 * Confirmation of writes a channel accepted but applies later (Amazon `ACCEPTED`, feeds): the
 * adapter reads them back (or checks the submission); confirmed ones become what the channel
 * shows (and their receipts get their trace), refused ones are recorded and rewritten with the
 * then-current value, and ones still unconfirmed after `GIVE_UP_MS` are written again.
 */
import { adapterFor } from "../../channels/registry.server";
import { log } from "../../logger.server";
import { enqueueConfirmWrites, enqueuePush, enqueueSafely } from "../../queues/jobs.server";
import * as connections from "../../repositories/connections.server";
import * as listings from "../../repositories/listings.server";
import { pushMetrics } from "./metrics.server";
import { pauseOnAuthError } from "./push-connection.server";

/** An accepted write not confirmed after this long is sent again with the current value. */
export const GIVE_UP_MS = 10 * 60_000;
const PAGE = 100;

export async function confirmWrites(
  connectionId: string,
  attempt: number,
  now: () => Date = () => new Date(),
): Promise<{ confirmed: number; refused: number; waiting: number; resent: number }> {
  const summary = { confirmed: 0, refused: 0, waiting: 0, resent: 0 };
  const row = await connections.loadConnection(connectionId);
  if (!row || row.shopStatus !== "active") return summary;
  const adapter = adapterFor(row.kind);
  const pending = await listings.pendingListings(connectionId, PAGE);
  if (pending.length === 0 || !adapter.confirmWrites) return summary;
  const conn = connections.toContext(row);
  let results: Awaited<ReturnType<NonNullable<typeof adapter.confirmWrites>>>;
  try {
    results = await adapter.confirmWrites(
      conn,
      pending.map((p) => ({
        listingId: p.id,
        remoteRef: p.remoteRef,
        remoteLocationRef: p.remoteLocationRef,
        sku: p.sku,
        trackingId: p.trackingId,
        quantity: p.quantity,
      })),
    );
  } catch (error) {
    await pauseOnAuthError(conn, adapter, error);
    throw error;
  }
  const at = now();
  const byId = new Map(pending.map((p) => [p.id, p]));
  const confirmed: {
    listingId: string;
    trackingId: string;
    quantity: number;
    source: "push" | "read";
  }[] = [];
  const abandon: { listingId: string; trackingId: string }[] = [];
  for (const r of results) {
    const p = byId.get(r.listingId);
    if (!p) continue;
    if (r.state === "applied") {
      // The write landed; a read-back showing another quantity saw the channel's own sales since.
      confirmed.push({
        listingId: p.id,
        trackingId: p.trackingId,
        quantity: r.quantity,
        source: r.quantity === p.quantity ? "push" : "read",
      });
      pushMetrics.observeLatency(conn.kind, p.since, at);
    } else if (r.state === "rejected") {
      abandon.push({ listingId: p.id, trackingId: p.trackingId });
      summary.refused++;
      await listings.recordListingFailure({
        shopId: conn.shopId,
        connectionId,
        listingId: p.id,
        kind: "write_rejected",
        reason: `${r.code ?? "rejected"} (after acceptance): ${r.message}`,
        permanent: !r.retryable,
      });
      pushMetrics.failure(conn.kind, "write_rejected");
    } else if (at.getTime() - p.since.getTime() > GIVE_UP_MS) {
      abandon.push({ listingId: p.id, trackingId: p.trackingId });
      summary.resent++;
    } else summary.waiting++;
  }
  const off = await listings.confirmPending(connectionId, confirmed, at);
  await listings.abandonPending(abandon, at);
  summary.confirmed = confirmed.length;
  if (abandon.length + off > 0) await enqueueSafely("push", () => enqueuePush(connectionId, 0));
  if (summary.waiting > 0 || pending.length === PAGE) {
    // Look again, less often the longer it takes (2 s, 4 s, … up to a minute).
    const delay = Math.min(60_000, 2_000 * 2 ** Math.min(attempt, 5));
    await enqueueSafely("confirm", () => enqueueConfirmWrites(connectionId, delay, attempt + 1));
  }
  if (summary.refused + summary.resent > 0)
    log({ connectionId, ...summary }).warn("accepted writes refused or never confirmed");
  return summary;
}

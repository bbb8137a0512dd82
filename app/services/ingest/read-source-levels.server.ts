import { db, sql } from "../../lib/sql.server";
import { log } from "../../logger.server";
import { enqueueMaintenance, enqueuePushes, enqueueSafely } from "../../queues/jobs.server";
import * as push from "../../repositories/push.server";
import { hasPendingReceipts } from "../../repositories/receipts.server";
import { shopifyAdapter, toContext } from "../channels.server";
import {
  applyLedgerEvent,
  type ItemOperation,
  type LineOperation,
} from "../ledger/apply-event.server";

/** After this many postponements a count is applied even if source orders still look in flight. */
export const MAX_POSTPONES = 5;
const POSTPONE_MS = 2_000;

export const OPENING_ORDER_ID = "opening";

/**
 * Reads the source store's flagged levels and turns a real change of physical stock into an
 * `on_hand_counted` movement. The comparison allows for our own outbox writes still on their way
 * (`pendingToSource`), and is postponed while the source's own order events are in flight
 * (Shopify's `committed` differs from the commitments we know of, or receipts are still
 * pending): a fulfillment seen by Shopify but not yet by us would otherwise be counted twice.
 */
export async function readSourceLevels(
  connectionId: string,
  attempt: number,
): Promise<{ read: number; counted: number; postponed: number }> {
  const connection = await push.loadConnection(db(), connectionId);
  if (!connection || connection.role !== "source" || connection.shopStatus !== "active")
    return { read: 0, counted: 0, postponed: 0 };
  const conn = toContext(connection);
  const flagged = await db().query<{
    id: string;
    remoteRef: string;
    remoteLocationRef: string;
    itemId: string;
    locationId: string;
    sku: string;
  }>(sql`
    SELECT l.id, l.remote_ref AS "remoteRef", l.remote_location_ref AS "remoteLocationRef",
           c.item_id AS "itemId", l.source_location_id AS "locationId", i.sku
      FROM listing l JOIN listing_component c ON c.listing_id = l.id JOIN stock_item i ON i.id = c.item_id
     WHERE l.connection_id = ${connectionId}::uuid AND l.remote_source = 'webhook' AND l.source_location_id IS NOT NULL
     LIMIT 250`);
  if (flagged.length === 0) return { read: 0, counted: 0, postponed: 0 };

  const reads = await shopifyAdapter().readQuantities(conn, flagged);
  const levels = await push.sourceLevels(
    db(),
    connectionId,
    flagged.map((f) => ({ itemId: f.itemId, locationId: f.locationId })),
  );
  const openings = await db().query<{
    itemId: string;
    locationId: string;
    ordered: number;
    committed: number;
  }>(sql`
    SELECT item_id AS "itemId", location_id AS "locationId", ordered, committed FROM order_line
     WHERE connection_id = ${connectionId}::uuid AND order_id = ${OPENING_ORDER_ID}`);
  const receiptsInFlight = await hasPendingReceipts(db(), connectionId);

  const operations: (ItemOperation | LineOperation)[] = [];
  const postponed: string[] = [];
  for (const f of flagged) {
    const read = reads.find(
      (r) => r.remoteRef === f.remoteRef && r.remoteLocationRef === f.remoteLocationRef,
    );
    if (!read || read.states.on_hand === undefined) continue;
    await push.recordRemote(db(), {
      listingId: f.id,
      quantity: read.quantity,
      state: read.states,
      source: "read",
      at: read.observedAt,
    });
    const level = levels.find((l) => l.itemId === f.itemId && l.locationId === f.locationId);
    if (!level) continue;
    const ownCommitted = level.committed - level.committedOther;
    const shopifyCommitted = read.states.committed ?? 0;
    const inFlight = receiptsInFlight || shopifyCommitted !== ownCommitted;
    if (inFlight && attempt < MAX_POSTPONES) {
      postponed.push(f.id);
      continue;
    }
    const pendingToSource = level.pending.reduce((s, p) => s + p.delta, 0);
    const observed = read.observedAt.toISOString();
    operations.push({
      type: "item",
      key: `${connectionId}/count/${f.id}/${observed}`,
      itemId: f.itemId,
      locationId: f.locationId,
      connectionId,
      command: { kind: "on_hand_counted", onHand: read.states.on_hand, pendingToSource },
    });
    // Orders placed before StockGuard was connected are held by the opening commitment; as
    // Shopify ships or cancels them its `committed` falls below ours and the opening shrinks.
    const opening = openings.find((o) => o.itemId === f.itemId && o.locationId === f.locationId);
    const excess = ownCommitted - shopifyCommitted;
    if (opening && excess > 0 && opening.committed > 0) {
      operations.push({
        type: "line",
        key: `${connectionId}/opening/${f.itemId}/${f.locationId}/ordered`,
        connectionId,
        orderId: OPENING_ORDER_ID,
        lineId: `${f.itemId}@${f.locationId}`,
        sku: f.sku,
        command: {
          kind: "edited",
          quantity: Math.max(0, opening.ordered - Math.min(excess, opening.committed)),
          version: observed,
        },
      });
    }
  }
  if (postponed.length > 0) {
    await db().execute(
      sql`UPDATE listing SET remote_source = 'webhook' WHERE id = ANY(${postponed}::uuid[])`,
    );
    await enqueueSafely("source read", () =>
      enqueueMaintenance(
        { task: "read_source_levels", connectionId, attempt: attempt + 1 },
        POSTPONE_MS,
      ),
    );
  }
  let counted = 0;
  if (operations.length > 0) {
    const result = await applyLedgerEvent({
      shopId: connection.shopId,
      actor: "shopify:level-read",
      operations,
    });
    counted = result.applied;
    if (counted > 0)
      log({ shop: connection.shopDomain, counted }).info("physical stock changed at the source");
    if (connection.syncEnabled)
      await enqueueSafely("push", () =>
        enqueuePushes(result.changedListings.map((l) => l.connectionId)),
      );
  }
  return { read: flagged.length, counted, postponed: postponed.length };
}

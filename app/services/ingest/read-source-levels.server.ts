/**
 * Reads of the source store's flagged levels (the `read_source_levels` maintenance task, also
 * called by reconciliation): a real change of physical stock becomes an `on_hand_counted`
 * movement, postponed while the source's own order events are still in flight.
 */
import { adapterFor } from "../../channels/registry.server";
import type { ItemOperation, LineOperation } from "../../domain/operations";
import { acquireConnectionLock, ConnectionBusyError } from "../../lib/locks.server";
import { log } from "../../logger.server";
import { enqueueMaintenance, enqueuePushes, enqueueSafely } from "../../queues/jobs.server";
import * as connections from "../../repositories/connections.server";
import { openingLines } from "../../repositories/ledger.server";
import * as listings from "../../repositories/listings.server";
import { hasPendingReceipts } from "../../repositories/receipts.server";
import { applyLedgerEvent } from "../ledger/apply-event.server";

/**
 * After this many postponements a level whose Shopify `committed` still differs from ours is
 * counted anyway (orders placed before StockGuard was connected never reach us as events).
 * Pending receipts are different: they will be applied, so a count waits for them however long.
 */
export const MAX_POSTPONES = 5;
const POSTPONE_MS = 2_000;
const MAX_WAIT_FOR_RECEIPTS = 60;
const PAGE = 250;

export const OPENING_ORDER_ID = "opening";

type Outcome = { read: number; counted: number; postponed: number };

/**
 * Reads the source store's flagged levels and turns a real change of physical stock into an
 * `on_hand_counted` movement. Three guards keep our own effects from being counted as changes
 * at the source:
 *
 * - the connection's push lock is held, so no outbox write lands between reading Shopify's
 *   on_hand and reading the outbox;
 * - outbox rows not yet written (`pendingToSource`) are allowed for;
 * - the count is postponed while the source's own order events are in flight: receipts stored
 *   but not applied, or Shopify's `committed` differing from the commitments we know of (a
 *   fulfilment seen by Shopify but not yet by us would otherwise be counted twice).
 */
export async function readSourceLevels(connectionId: string, attempt: number): Promise<Outcome> {
  const connection = await connections.loadConnection(connectionId);
  if (!connection || connection.role !== "source" || connection.shopStatus !== "active") {
    return { read: 0, counted: 0, postponed: 0 };
  }
  const release = await acquireConnectionLock(connectionId);
  if (!release) throw new ConnectionBusyError(connectionId);
  const total: Outcome = { read: 0, counted: 0, postponed: 0 };
  const postponed: string[] = [];
  let waitingForReceipts = false;
  try {
    let after = "00000000-0000-0000-0000-000000000000";
    for (;;) {
      const page = await readPage(connection, attempt, after);
      if (!page) break;
      after = page.last;
      total.read += page.read;
      total.counted += page.counted;
      postponed.push(...page.postponed);
      waitingForReceipts ||= page.waitingForReceipts;
    }
  } finally {
    await release();
  }
  total.postponed = postponed.length;
  if (postponed.length > 0) {
    await listings.flagForSourceRead(postponed);
    if (!waitingForReceipts || attempt < MAX_WAIT_FOR_RECEIPTS) {
      await enqueueSafely("source read", () =>
        enqueueMaintenance(
          { task: "read_source_levels", connectionId, attempt: attempt + 1 },
          POSTPONE_MS,
        ),
      );
    }
  }
  return total;
}

async function readPage(
  connection: connections.ConnectionRow,
  attempt: number,
  after: string,
): Promise<{
  read: number;
  counted: number;
  last: string;
  postponed: string[];
  waitingForReceipts: boolean;
} | null> {
  const connectionId = connection.id;
  const flagged = await listings.flaggedSourceListings(connectionId, after, PAGE);
  if (flagged.length === 0) return null;

  const reads = await adapterFor(connection.kind).readQuantities(
    connections.toContext(connection),
    flagged,
  );
  const levels = await listings.sourceLevels(
    connectionId,
    flagged.map((f) => ({ itemId: f.itemId, locationId: f.locationId })),
  );
  const openings = await openingLines(connectionId, OPENING_ORDER_ID);
  const receiptsInFlight = await hasPendingReceipts(connectionId);

  const operations: (ItemOperation | LineOperation)[] = [];
  const postponed: string[] = [];
  await listings.recordRemoteBatch(
    flagged.flatMap((f) => {
      const read = reads.find(
        (r) => r.remoteRef === f.remoteRef && r.remoteLocationRef === f.remoteLocationRef,
      );
      return read
        ? [{ listingId: f.id, quantity: read.quantity, state: read.states, at: read.observedAt }]
        : [];
    }),
    "read",
  );
  for (const f of flagged) {
    const read = reads.find(
      (r) => r.remoteRef === f.remoteRef && r.remoteLocationRef === f.remoteLocationRef,
    );
    if (!read || read.states.on_hand === undefined) continue;
    const level = levels.find((l) => l.itemId === f.itemId && l.locationId === f.locationId);
    if (!level) continue;
    const ownCommitted = level.committed - level.committedOther;
    const shopifyCommitted = read.states.committed ?? 0;
    // An outbox batch sent but not confirmed may or may not be in Shopify's on_hand yet.
    const unconfirmed = level.pending.some((p) => p.status === "sending");
    if (
      receiptsInFlight ||
      unconfirmed ||
      (shopifyCommitted !== ownCommitted && attempt < MAX_POSTPONES)
    ) {
      postponed.push(f.id);
      continue;
    }
    // As seen now; the apply service takes it again under the item lock (see there).
    const pendingToSource = level.pending
      .filter((p) => p.status === "pending")
      .reduce((s, p) => s + p.delta, 0);
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
    if (connection.syncEnabled) {
      await enqueueSafely("push", () =>
        enqueuePushes(result.changedListings.map((l) => l.connectionId)),
      );
    }
  }
  return {
    read: flagged.length,
    counted,
    postponed,
    last: flagged[flagged.length - 1]!.id,
    waitingForReceipts: receiptsInFlight,
  };
}

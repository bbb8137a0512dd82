/**
 * Reads of the source store's flagged levels (the `read_source_levels` maintenance task, also
 * called by reconciliation): a real change of physical stock becomes an `on_hand_counted`
 * movement, postponed while the source's own order events are still in flight.
 */
import { adapterFor } from "../../channels/registry.server";
import type { ItemOperation, LineOperation } from "../../domain/operations";
import { acquireConnectionLock, ConnectionBusyError } from "../../lib/locks.server";
import { debugEnabled, log } from "../../logger.server";
import { enqueueMaintenance, enqueuePushes, enqueueSafely } from "../../queues/jobs.server";
import * as connections from "../../repositories/connections.server";
import { openingLines } from "../../repositories/ledger.server";
import * as listings from "../../repositories/listings.server";
import { pendingReceipts } from "../../repositories/receipts.server";
import { transaction } from "../../repositories/tx.server";
import { resolveLines } from "../ledger/resolve-lines.server";
import type { InboundMeaning } from "../../channels/channel-adapter";
import { sourceCountDecision } from "../../domain/source-count";
import { applyLedgerEvent } from "../ledger/apply-event.server";

/**
 * Reads these source levels again soon (the source's own shipment or restock was just applied:
 * `recountAfter`). Flagged first, so a lost job still leaves them for the sweeper's read.
 */
export async function recountSourceLevels(
  connectionId: string,
  levels: { itemId: string; locationId: string }[],
): Promise<void> {
  if (levels.length === 0) return;
  await listings.flagSourceLevelsForRead(connectionId, levels);
  await scheduleSourceRead(connectionId);
}

/**
 * The coalesced counting read of a source's flagged levels, soon (one job per connection; the
 * sweeper enqueues it again when flags stay unread).
 */
export function scheduleSourceRead(connectionId: string): Promise<boolean> {
  return enqueueSafely("source read", () =>
    enqueueMaintenance({ task: "read_source_levels", connectionId, attempt: 0 }, 250),
  );
}

/**
 * Between two reads of a postponed level: soon at first, then every 2 s. The store's own order
 * events are in flight only for the tens of milliseconds between a webhook's storing and its
 * applying, so while the store keeps selling a read 2 s later is as likely to meet one as the
 * first — a receipt at the source waited 6–8 s to be counted in the chaos world, and every
 * channel showed its units that much later. The waits add up to about what they did (the
 * attempt limits below count reads).
 */
function postponeMs(attempt: number): number {
  return Math.min(2_000, 250 * 2 ** attempt);
}
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
 * - the source's own order events in flight are allowed for (app/domain/source-count.ts): the
 *   count waits for stored receipts and unconfirmed outbox batches, and holds back the part of an
 *   on_hand drop that shipments Shopify has made and we have not seen yet could explain (a
 *   fulfilment seen by Shopify but not yet by us would otherwise be counted twice), reading the
 *   level again until they arrive.
 *
 * A read that finds the storefront off its projection marks the listing for a push even when
 * nothing is counted, so a lost write can never leave a level stuck.
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
  if (debugEnabled())
    log({ connectionId }).debug({ attempt, ...total, waitingForReceipts }, "source levels read");
  if (postponed.length > 0) {
    await listings.flagForSourceRead(postponed);
    if (!waitingForReceipts || attempt < MAX_WAIT_FOR_RECEIPTS) {
      await enqueueSafely("source read", () =>
        enqueueMaintenance(
          { task: "read_source_levels", connectionId, attempt: attempt + 1 },
          postponeMs(attempt),
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

  // The ledger first, then the store: each count carries the ledger's figures it was decided
  // against (`basis`), and is not applied if an event moved them before the count's lock. Read
  // the other way round, a shipment at the source applied between the two reads made the store's
  // older on_hand look like a rise, counted at once: a unit put back for good (a CI run ended with
  // the ledger one above the shelf).
  const levels = await listings.sourceLevels(
    connectionId,
    flagged.map((f) => ({ itemId: f.itemId, locationId: f.locationId })),
  );
  const reads = await adapterFor(connection.kind).readQuantities(
    connections.toContext(connection),
    flagged,
  );
  const openings = await openingLines(connectionId, OPENING_ORDER_ID);
  const receiptsTouch = await itemsInFlight(connection);
  let waitingForReceipts = false;

  const operations: (ItemOperation | LineOperation)[] = [];
  const postponed: string[] = [];
  const repair: string[] = [];
  const seenDrops: Parameters<typeof listings.recordSeenDrops>[0] = [];
  const countedListing = new Map<string, string>();
  const now = Date.now();
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
    const opening = openings.find((o) => o.itemId === f.itemId && o.locationId === f.locationId);
    // As seen now; the apply service takes the outbox again under the item lock (see there).
    const pendingToSource = level.pending
      .filter((p) => p.status === "pending")
      .reduce((s, p) => s + p.delta, 0);
    const receiptsInFlight = receiptsTouch === "all" || receiptsTouch.has(f.itemId);
    const decision = sourceCountDecision({
      shopifyOnHand: read.states.on_hand,
      shopifyCommitted: read.states.committed ?? 0,
      ledgerOnHand: level.onHand,
      ownCommitted,
      pendingToSource,
      openingCommitted: opening?.committed ?? 0,
      // An outbox batch sent but not confirmed may or may not be in the store's on_hand yet.
      eventsInFlight: receiptsInFlight || level.pending.some((p) => p.status === "sending"),
      attempt,
      seenDrop: f.seenDrop,
      now,
    });
    if (decision.action === "postpone") {
      postponed.push(f.id);
      waitingForReceipts ||= receiptsInFlight;
      continue;
    }
    if (decision.recheck) postponed.push(f.id);
    // Only levels with a drop waiting, now or before, are written (most reads have none).
    if (decision.seenDrop || f.seenDrop) {
      seenDrops.push({ listingId: f.id, seenDrop: decision.seenDrop });
      if (debugEnabled())
        log({ connectionId, sku: f.sku }).debug(
          { seenDrop: decision.seenDrop, before: f.seenDrop, counted: decision.onHand },
          "source drop waiting to be counted",
        );
    }
    // The read may show the listing off its projection without any count to apply (a state
    // moved at the store, an earlier write lost): the push re-projects it. An oversold level
    // shows a negative `available` no move can change: that is 0 for the storefront.
    if (Math.max(0, read.quantity ?? 0) !== f.published) repair.push(f.id);
    const observed = read.observedAt.toISOString();
    const countKey = `${connectionId}/count/${f.id}/${observed}`;
    countedListing.set(countKey, f.id);
    operations.push({
      type: "item",
      key: countKey,
      itemId: f.itemId,
      locationId: f.locationId,
      connectionId,
      command: {
        kind: "on_hand_counted",
        onHand: decision.onHand,
        pendingToSource,
        basis: { onHand: level.onHand },
      },
    });
    // Orders placed before StockGuard was connected are held by the opening commitment; as
    // the store ships or cancels them its `committed` falls below ours and the opening shrinks.
    if (opening && decision.openingRelease > 0) {
      operations.push({
        type: "line",
        key: `${connectionId}/opening/${f.itemId}/${f.locationId}/ordered`,
        connectionId,
        orderId: OPENING_ORDER_ID,
        lineId: `${f.itemId}@${f.locationId}`,
        sku: f.sku,
        command: {
          kind: "edited",
          quantity: Math.max(0, opening.ordered - decision.openingRelease),
          version: observed,
        },
      });
    }
  }
  await listings.recordSeenDrops(seenDrops);
  await listings.markDirty(repair, new Date());
  let counted = 0;
  if (operations.length > 0) {
    const result = await applyLedgerEvent({
      shopId: connection.shopId,
      actor: "shopify:level-read",
      operations,
    });
    counted = result.applied;
    // Counts the ledger moved under: read again (the reads above cleared their flags).
    for (const key of result.staleCounts ?? []) {
      const listingId = countedListing.get(key);
      if (listingId && !postponed.includes(listingId)) postponed.push(listingId);
    }
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
    waitingForReceipts,
  };
}

/**
 * Receipts looked at before a count (the ledger resolves each order's lines with one query);
 * past this many in flight — a backlog, not a busy minute — every level waits, as it always did.
 */
const RECEIPTS_PLACED = 50;

/**
 * The stock items the source's own events in flight touch — receipts stored but not applied
 * yet, each translated as its ingest will translate it and its lines resolved to items as the
 * ledger will resolve them — or "all" when one cannot be placed (a line nothing matches, an
 * event that is not order lines, too many to look at). A count waits only for the events of its
 * own item: with the whole store's, a source that keeps selling postponed every receipt until
 * its storm ended (8 receipts counted at once, 6–7 s late, in the chaos world).
 */
async function itemsInFlight(connection: connections.ConnectionRow): Promise<Set<string> | "all"> {
  const pending = await pendingReceipts(connection.id, RECEIPTS_PLACED);
  if (pending.length === 0) return new Set();
  if (pending.length >= RECEIPTS_PLACED) return "all";
  const inbound = adapterFor(connection.kind).inbound;
  const lines: LineOperation[] = [];
  for (const receipt of pending) {
    let meaning: InboundMeaning;
    try {
      meaning = inbound.translate(connection.id, receipt.topic, receipt.payload);
    } catch {
      return "all";
    }
    if (meaning.kind === "ignored" || meaning.kind === "catalog_changed") continue;
    // Level updates are settled in the request, never stored: one here is not the usual case.
    if (meaning.kind !== "ledger") return "all";
    for (const op of meaning.operations) {
      if (op.type !== "line") return "all";
      lines.push(op);
    }
  }
  const { resolved, unmatched } = await transaction((tx) =>
    resolveLines(tx, connection.shopId, lines, { recordUnmatched: false }),
  );
  if (unmatched > 0 || resolved.size < lines.length) return "all";
  return new Set([...resolved.values()].flat().map((c) => c.itemId));
}

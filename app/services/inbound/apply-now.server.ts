/**
 * The web's fast lane for stored receipts (docs/decisions/0011-apply-receipts-in-the-web.md).
 * Once a delivery is stored (durable) and acknowledged, the web process applies it itself when it
 * has a free slot, instead of handing it to the ingest queue: the sale skips a queue hop (enqueue,
 * a worker's fetch, a second read of the receipt) that cost hundreds of milliseconds under load.
 *
 * Bounded: at most WEB_INGEST_SLOTS receipts at a time per web process, and one shop at most all
 * but RESERVED_FOR_OTHER_SHOPS of them, so a flooding shop overflows to the fair ingest queue
 * (per-shop priorities, reserved worker slots) while another shop's order still finds a free slot
 * here. Anything that fails is handed to the queue, which retries with backoff. On SIGTERM the web
 * lets these finish before it closes its pools; a web process killed mid-apply leaves a pending
 * receipt that the sweeper re-enqueues. Applying twice is harmless (status check, keyed effects).
 *
 * Only the web process (STOCKGUARD_PROCESS=web) applies receipts itself; everywhere else (tests
 * calling the service directly, the CLI) every receipt goes through the queue.
 */
import { env } from "../../env.server";
import { settledWithin, trackInFlight } from "../../lib/in-flight.server";
import { metrics } from "../../lib/metrics.server";
import { ShopSlots } from "../../lib/shop-slots";
import { log } from "../../logger.server";
import { enqueueIngest, enqueueSafely } from "../../queues/jobs.server";
import type { LoadedReceipt } from "../../repositories/receipts.server";
import { ingestReceipt } from "../ingest/ingest-receipt.server";

let lane: ShopSlots | null | undefined;

function webLane(): ShopSlots | null {
  if (lane === undefined) {
    const slots = process.env.STOCKGUARD_PROCESS === "web" ? env().WEB_INGEST_SLOTS : 0;
    // One shop may take all but RESERVED_FOR_OTHER_SHOPS (it was half: a shop selling alone,
    // the common case, overflowed to the ingest queue with half the lane idle; decision 0026).
    lane = slots > 0 ? new ShopSlots(slots) : null;
  }
  return lane;
}

/**
 * Orders this process is storing or applying a delivery of, by `connectionId|orderId`: a later
 * delivery of the same order (Shopify's orders/updated right behind every orders/create) waits
 * for that work here and can then be settled without being stored (noop-snapshot).
 */
const ordersAtWork = new Map<string, Promise<void>>();
const orderKey = (connectionId: string, orderId: string) => `${connectionId}|${orderId}`;

/**
 * Marks an order as being worked on here until the returned function is given the work that
 * follows the store (the lane's apply, or nothing when the receipt went to the queue) and that
 * work has settled.
 */
export function orderAtWork(
  connectionId: string,
  orderId: string,
): (after: Promise<unknown> | null) => void {
  const key = orderKey(connectionId, orderId);
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const previous = ordersAtWork.get(key);
  const entry = previous ? Promise.all([previous, mine]).then(() => undefined) : mine;
  ordersAtWork.set(key, entry);
  void entry.then(() => {
    if (ordersAtWork.get(key) === entry) ordersAtWork.delete(key);
  });
  return (after) => {
    if (after) void after.then(release, release);
    else release();
  };
}

/** Resolves once this process's work on the order (if any) has settled, or after `timeoutMs`. */
export async function orderWorkSettled(
  connectionId: string,
  orderId: string,
  timeoutMs: number,
): Promise<void> {
  const work = ordersAtWork.get(orderKey(connectionId, orderId));
  if (work) await settledWithin(work, timeoutMs);
}

/**
 * A newly stored receipt: applied here in the background when the lane has room (the caller's
 * answer to the channel is not held up), otherwise enqueued (if Redis is down too, the sweeper
 * re-enqueues it later). Returns the background apply (wrapped: an async function returning a
 * promise would wait for it), or null when it was enqueued.
 */
export async function applyNowOrEnqueue(
  receiptId: bigint,
  shopId: string,
  options: {
    /** The receipt as this process just stored it (applied without reading it back). */
    stored?: () => LoadedReceipt;
    slots?: ShopSlots | null;
  } = {},
): Promise<{ work: Promise<unknown> } | null> {
  const { stored, slots = webLane() } = options;
  if (!slots?.tryTake(shopId)) {
    await enqueueSafely("ingest", () => enqueueIngest(receiptId, shopId));
    return null;
  }
  metrics().receiptsAppliedInWeb.inc();
  const work = ingestReceipt(receiptId, stored?.())
    .catch(async (error: unknown) => {
      // The queue owns retries (backoff, attempts, the merchant-facing failure record).
      log({ receiptId: receiptId.toString() }).warn(
        { err: (error as Error).message },
        "receipt not applied in the web; handed to the ingest queue",
      );
      await enqueueSafely("ingest", () => enqueueIngest(receiptId, shopId));
    })
    .finally(() => slots.release(shopId));
  trackInFlight(work);
  return { work };
}

/**
 * A new web process warms its order path before it listens (decision 0022).
 *
 * A freshly started web applies the receipts it stores (its fast lane, decision 0011) several
 * times slower for its first seconds: at 30 orders/s a fresh web alone put the first 5 s at p95
 * 760–996 ms against ~280 ms warm, and sending its receipts to a warm worker instead took most of
 * that away (p95 558 ms). So before serving, it applies synthetic orders through the same code —
 * the Shopify port's check and translate, then the ledger's event in a transaction — for a
 * throw-away shop created inside that transaction, which is always rolled back: nothing it wrote
 * is ever seen by another session, no job is enqueued (the ingest enqueues pushes after commit),
 * nothing is counted. Several transactions run side by side, so that many pooled connections
 * have run the statements too. It stops at the first error (a database unreachable at start:
 * the process then serves cold, as before) and at a time budget.
 */
import { adapterFor } from "../channels/registry.server";
import { transaction } from "../repositories/tx.server";
import { seedWarmUpShop } from "../repositories/warm-up.server";
import { applyLedgerEventInTransaction } from "./ledger/apply-event.server";

export type LedgerWarmUp = {
  orders: number;
  ms: number;
  /** Why it stopped before `orders`, if it did. */
  stopped?: string;
};

/** Thrown to end a warm-up transaction; never escapes `warmOrderPath`. */
class RollBack extends Error {}

const ITEMS = 20;
const STORES = 2;

/**
 * Applies `orders` synthetic orders in `parallel` transactions that roll back, within
 * `budgetMs` (checked between orders).
 */
export async function warmOrderPath(options: {
  orders: number;
  parallel: number;
  budgetMs: number;
}): Promise<LedgerWarmUp> {
  const started = performance.now();
  const inbound = adapterFor("shopify").inbound;
  let applied = 0;
  let stopped: string | undefined;
  const lanes = Math.max(1, Math.min(options.parallel, options.orders));
  const lane = async (laneIndex: number) => {
    const share = Math.floor(options.orders / lanes) + (laneIndex < options.orders % lanes ? 1 : 0);
    if (share === 0) return;
    try {
      await transaction(async (tx) => {
        const shop = await seedWarmUpShop(tx, { items: ITEMS, stores: STORES });
        for (let n = 0; n < share && stopped === undefined; n++) {
          if (performance.now() - started > options.budgetMs) {
            stopped = `time budget of ${options.budgetMs} ms spent`;
            break;
          }
          const connectionId = shop.salesConnectionIds[n % shop.salesConnectionIds.length]!;
          const variant = shop.variants[(laneIndex * 7 + n) % shop.variants.length]!;
          const at = new Date(Date.UTC(2026, 0, 1, 0, 0, n % 60)).toISOString();
          const orderId = laneIndex * 1_000_000 + n + 1;
          const payload = {
            id: orderId,
            name: `#W${orderId}`,
            created_at: at,
            updated_at: at,
            cancelled_at: null,
            line_items: [
              {
                id: orderId * 10,
                variant_id: variant.variantId,
                product_id: 1,
                sku: variant.sku,
                quantity: 1,
                current_quantity: 1,
              },
            ],
            refunds: [],
            fulfillments: [],
          };
          const checked = inbound.check("orders/create", payload);
          if (!checked.ok) throw new Error(`warm-up order refused: ${checked.reason}`);
          const meaning = inbound.translate(connectionId, "orders/create", checked.payload);
          if (meaning.kind !== "ledger") throw new Error(`warm-up order read as ${meaning.kind}`);
          const result = await applyLedgerEventInTransaction(tx, {
            shopId: shop.shopId,
            actor: "shopify:orders/create",
            receivedAt: new Date(),
            operations: meaning.operations,
          });
          // A sale as the fast lane applies one: committed, and published to the other stores.
          if (result.applied === 0 || result.unmatched > 0 || result.changedListings.length === 0)
            throw new Error("warm-up order was not applied as a sale");
          applied++;
        }
        throw new RollBack();
      }, 1);
    } catch (error) {
      if (!(error instanceof RollBack)) stopped ??= (error as Error).message;
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, i) => lane(i)));
  return { orders: applied, ms: Math.round(performance.now() - started), stopped };
}

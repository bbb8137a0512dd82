import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  describeSlowest,
  oversoldUnits,
  percentileOf,
  saleLatency,
  type Sale,
  type SaleOutcome,
} from "../helpers/sale-latency";
import { describeSlowdown, machineSlowdown, type MachineSpeed } from "../helpers/machine-speed";
import { ControlError as ShopifyControlError } from "../sandbox/shopify/errors";
import { ControlError as WalmartControlError } from "../sandbox/walmart/errors";
import {
  WALMART,
  WALMART_ONLY_SKU,
  WALMART_WORLD_ENV,
  ledgerChecksWithWalmart,
  mismatchesWithWalmart,
  startWalmart,
  walmartTotals,
  type WalmartWorld,
} from "./walmart-world";
import {
  confirmedOversells,
  observeSales,
  shownNow,
  skuOf,
  startWorld,
  waitFor,
  type World,
} from "./world";

/**
 * Issue 16's end-to-end proof: web + worker + the local Shopify (a source store and another store)
 * + the local Walmart Marketplace, selling the same 30 low-stock SKUs. Buyers on all three compete
 * for 10 s while Shopify's and Walmart's webhooks are delayed, duplicated and reordered (some
 * Walmart deliveries fail and are retried), Walmart's write bucket is a quarter of ours and it
 * answers 429 + Retry-After to the first writes; packers ship on both (Walmart shipments reach
 * StockGuard only through the poll). Then Walmart cancels (auto, fraud, an intent that cancels
 * nothing) and the seller cancels lines (only the poll sees those). Checks: every channel shows its
 * published quantity, the ledger equals the channels' committed and shipped units (0 lost, 0
 * doubled), the unknown SKU's orders are unmatched lines, no write anywhere while quiet, every
 * oversold unit is an incident; latencies sale → Walmart and Walmart sale → Shopify printed and
 * asserted. "Converged" includes no provisional hold outstanding (a channel's drop its order has
 * not explained yet, released after PUSH_SETTLE_MS).
 *
 * The latency limits follow Walmart's write path. A sale elsewhere reaches Walmart through one
 * `PUT /v3/inventory` per SKU, preceded and followed by a read (three calls where a Shopify store
 * takes one mutation), within Walmart's bucket (200 writes per minute documented by third
 * parties; 50 here); a 429 holds every worker back for its Retry-After (1–2 s here). A Walmart
 * sale reaches Shopify like a Shopify sale does once its webhook arrives (0–400 ms of delay here,
 * a failed first delivery retried; the 2-second poll finds an order whose webhook never comes).
 * This 2-core machine is shared with other runs, which slow every channel alike, so each limit is
 * the same measure on the Shopify side of the same run plus what Walmart adds (`latencyLimits`),
 * on the medians:
 * - receipt → Walmart written (the hub's write path, push_trace) ≤ 1.5 × the Shopify stores' + 2 s
 *   (three calls instead of one, each under the shared bucket; Retry-After waits), ≥ 3 s;
 * - sale → Walmart shows it ≤ 1.25 × Shopify sale → other store + 3 s, ≥ 4 s;
 * - Walmart sale → a Shopify store ≤ 1.1 × that + 1 s (the webhook's extra delay and retries),
 *   ≥ 1.5 s;
 * - and every sale reflected everywhere by the end.
 * The floors are Walmart's own: its bucket (50 writes a minute here) queues writes whatever the
 * Shopify side does, so once the Shopify path got faster (receipt → written p50 ~200 → ~150 ms,
 * decision 0009) the relative limit fell below what Walmart's queue alone takes (receipt → Walmart
 * written p50 1.4–2.4 s over five runs, sale → Walmart 2.2–2.9 s). They still catch a broken path:
 * the failure they were raised after showed sale → Walmart at p50 15.5 s.
 * Tails (p95, max) are printed, not asserted: they follow the backlog behind a Retry-After.
 */
const SKUS = 30;
const BUY_MS = 10_000;
const stockOf = (i: number) => 3 + (i % 4); // 3..6 units
const stock = (sku: string) => stockOf(Number(sku.slice(4)));
/**
 * p50 limits given the same measures on the Shopify side of the same run (`saleP50`: Shopify sale
 * → the other Shopify store; `writtenP50`: receipt → Shopify store written). The floors were
 * measured on the reference machine: on a slower one they stretch by its measured slowdown
 * (`slowdown`, test/helpers/machine-speed.ts) — a run here missed the 3,000 ms floor by 8 ms on
 * a machine running the ledger at 242 events/s (reference 640).
 */
export function latencyLimits(
  shopify: { saleP50: number; writtenP50: number },
  slowdown = 1,
): {
  toWalmart: number;
  fromWalmart: number;
  written: number;
} {
  return {
    written: Math.round(Math.max(3_000 * slowdown, shopify.writtenP50 * 1.5 + 2_000)),
    toWalmart: Math.round(Math.max(4_000 * slowdown, shopify.saleP50 * 1.25 + 3_000)),
    fromWalmart: Math.round(Math.max(1_500 * slowdown, shopify.saleP50 * 1.1 + 1_000)),
  };
}

describe("Shopify stores and Walmart selling one pool", () => {
  let world: World;
  let walmart: WalmartWorld;
  let machine: MachineSpeed = { eventsPerS: null, factor: 1 };

  beforeAll(async () => {
    machine = await machineSlowdown();
    world = await startWorld({
      skus: SKUS,
      stock: stockOf,
      secondaryStores: 1,
      delivery: { delayMs: [0, 300], duplicateProbability: 0.25, reorder: true, concurrency: 50 },
      env: {
        PUSH_COALESCE_MS: "100",
        ...WALMART_WORLD_ENV,
        ...(process.env.E2E_LOG_LEVEL ? { LOG_LEVEL: process.env.E2E_LOG_LEVEL } : {}),
      },
      rngSeed: 16,
    });
    walmart = await startWalmart(world, {
      delivery: { delayMs: [0, 400], duplicateProbability: 0.25, reorder: true, concurrency: 20 },
    });
    await waitFor(
      async () => (await mismatchesWithWalmart(world, walmart)).length === 0,
      60_000,
      "initial convergence",
      world.output,
    );
  }, 300_000);

  /** Provisional holds outstanding (a channel's drop not yet explained by its order). */
  const holds = async () =>
    (await world.pg.query<{ n: number }>("SELECT count(*)::int AS n FROM provisional_hold"))
      .rows[0]!.n;
  const pendingReceipts = async () =>
    (
      await world.pg.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM receipt WHERE status = 'pending'",
      )
    ).rows[0]!.n;

  afterAll(async () => {
    await walmart?.close();
    await world?.close();
  });

  it(
    "converges under chaos with every unit counted once and every oversell recorded",
    { timeout: 420_000 },
    async () => {
      const shopify = world.shopify.sandbox;
      const wm = walmart.local.sandbox;
      const pid = walmart.partnerId;
      const stores = [world.source, ...world.stores];
      const since = Date.now();
      const shownAtStart = shownNow(world);
      const walmartAtStart = walmart.shown();
      const putsBefore = wm.inventoryWriteLog(pid).length;

      // Walmart throttles: its bucket holds 50 writes a minute where we assume 200 (a busy
      // stretch runs it dry: 429, x-current-token-count 0), and it refuses the first two writes
      // of the sale with 429 + Retry-After: 1.
      wm.configureThrottle(pid, "inventory.update", { capacity: 50, windowMs: 60_000, tokens: 50 });
      wm.addFault({
        kind: "http429",
        operation: "inventory.update",
        count: 2,
        retryAfterSeconds: 1,
      });
      wm.addDeliveryFault({ count: 5, status: 500 });

      let seed = 16;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const walmartSales: Sale[] = [];
      const sold = new Map<string, number>();
      let attempts = 0;
      let refused = 0;
      let shopifyOrders = 0;
      let unmatched = 0;
      const until = Date.now() + BUY_MS;
      const buyer = async () => {
        while (Date.now() < until) {
          const channel = Math.floor(random() * 3); // 0, 1: Shopify stores, 2: Walmart
          const sku = skuOf(Math.floor(random() * SKUS));
          const quantity = random() < 0.8 ? 1 : 2;
          attempts++;
          try {
            if (channel < 2) {
              shopify.checkout(stores[channel]!, { lines: [{ sku, quantity }] });
              shopifyOrders++;
              sold.set(sku, (sold.get(sku) ?? 0) + quantity);
            } else if (random() < 0.05) {
              wm.placeOrder(pid, { lines: [{ sku: WALMART_ONLY_SKU, qty: 1 }] });
              unmatched++;
            } else {
              const at = Date.now();
              wm.placeOrder(pid, { lines: [{ sku, qty: quantity }] });
              walmartSales.push({
                id: `wm-${walmartSales.length}`,
                store: WALMART,
                sku,
                units: quantity,
                at,
              });
              sold.set(sku, (sold.get(sku) ?? 0) + quantity);
            }
          } catch (error) {
            if (!(error instanceof ShopifyControlError) && !(error instanceof WalmartControlError))
              throw error;
            refused++;
          }
          await new Promise((r) => setTimeout(r, 80 + random() * 160));
        }
      };
      // Packers ship on every channel while the buying goes on.
      let shipped = 0;
      const packer = async () => {
        while (Date.now() < until) {
          await new Promise((r) => setTimeout(r, 500));
          for (const store of stores) {
            const open = [...shopify.shop(store).orders.values()].filter((o) =>
              o.lineItems.some((l) => l.fulfilled === 0),
            );
            const order = open[Math.floor(random() * open.length)];
            if (order) {
              shopify.fulfillOrder(store, String(order.id));
              shipped++;
            }
          }
          const openWm = walmart
            .orders()
            .filter((o) => o.lines.some((l) => l.quantity - l.shipped - l.cancelled > 0));
          const po = openWm[Math.floor(random() * openWm.length)];
          if (po) {
            wm.shipLine(pid, po.purchaseOrderId, "1");
            shipped++;
          }
        }
      };
      await Promise.all([...Array.from({ length: 3 }, buyer), packer()]);
      wm.faults.clear();

      // 1. Converged after the buying.
      expect(await shopify.waitForWebhooksIdle(120_000)).toBe(true);
      expect(await wm.waitForDeliveriesIdle(120_000)).toBe(true);
      let last: Awaited<ReturnType<typeof mismatchesWithWalmart>> = [];
      await waitFor(
        async () =>
          (await pendingReceipts()) === 0 &&
          (await holds()) === 0 &&
          (last = await mismatchesWithWalmart(world, walmart)).length === 0,
        120_000,
        "convergence after the sales",
        () => world.output().slice(-3000) + "\nMISMATCHES " + JSON.stringify(last),
      );
      const end = Date.now();

      // Every oversold unit is an incident (no restock or cancellation while buying).
      const recorded = await confirmedOversells(world);
      let oversold = 0;
      if (process.env.E2E_DEBUG) {
        for (let i = 0; i < SKUS; i++) {
          const over = Math.max(0, (sold.get(skuOf(i)) ?? 0) - stockOf(i));
          if ((recorded.get(skuOf(i)) ?? 0) === over) continue;
          const moves = await world.pg.query(
            `SELECT m.kind, m.d_on_hand AS oh, m.d_committed AS c, m.actor, m.order_ref AS "order", m.created_at AS at
               FROM movement m JOIN stock_item i ON i.id = m.item_id WHERE i.sku = $1 ORDER BY m.id`,
            [skuOf(i)],
          );
          const inc = await world.pg.query("SELECT * FROM oversell_incident WHERE sku = $1", [
            skuOf(i),
          ]);
          console.log(
            `OVERSOLD ${skuOf(i)} recorded ${recorded.get(skuOf(i))} truth ${over} stock ${stockOf(i)} sold ${sold.get(skuOf(i))}\n` +
              `  moves ${JSON.stringify(moves.rows)}\n  incidents ${JSON.stringify(inc.rows)}`,
          );
        }
      }
      for (let i = 0; i < SKUS; i++) {
        const over = Math.max(0, (sold.get(skuOf(i)) ?? 0) - stockOf(i));
        oversold += over;
        expect({ sku: skuOf(i), oversold: recorded.get(skuOf(i)) ?? 0 }).toEqual({
          sku: skuOf(i),
          oversold: over,
        });
      }

      // Latencies, from each sale's own time, judged on what the channels showed.
      const observed = observeSales(world, { since, shownAtStart, initialPool: stock });
      const sales = [...observed.sales, ...walmartSales];
      const truth = oversoldUnits({ ...observed, sales });
      for (let i = 0; i < SKUS; i++)
        expect(truth.perSku.get(skuOf(i))?.oversold ?? 0).toBe(
          Math.max(0, (sold.get(skuOf(i)) ?? 0) - stockOf(i)),
        );
      const report = saleLatency({
        ...observed,
        sales,
        history: [...observed.history, ...walmart.history.filter((h) => h.at >= since)],
        stores: [...stores, WALMART],
        initialShown: (store, sku) =>
          store === WALMART ? walmartAtStart.get(sku) : shownAtStart.get(store)?.get(sku),
        end,
      });
      const toWalmart = report.outcomes
        .filter((o) => o.sale.store !== WALMART)
        .map((o) => o.perStore[WALMART])
        .filter((v): v is number => v !== null && v !== undefined);
      // Walmart sale → each Shopify store (as Shopify sale → the other store below), and → the
      // last of them.
      const fromWalmart = report.outcomes
        .filter((o) => o.sale.store === WALMART)
        .flatMap((o: SaleOutcome) => stores.map((s) => o.perStore[s] ?? Number.POSITIVE_INFINITY));
      const fromWalmartAll = report.outcomes
        .filter((o) => o.sale.store === WALMART)
        .map((o: SaleOutcome) =>
          Math.max(...stores.map((s) => o.perStore[s] ?? Number.POSITIVE_INFINITY)),
        );
      // The same measure between the Shopify stores: what this machine allows right now.
      const shopifyToShopify = report.outcomes
        .filter((o) => o.sale.store !== WALMART)
        .flatMap((o) => stores.filter((s) => s !== o.sale.store).map((s) => o.perStore[s]))
        .filter((v): v is number => v !== null && v !== undefined);
      const puts = wm.inventoryWriteLog(pid).length - putsBefore;
      const orders = shopifyOrders + walmartSales.length + unmatched;
      const fmt = (values: number[]) =>
        `p50 ${percentileOf(values, 50)} ms, p95 ${percentileOf(values, 95)} ms, max ${Math.max(...values)} ms (n=${values.length})`;
      console.log(
        `walmart e2e: ${attempts} checkouts tried, ${shopifyOrders} Shopify orders, ${walmartSales.length} Walmart orders ` +
          `(+${unmatched} of a SKU the shop does not sell), ${refused} refused, ${shipped} shipments; oversold ${oversold} units\n` +
          `  sale → Walmart shows it: ${fmt(toWalmart)}\n` +
          `  Walmart sale → a Shopify store: ${fmt(fromWalmart)}; → every one: ${fmt(fromWalmartAll)}\n` +
          `  (Shopify sale → the other Shopify store: ${fmt(shopifyToShopify)})\n` +
          `  Walmart inventory writes: ${puts} for ${orders} orders (${(puts / orders).toFixed(2)} per order), ` +
          `${wm.throttledCount} answered 429, timeouts ${report.timeouts}\n` +
          `  slowest: ${describeSlowest(report, 3).join("\n           ")}`,
      );
      // The hub's own part: receipt stored → written to each kind of channel.
      const hub = await world.pg.query<{ kind: string; n: number; p50: number; p95: number }>(`
        SELECT c.kind::text AS kind, count(*)::int AS n,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM t.written_at - r.received_at) * 1000)::int AS p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM t.written_at - r.received_at) * 1000)::int AS p95
          FROM push_trace t JOIN receipt r ON r.id = t.receipt_id JOIN connection c ON c.id = t.connection_id
         WHERE r.received_at >= to_timestamp(${since / 1000}) GROUP BY c.kind`);
      console.log(`walmart e2e: receipt → written, per channel kind: ${JSON.stringify(hub.rows)}`);
      if (process.env.E2E_DUMP) {
        // Everything needed to replay a slow sale: Walmart's requests, what it showed, the sales,
        // the hub's traces (E2E_DUMP=/path/to/file.json).
        const traces = await world.pg.query(`
          SELECT r.topic, r.received_at AS "receivedAt", r.applied_at AS "appliedAt",
                 t.written_at AS "writtenAt", c.kind::text AS kind, r.resource_id AS resource
            FROM push_trace t JOIN receipt r ON r.id = t.receipt_id JOIN connection c ON c.id = t.connection_id
           WHERE r.received_at >= to_timestamp(${since / 1000})`);
        const { writeFileSync } = await import("node:fs");
        writeFileSync(
          process.env.E2E_DUMP,
          JSON.stringify({
            since,
            requests: wm.requestLog,
            writes: wm.inventoryWriteLog(pid),
            traces: traces.rows,
            history: [...observed.history, ...walmart.history],
            sales,
            outcomes: report.outcomes,
          }),
        );
      }
      if (process.env.E2E_DEBUG) {
        for (const o of report.outcomes.filter((x) => x.timedOut)) {
          const sku = o.sale.sku;
          console.log(
            `TIMEOUT ${JSON.stringify(o)}\n  sales ${JSON.stringify(sales.filter((x) => x.sku === sku).map((x) => [x.store.slice(0, 8), x.units, x.at - since]))}` +
              `\n  walmart ${JSON.stringify(walmart.history.filter((h) => h.sku === sku).map((h) => [h.at - since, h.available]))}` +
              `\n  shopify ${JSON.stringify(observed.history.filter((h) => h.sku === sku).map((h) => [h.store.slice(0, 8), h.at - since, h.available]))}` +
              `\n  start walmart ${walmartAtStart.get(sku)} stock ${stock(sku)}`,
          );
          const moves = await world.pg.query(
            `SELECT m.kind, m.d_on_hand AS oh, m.d_committed AS c, m.actor, m.order_ref AS "order", m.idempotency_key AS key, m.created_at AS at
               FROM movement m JOIN stock_item i ON i.id = m.item_id WHERE i.sku = $1 ORDER BY m.id`,
            [sku],
          );
          console.log(`  movements ${JSON.stringify(moves.rows)}`);
        }
      }
      expect(report.timeouts).toBe(0);
      expect(fromWalmart.every(Number.isFinite)).toBe(true);
      expect(toWalmart.length).toBeGreaterThan(0);
      expect(fromWalmartAll.length).toBe(walmartSales.length);
      const walmartWritten = hub.rows.find((r) => r.kind === "walmart");
      const shopifyWritten = hub.rows.find((r) => r.kind === "shopify");
      const limits = latencyLimits(
        {
          saleP50: percentileOf(shopifyToShopify, 50),
          writtenP50: shopifyWritten?.p50 ?? 0,
        },
        machine.factor,
      );
      console.log(
        `walmart e2e: p50 limits on this machine now: sale → Walmart ${limits.toWalmart} ms, ` +
          `Walmart sale → Shopify ${limits.fromWalmart} ms, receipt → Walmart written ${limits.written} ms ` +
          `(floors ${describeSlowdown(machine)})`,
      );
      expect(percentileOf(toWalmart, 50)).toBeLessThanOrEqual(limits.toWalmart);
      expect(percentileOf(fromWalmart, 50)).toBeLessThanOrEqual(limits.fromWalmart);
      expect(walmartWritten?.p50 ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(limits.written);
      expect(wm.throttledCount).toBeGreaterThan(0);

      // 2. Walmart cancels and the seller cancels lines (no event: only the poll sees those).
      const open = walmart
        .orders()
        .filter((o) => o.lines.some((l) => l.quantity - l.shipped - l.cancelled > 0));
      let cancelled = 0;
      for (const [i, order] of open.slice(0, 12).entries()) {
        const kind = (["auto", "fraud", "seller", "intent"] as const)[i % 4];
        wm.cancelLines(pid, order.purchaseOrderId, { kind });
        if (kind !== "intent") cancelled++;
      }
      expect(await wm.waitForDeliveriesIdle(120_000)).toBe(true);
      let problems: string[] = [];
      await waitFor(
        async () =>
          (await pendingReceipts()) === 0 &&
          (await holds()) === 0 &&
          (last = await mismatchesWithWalmart(world, walmart)).length === 0 &&
          (problems = await ledgerChecksWithWalmart(world, walmart, { stock })).length === 0,
        120_000,
        "convergence after the cancellations",
        () =>
          world.output().slice(-2000) +
          `\nMISMATCHES ${JSON.stringify(last)}\nLEDGER ${problems.join("\n")}`,
      );

      // 3. The ledger equals the channels (0 lost, 0 doubled), and the unknown SKU is recorded.
      expect(await ledgerChecksWithWalmart(world, walmart, { stock })).toEqual([]);
      const totals = walmartTotals(walmart);
      const unmatchedRows = await world.pg.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM unmatched_line WHERE sku = $1",
        [WALMART_ONLY_SKU],
      );
      expect(unmatchedRows.rows[0]!.n).toBe(
        walmart.orders().filter((o) => o.lines.some((l) => l.sku === WALMART_ONLY_SKU)).length,
      );
      expect(totals.get(WALMART_ONLY_SKU)?.ordered ?? 0).toBe(unmatched);

      // 4. Quiet: no write anywhere, though polls and echoes go on.
      expect(await shopify.waitForWebhooksIdle(120_000)).toBe(true);
      const mutations = new Map(stores.map((s) => [s, shopify.shop(s).mutationLog.length]));
      const walmartWrites = wm.inventoryWriteLog(pid).length;
      await new Promise((r) => setTimeout(r, 4_000));
      for (const store of stores) {
        const during = shopify.shop(store).mutationLog.slice(mutations.get(store)!);
        expect({ store, writes: during.length, during }).toEqual({ store, writes: 0, during: [] });
      }
      const walmartDuring = wm.inventoryWriteLog(pid).slice(walmartWrites);
      expect({ walmartWritesWhileQuiet: walmartDuring }).toEqual({ walmartWritesWhileQuiet: [] });
      expect(await mismatchesWithWalmart(world, walmart)).toEqual([]);
      console.log(
        `walmart e2e: ${cancelled} Walmart lines cancelled (auto, fraud, seller) and converged; ` +
          `${wm.inventoryWriteLog(pid).length - putsBefore} inventory writes in all`,
      );
    },
  );
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeSlowest, oversoldUnits, saleLatency } from "../helpers/sale-latency";
import { ControlError } from "../sandbox/shopify/errors";
import {
  confirmedOversells,
  ledgerChecks,
  mismatches,
  observeSales,
  percentile,
  shownNow,
  skuOf,
  sourceReadsOwed,
  startWorld,
  waitFor,
  type World,
} from "./world";

/**
 * Issue 4's end-to-end proof: web + worker + the local Shopify with a source store and two other
 * stores. Buyers on all three storefronts compete for 50 low-stock SKUs while webhooks are
 * delayed, duplicated and reordered (each connected store signs with its custom app's secret); some orders ship.
 * Afterwards: (a) the ledger equals the stores' committed and shipped totals, (b) every store
 * shows its published quantity within 2 s of the last event, (c) no write was caused by an echo,
 * (d) every oversold unit is an incident. Prints the measured sync-latency distribution, and the
 * time from each sale (the store's own clock) until every other store reflects it (issue 11;
 * test/helpers/sale-latency.ts defines it): every sale must be reflected by the end.
 *
 * Its latency is printed, not held to issue 11's 2 s: twelve buyers on 50 low-stock SKUs make
 * ~49 orders/s and ~2,400 webhook deliveries in the 8 s (~300/s with the duplicates and the
 * fulfilments; counted and printed) — 1.5× the brief's 200 events/s and past what two shared
 * cores hold (~35–40 orders/s in the bench, decision 0018), so its tail is a backlog (p50 1.4 s,
 * p99 3.3 s run alone here; 3.5–4.7 s in CI). Issue 11's target is asserted in the world the
 * issue measured it in, at ~30 checkouts/s: convergence.test.ts.
 */
const SKUS = 50;
const BUYERS = 12;
const BUY_MS = 8_000;

describe("three stores selling one pool", () => {
  let world: World;
  const stock = (i: number) => 2 + (i % 5); // 2..6 units each
  const sold = new Map<string, number>();
  let attempts = 0;
  let orders = 0;
  let refused = 0;
  let fulfilled = 0;

  beforeAll(async () => {
    world = await startWorld({
      skus: SKUS,
      stock,
      secondaryStores: 2,
      // Shopify delivers many webhooks to one address at once; 50 in flight mimics that.
      delivery: { delayMs: [0, 300], duplicateProbability: 0.25, reorder: true, concurrency: 50 },
      env: { PUSH_COALESCE_MS: "100" },
    });
    await waitFor(
      async () => (await mismatches(world)).length === 0,
      60_000,
      "initial convergence",
      world.output,
    );
  }, 300_000);

  afterAll(async () => world?.close());

  it(
    "ends consistent, converged, echo-free, with every oversell recorded",
    { timeout: 300_000 },
    async () => {
      const stores = [world.source, ...world.stores];
      const sandbox = world.shopify.sandbox;
      const mutationsBefore = new Map(stores.map((s) => [s, sandbox.shop(s).mutationLog.length]));
      // Sale latency is measured from here: what every store shows, and the pool (the stock).
      const since = Date.now();
      const deliveriesBefore = sandbox.deliveries().length;
      const shownAtStart = shownNow(world);

      // Buyers: random store, random SKU, 1–2 units, whenever the storefront shows stock.
      const until = Date.now() + BUY_MS;
      let seed = 12345;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const buyer = async () => {
        while (Date.now() < until) {
          const store = stores[Math.floor(random() * stores.length)]!;
          const sku = skuOf(Math.floor(random() * SKUS));
          const quantity = random() < 0.8 ? 1 : 2;
          attempts++;
          try {
            sandbox.checkout(store, { lines: [{ sku, quantity }] });
            sold.set(sku, (sold.get(sku) ?? 0) + quantity);
            orders++;
          } catch (error) {
            if (!(error instanceof ControlError)) throw error;
            refused++;
          }
          await new Promise((r) => setTimeout(r, 20 + random() * 80));
        }
      };
      // A packer ships some orders on every store while the buying goes on.
      const packer = async () => {
        while (Date.now() < until) {
          await new Promise((r) => setTimeout(r, 400));
          for (const store of stores) {
            const open = [...sandbox.shop(store).orders.values()].filter((o) =>
              o.lineItems.some((l) => l.fulfilled === 0),
            );
            const order = open[Math.floor(random() * open.length)];
            if (!order) continue;
            sandbox.fulfillOrder(store, String(order.id));
            fulfilled++;
          }
        }
      };
      await Promise.all([...Array.from({ length: BUYERS }, buyer), packer()]);
      const lastAction = Date.now();

      // (b) Converged within 2 s of the last event (the last webhook delivered).
      expect(await sandbox.waitForWebhooksIdle(60_000)).toBe(true);
      const lastDelivery = Math.max(
        ...sandbox
          .deliveries()
          .flatMap((d) =>
            d.attempts.map((a) => (a.finishedAt ? new Date(a.finishedAt).getTime() : 0)),
          ),
      );
      let last: Awaited<ReturnType<typeof mismatches>> = [];
      await waitFor(
        async () => {
          last = await mismatches(world);
          if (last.length > 0 && process.env.E2E_DEBUG) {
            const m = last[0]!;
            const ledger = await world.pg.query(
              `SELECT s.*, (SELECT sum(committed) FROM order_line o WHERE o.item_id = s.item_id AND o.connection_id <> $2) AS other,
                    (SELECT json_agg(a) FROM source_adjustment a WHERE a.item_id = s.item_id) AS adj,
                    (SELECT json_agg(json_build_object('pub', l.published_quantity, 'state', l.remote_state, 'v', l.published_version, 'pv', l.pushed_version)) FROM listing l JOIN listing_component c ON c.listing_id = l.id WHERE c.item_id = s.item_id AND l.connection_id = $2) AS listing
               FROM stock_level s JOIN stock_item i ON i.id = s.item_id WHERE i.sku = $1`,
              [m.sku, world.connectionIds.get(world.source)],
            );
            const shop = sandbox.shop(world.source);
            const variant = [...shop.variants.values()].find((v) => v.sku === m.sku)!;
            console.log(
              "DEBUG",
              m,
              JSON.stringify(ledger.rows),
              JSON.stringify(
                [...shop.items.get(variant.inventoryItemId)!.levels.values()][0]!.quantities,
              ),
            );
          }
          return last.length === 0;
        },
        30_000,
        "convergence",
        () => world.output().slice(-3000) + "\nMISMATCHES " + JSON.stringify(last),
      );
      const convergedAt = Date.now();
      const afterLastEvent = convergedAt - lastDelivery;
      console.log(
        `e2e: ${attempts} checkouts tried, ${orders} orders, ${refused} refused (out of stock), ${fulfilled} fulfillments, ` +
          `${sandbox.deliveries().length - deliveriesBefore} webhook deliveries in ${BUY_MS / 1000} s; ` +
          `converged ${convergedAt - lastAction} ms after the last sale, ${afterLastEvent} ms after the last webhook`,
      );
      expect(afterLastEvent).toBeLessThanOrEqual(2_000);

      // A source level still owed its counting read (a shipment at the source seen by a read
      // before its webhook) may still move the ledger: the checks below wait for it, and for the
      // stores to show what it changes.
      await waitFor(
        async () =>
          (await sourceReadsOwed(world)) === 0 && (last = await mismatches(world)).length === 0,
        30_000,
        "source reads owed",
        () => "\nMISMATCHES " + JSON.stringify(last),
      );

      // (a) The ledger equals the stores' committed and shipped totals, and the physical stock.
      expect(await ledgerChecks(world, { stock })).toEqual([]);

      // (d) Every oversold unit is an incident: units sold beyond the stock, per SKU. A shortfall
      // is provisional until its item settles (issue 13): wait for none to be left, then compare
      // the confirmed units with the ground truth.
      const recorded = await confirmedOversells(world);
      const byStatus = await world.pg.query<{
        status: string;
        cause: string;
        n: number;
        units: number;
      }>(
        "SELECT status, COALESCE(cause, '-') || '/' || COALESCE(evidence->>'kind', '-') AS cause, count(*)::int AS n, COALESCE(sum(units), sum(shortfall))::int AS units FROM oversell_incident GROUP BY 1, 2 ORDER BY 1, 2",
      );
      console.log(`e2e incidents by status and cause: ${JSON.stringify(byStatus.rows)}`);
      const observed = observeSales(world, {
        since,
        shownAtStart,
        initialPool: (sku) => stock(Number(sku.slice(4))),
      });
      const truth = oversoldUnits(observed);
      let oversold = 0;
      for (let i = 0; i < SKUS; i++) {
        const over = Math.max(0, (sold.get(skuOf(i)) ?? 0) - stock(i));
        // Without restocks the ground truth (units sold beyond the pool at the time) is the same.
        expect(truth.perSku.get(skuOf(i))?.oversold ?? 0).toBe(over);
        oversold += over;
        expect({ sku: skuOf(i), oversold: recorded.get(skuOf(i)) ?? 0 }).toEqual({
          sku: skuOf(i),
          oversold: over,
        });
      }

      // (c) No write caused by an echo: every write changed something, and once converged the
      // echoes of our last writes (and any duplicate) make no further write.
      const quietStart = new Map(stores.map((s) => [s, sandbox.shop(s).mutationLog.length]));
      await new Promise((r) => setTimeout(r, 3_000));
      expect(await sandbox.waitForWebhooksIdle(10_000)).toBe(true);
      for (const store of stores) {
        expect({
          store,
          writesWhileQuiet: sandbox.shop(store).mutationLog.length - quietStart.get(store)!,
        }).toEqual({ store, writesWhileQuiet: 0 });
        const log = sandbox.shop(store).mutationLog.slice(mutationsBefore.get(store));
        for (const entry of log) expect(entry.changes.some((c) => c.delta !== 0)).toBe(true);
        const requests = sandbox
          .shop(store)
          .requestLog.filter((r) => /Set|Move|Adjust/.test(r.operationName ?? ""));
        expect(requests.every((r) => r.outcome !== "throttled")).toBe(true);
      }
      expect(await mismatches(world)).toEqual([]);

      // Sync latency: event received → every affected connection written.
      const latency = await world.pg.query<{ ms: number }>(`
      SELECT (EXTRACT(EPOCH FROM max(t.written_at) - r.received_at) * 1000)::int AS ms
        FROM push_trace t JOIN receipt r ON r.id = t.receipt_id GROUP BY r.id, r.received_at`);
      const ms = latency.rows.map((r) => r.ms);
      console.log(
        `e2e sync latency over ${ms.length} events: p50 ${percentile(ms, 50)} ms, p95 ${percentile(ms, 95)} ms, ` +
          `p99 ${percentile(ms, 99)} ms, max ${Math.max(...ms)} ms; oversold units ${oversold}`,
      );
      expect(ms.length).toBeGreaterThan(0);

      // Sale → every other store, from the sale's own time (issue 11).
      const report = saleLatency({ ...observed, end: Date.now() });
      console.log(
        `e2e sale → others over ${report.sales} sales: p50 ${report.p50} ms, p95 ${report.p95} ms, ` +
          `p99 ${report.p99} ms, max ${report.max} ms; ${report.timeouts} timeouts (not reflected by the end)\n` +
          `  slowest: ${describeSlowest(report, 5).join("\n           ")}`,
      );
      expect(report.sales).toBe(orders);
      expect(report.timeouts).toBe(0);
      const stages = await world.pg.query<{
        topic: string;
        n: number;
        delivery: number;
        ingest: number;
        push: number;
      }>(`
      SELECT r.topic, count(*)::int AS n,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM r.received_at - r.triggered_at) * 1000)::int AS delivery,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM r.applied_at - r.received_at) * 1000)::int AS ingest,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (SELECT max(t.written_at) FROM push_trace t WHERE t.receipt_id = r.id) - r.applied_at) * 1000)::int AS push
        FROM receipt r GROUP BY r.topic ORDER BY n DESC`);
      console.log(`e2e p95 per stage (ms): ${JSON.stringify(stages.rows)}`);
      if (process.env.E2E_DEBUG) {
        const attemptsAll = sandbox
          .deliveries()
          .flatMap((d) => d.attempts.map((a) => ({ ...a, triggered: d.triggeredAt })));
        const wait = attemptsAll.map(
          (a) => new Date(a.startedAt!).getTime() - new Date(a.scheduledAt).getTime(),
        );
        const took = attemptsAll.map((a) => a.durationMs ?? 0);
        const sched = attemptsAll.map(
          (a) => new Date(a.scheduledAt).getTime() - new Date(a.triggered).getTime(),
        );
        console.log(
          `deliveries: ${attemptsAll.length}; queued p95 ${percentile(wait, 95)} ms, request p95 ${percentile(took, 95)} ms, scheduled-after-trigger p95 ${percentile(sched, 95)} ms, failed ${attemptsAll.filter((a) => !a.ok).length}`,
        );
      }
    },
  );
});

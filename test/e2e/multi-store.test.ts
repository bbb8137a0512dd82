import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlError } from "../sandbox/shopify/errors";
import {
  describeSourceSku,
  mismatches,
  percentile,
  skuOf,
  startWorld,
  waitFor,
  type World,
} from "./world";

/**
 * Issue 4's end-to-end proof: web + worker + the local Shopify with a source store and two other
 * stores. Buyers on all three storefronts compete for 50 low-stock SKUs while webhooks are
 * delayed, duplicated and reordered (one store signs with its own secret); some orders ship.
 * Afterwards: (a) the ledger equals the stores' committed and shipped totals, (b) every store
 * shows its published quantity within 2 s of the last event, (c) no write was caused by an echo,
 * (d) every oversold unit is an incident. Prints the measured sync-latency distribution.
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
      ownSecretStore: 1,
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
        `e2e: ${attempts} checkouts tried, ${orders} orders, ${refused} refused (out of stock), ${fulfilled} fulfillments; ` +
          `converged ${convergedAt - lastAction} ms after the last sale, ${afterLastEvent} ms after the last webhook`,
      );
      expect(afterLastEvent).toBeLessThanOrEqual(2_000);

      // (a) The ledger equals the stores' committed and shipped totals, and the physical stock.
      const ledger = await world.pg.query<{
        sku: string;
        onHand: number;
        committed: number;
        shipped: number;
      }>(`
      SELECT i.sku, s.on_hand AS "onHand", s.committed,
             COALESCE((SELECT -sum(m.d_on_hand)::int FROM movement m WHERE m.item_id = i.id AND m.kind = 'shipped'), 0) AS shipped
        FROM stock_item i JOIN stock_level s ON s.item_id = i.id`);
      const storeLevel = (store: string, sku: string) => {
        const shop = sandbox.shop(store);
        const variant = [...shop.variants.values()].find((v) => v.sku === sku)!;
        const item = shop.items.get(variant.inventoryItemId)!;
        return [...item.levels.values()][0]!;
      };
      const storeShipped = (store: string, sku: string) =>
        [...sandbox.shop(store).orders.values()]
          .flatMap((o) => o.lineItems)
          .filter((l) => l.sku === sku)
          .reduce((s, l) => s + l.fulfilled, 0);
      for (const row of ledger.rows) {
        const committed = stores.reduce(
          (s, store) => s + storeLevel(store, row.sku).quantities.committed,
          0,
        );
        const shipped = stores.reduce((s, store) => s + storeShipped(store, row.sku), 0);
        expect({ sku: row.sku, committed: row.committed, shipped: row.shipped }).toEqual({
          sku: row.sku,
          committed,
          shipped,
        });
        // Physical stock: the source store's on_hand is the shelf, and the ledger agrees.
        const source = storeLevel(world.source, row.sku);
        const onHand = Object.entries(source.quantities)
          .filter(([name]) =>
            [
              "available",
              "committed",
              "reserved",
              "damaged",
              "safety_stock",
              "quality_control",
            ].includes(name),
          )
          .reduce((s, [, q]) => s + q, 0);
        // On a mismatch, print the SKU's movements and source levels for diagnosis.
        if (row.onHand !== onHand) console.log(await describeSourceSku(world, row.sku));
        expect({ sku: row.sku, onHand: row.onHand }).toEqual({ sku: row.sku, onHand });
        const index = Number(row.sku.slice(4));
        expect(row.onHand + row.shipped).toBe(stock(index));
        // Units sold elsewhere and not shipped sit in the source's `reserved` (as many as exist).
        const others = world.stores.reduce(
          (s, store) => s + storeLevel(store, row.sku).quantities.committed,
          0,
        );
        const reservable = Math.min(others, Math.max(0, onHand - source.quantities.committed));
        expect({ sku: row.sku, reserved: source.quantities.reserved }).toEqual({
          sku: row.sku,
          reserved: reservable,
        });
      }

      // (d) Every oversold unit is an incident: units sold beyond the stock, per SKU.
      const incidents = await world.pg.query<{ sku: string; units: number }>(
        "SELECT sku, sum(shortfall)::int AS units FROM oversell_incident GROUP BY sku",
      );
      const recorded = new Map(incidents.rows.map((r) => [r.sku, r.units]));
      let oversold = 0;
      for (let i = 0; i < SKUS; i++) {
        const over = Math.max(0, (sold.get(skuOf(i)) ?? 0) - stock(i));
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

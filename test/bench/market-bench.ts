/**
 * Market mode of the bench (`BENCH_MODE=market npm run bench`): simulated buyers on every
 * storefront buy whenever it shows stock, so oversells come from the system, not the script.
 * The same demand (a seeded arrival list: time, store, SKU) runs against
 *
 *   1. StockGuard with buffers off,
 *   2. StockGuard with buffers on (each other store holds back BENCH_MARKET_BUFFER units),
 *   2b. StockGuard with the buffers it recommends itself: a first market of the same rate (another
 *      seed) gives it an order history and measured sync delays, every order of it ships, the
 *      merchant restocks every SKU to its opening stock at the source, then
 *      `cli recommend:apply` (the Recommendations page's accept all) before the demand plays, at
 *      the shop's default service level (99 %) or BENCH_MARKET_SERVICE_LEVEL,
 *   3. a baseline that syncs by polling every BENCH_MARKET_POLL_S minutes of the merchant's time —
 *      a stand-in for the 5–60 minute polling tools (time-scaled: see BENCH_MARKET_SCALE; at the
 *      default 1 s of the bench stands for 1 min, so a 5-minute tool polls every 5 s) — which reads
 *      every store's orders and sets every store to stock − sold.
 *
 * For each it prints oversold units, orders that would have to be cancelled, and unit-minutes of
 * stock hidden (sellable units a storefront did not show, sampled every 200 ms, in the merchant's
 * unit-minutes),
 * with each store's hidden share (hidden over sellable unit-minutes).
 * Last line: one JSON object.
 */
import { ControlError } from "../sandbox/shopify/errors";
import { startLocalShopify } from "../sandbox/shopify/server";
import { skuOf, startWorld, waitFor, mismatches } from "../e2e/world";

const num = (name: string, fallback: number) =>
  process.env[name] ? Number(process.env[name]) : fallback;
/**
 * Rate, duration and poll interval are in the merchant's minutes; BENCH_MARKET_SCALE says how many
 * of the merchant's seconds one second of the bench stands for (default 60: 1 s = 1 min, so the
 * default 40-minute market plays in 40 s). Scaling compresses the buyers and the poller, not
 * StockGuard: its sync delay (webhook delivery 0.2–1.5 s, then the push) stays in real seconds,
 * so at 60 a one-second race window counts as a minute of the merchant's trading. A smaller scale
 * is closer to what a merchant sees (1 would be real time) and takes longer to run.
 */
const M = {
  skus: num("BENCH_MARKET_SKUS", 40),
  stock: num("BENCH_MARKET_STOCK", 6),
  stores: num("BENCH_CONNECTIONS", 4),
  /** Buyer arrivals per minute of the merchant's time. */
  rate: num("BENCH_MARKET_RATE", 12),
  /** Minutes of the merchant's time. */
  duration: num("BENCH_MARKET_DURATION", 40),
  buffer: num("BENCH_MARKET_BUFFER", 1),
  /** The polling tool's interval, in the merchant's minutes (the name predates the scale). */
  pollSeconds: num("BENCH_MARKET_POLL_S", 5),
  scale: num("BENCH_MARKET_SCALE", 60),
};
/** Merchant minutes → bench milliseconds. */
const benchMs = (minutes: number) => (minutes * 60_000) / M.scale;

type Arrival = { at: number; store: number; sku: string };

/** BENCH_SEED picks the demand (the recommended run learns from another seed's market). */
const SEED = num("BENCH_SEED", 20261126);

function arrivals(seed = SEED): Arrival[] {
  let s = seed;
  const random = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const list: Arrival[] = [];
  let t = 0; // merchant minutes
  for (;;) {
    t += -Math.log(1 - random()) / M.rate; // Poisson arrivals
    if (t >= M.duration) break;
    // Demand is skewed: a few SKUs sell fast, most slowly.
    const sku = Math.min(M.skus - 1, Math.floor(M.skus * random() ** 2));
    list.push({ at: benchMs(t), store: Math.floor(random() * M.stores), sku: skuOf(sku) });
  }
  return list;
}

type Market = {
  stores: string[];
  sandbox: Awaited<ReturnType<typeof startLocalShopify>>["sandbox"];
};

type Outcome = {
  oversold_units: number;
  orders_cancelled: number;
  hidden_unit_minutes: number;
  /** Unit-minutes hidden over unit-minutes of stock that existed, on every storefront. */
  hidden_share: number;
  /** The same per store. */
  hidden_share_by_store: Record<string, number>;
  orders: number;
  refused: number;
};

/** Plays the demand against the stores; buyers buy only what their storefront shows. */
async function play(
  market: Market,
  demand: Arrival[],
  tick?: (elapsedMs: number) => void,
): Promise<Outcome> {
  const sold = new Map<string, number>();
  const orderSkus: { sku: string; at: number }[] = [];
  let refused = 0;
  let hidden = 0;
  const hiddenBy = new Map<string, number>();
  let sellableMinutes = 0;
  const shown = (store: string, sku: string) => {
    const shop = market.sandbox.shop(store);
    const variant = [...shop.variants.values()].find((v) => v.sku === sku)!;
    const level = [...shop.items.get(variant.inventoryItemId)!.levels.values()][0]!;
    return level.quantities.available;
  };
  const started = performance.now();
  let lastSample = 0;
  const sampler = setInterval(() => {
    const now = performance.now() - started;
    const dt = (now - lastSample) / 1000;
    lastSample = now;
    for (let i = 0; i < M.skus; i++) {
      const sku = skuOf(i);
      const sellable = Math.max(0, M.stock - (sold.get(sku) ?? 0));
      sellableMinutes += sellable * dt;
      for (const store of market.stores) {
        const missing = Math.max(0, sellable - Math.max(0, shown(store, sku))) * dt;
        hidden += missing;
        hiddenBy.set(store, (hiddenBy.get(store) ?? 0) + missing);
      }
    }
  }, 200);
  for (const a of demand) {
    const wait = a.at - (performance.now() - started);
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    tick?.(performance.now() - started);
    const store = market.stores[a.store]!;
    if (shown(store, a.sku) < 1) {
      refused++;
      continue;
    }
    try {
      market.sandbox.checkout(store, { lines: [{ sku: a.sku, quantity: 1 }] });
      sold.set(a.sku, (sold.get(a.sku) ?? 0) + 1);
      orderSkus.push({ sku: a.sku, at: a.at });
    } catch (error) {
      if (!(error instanceof ControlError)) throw error;
      refused++;
    }
  }
  clearInterval(sampler);
  let oversold = 0;
  for (const [, units] of sold) oversold += Math.max(0, units - M.stock);
  // Every order beyond the stock of its SKU is one the merchant must cancel (1 unit each).
  return {
    oversold_units: oversold,
    orders_cancelled: oversold,
    hidden_unit_minutes: Math.round((hidden * M.scale) / 60), // bench unit-seconds → unit-minutes
    hidden_share:
      sellableMinutes > 0
        ? Math.round((hidden / (sellableMinutes * market.stores.length)) * 1000) / 1000
        : 0,
    hidden_share_by_store: Object.fromEntries(
      market.stores.map((store) => [
        store.split(".")[0]!,
        sellableMinutes > 0
          ? Math.round(((hiddenBy.get(store) ?? 0) / sellableMinutes) * 1000) / 1000
          : 0,
      ]),
    ),
    orders: orderSkus.length,
    refused,
  };
}

async function stockGuard(
  buffers: "off" | "flat" | "recommended",
  demand: Arrival[],
): Promise<Outcome & { incidents_units: number; rules?: number }> {
  const world = await startWorld({
    skus: M.skus,
    stock: () => M.stock,
    secondaryStores: M.stores - 1,
    delivery: { delayMs: [200, 1500], concurrency: 50 }, // Shopify's delivery: p50 ≈ 1 s
    env: { PUSH_COALESCE_MS: "200" },
  });
  try {
    let rules: number | undefined;
    if (buffers === "recommended") rules = await learnAndRecommend(world);
    if (buffers === "flat") {
      for (const store of world.stores) {
        await world.cli([
          "rule:set",
          "--shop",
          world.source,
          "--channel",
          world.connectionIds.get(store)!,
          "--kind",
          "reserve_units",
          "--value",
          String(M.buffer),
        ]);
      }
    }
    await waitFor(async () => (await mismatches(world)).length === 0, 60_000, "initial sync");
    // Incidents of this play only (the recommended run's learning market has its own).
    const before = await world.pg.query<{ id: string | null }>(
      "SELECT max(id)::text AS id FROM oversell_incident",
    );
    const outcome = await play(
      { stores: [world.source, ...world.stores], sandbox: world.shopify.sandbox },
      demand,
    );
    await world.shopify.sandbox.waitForWebhooksIdle(60_000);
    const incidents = await world.pg.query<{ n: number }>(
      "SELECT COALESCE(sum(shortfall), 0)::int AS n FROM oversell_incident WHERE id > COALESCE($1::bigint, 0)",
      [before.rows[0]!.id],
    );
    // Each oversell as StockGuard explains it: the store that sold past the stock, the cause,
    // and what every store showed (the "explain every oversell" view, one line each).
    const explained = await world.pg.query<{
      sku: string;
      store: string | null;
      cause: string | null;
      shortfall: number;
      evidence: unknown;
    }>(
      `SELECT i.sku, c.name AS store, i.cause, i.shortfall, i.evidence FROM oversell_incident i
         LEFT JOIN connection c ON c.id = i.connection_id
        WHERE i.id > COALESCE($1::bigint, 0) ORDER BY i.id`,
      [before.rows[0]!.id],
    );
    for (const i of explained.rows)
      process.stderr.write(
        `  oversell (buffers ${buffers}) ${i.sku} at ${i.store}: ${i.shortfall} unit(s), ${i.cause ?? "unclassified"} ${JSON.stringify(i.evidence)}\n`,
      );
    return {
      ...outcome,
      incidents_units: incidents.rows[0]!.n,
      ...(rules === undefined ? {} : { rules }),
    };
  } finally {
    await world.close();
  }
}

/**
 * The recommended run's preparation, all through the product's paths: a first market (another
 * seed) sells, every order ships, the merchant restocks each SKU to its opening stock at the
 * source, and once every store shows it again the recommendations are applied. Returns how many
 * rules were applied.
 */
async function learnAndRecommend(world: Awaited<ReturnType<typeof startWorld>>): Promise<number> {
  const stores = [world.source, ...world.stores];
  const sandbox = world.shopify.sandbox;
  await waitFor(async () => (await mismatches(world)).length === 0, 60_000, "initial sync");
  await play({ stores, sandbox }, arrivals(SEED + 7919));
  for (const store of stores) {
    for (const order of [...sandbox.shop(store).orders.values()])
      sandbox.fulfillOrder(store, String(order.id));
  }
  await sandbox.waitForWebhooksIdle(60_000);
  await waitFor(async () => (await mismatches(world)).length === 0, 60_000, "shipments synced");
  const source = sandbox.shop(world.source);
  for (let i = 0; i < M.skus; i++) {
    const variant = [...source.variants.values()].find((v) => v.sku === skuOf(i))!;
    const level = [...source.items.get(variant.inventoryItemId)!.levels.values()][0]!;
    const q = level.quantities;
    const onHand =
      q.available + q.committed + q.reserved + q.damaged + q.safety_stock + q.quality_control;
    const missing = M.stock - onHand;
    if (missing > 0) sandbox.adjustInventory(world.source, { sku: skuOf(i), delta: missing });
  }
  await sandbox.waitForWebhooksIdle(60_000);
  await waitFor(
    async () =>
      (await mismatches(world)).length === 0 &&
      (
        await world.pg.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM stock_level WHERE on_hand <> $1",
          [M.stock],
        )
      ).rows[0]!.n === 0,
    60_000,
    "restocked",
  );
  const applied = JSON.parse(
    await world.cli([
      "recommend:apply",
      "--shop",
      world.source,
      ...(process.env.BENCH_MARKET_SERVICE_LEVEL
        ? ["--service-level", process.env.BENCH_MARKET_SERVICE_LEVEL]
        : []),
      "--json",
    ]),
  ) as { applied: number };
  // What was applied, per store: how many SKUs got which "show 0 at or below" threshold.
  const byStore = await world.pg.query<{ store: string; value: number; n: number }>(
    `SELECT c.name AS store, r.value, count(*)::int AS n FROM buffer_rule r
       JOIN connection c ON c.id = r.connection_id GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  // The race window each store was given: sale elsewhere → this store first written with it
  // (p50 / p99, one sample per order, as the recommendations measure it), and its last stage:
  // the sale applied in the ledger → that write (push_p50 / push_p99).
  const delays = await world.pg.query<{
    store: string;
    p50: number;
    p99: number;
    push_p50: number;
    push_p99: number;
    n: number;
  }>(
    `WITH sale AS (
       SELECT c.name AS store,
              extract(epoch FROM min(pt.written_at) - min(LEAST(r.received_at, COALESCE(r.triggered_at, r.received_at)))) * 1000 AS ms,
              extract(epoch FROM min(pt.written_at) - min(COALESCE(r.applied_at, r.received_at))) * 1000 AS push_ms
         FROM push_trace pt JOIN receipt r ON r.id = pt.receipt_id
         JOIN connection c ON c.id = pt.connection_id
        WHERE pt.connection_id <> r.connection_id AND r.topic LIKE 'orders/%'
        GROUP BY c.name, r.connection_id, COALESCE(r.resource_id, r.id::text))
     SELECT store,
            round(percentile_disc(0.5) WITHIN GROUP (ORDER BY ms))::int AS p50,
            round(percentile_disc(0.99) WITHIN GROUP (ORDER BY ms))::int AS p99,
            round(percentile_disc(0.5) WITHIN GROUP (ORDER BY push_ms))::int AS push_p50,
            round(percentile_disc(0.99) WITHIN GROUP (ORDER BY push_ms))::int AS push_p99,
            count(*)::int AS n
       FROM sale GROUP BY 1 ORDER BY 1`,
  );
  process.stderr.write(
    `race window W per store (orders, ms): ${JSON.stringify(Object.fromEntries(delays.rows.map(({ store, ...w }) => [store, w])))}\n`,
  );
  const summary: Record<string, Record<string, number>> = {};
  for (const r of byStore.rows) (summary[r.store] ??= {})[`≤${r.value}`] = r.n;
  process.stderr.write(`recommended rules (store: threshold → SKUs): ${JSON.stringify(summary)}\n`);
  return applied.applied;
}

async function pollingBaseline(demand: Arrival[]): Promise<Outcome> {
  const stores = Array.from({ length: M.stores }, (_, i) => `poll-${i}.myshopify.com`);
  const local = await startLocalShopify({
    timeScale: 0.001,
    seed: {
      shops: stores.map((domain) => ({
        domain,
        products: Array.from({ length: M.skus }, (_, i) => ({
          title: `P${i}`,
          variants: [{ sku: skuOf(i), inventory: { Warehouse: M.stock } }],
        })),
      })),
    },
  });
  try {
    const sync = () => {
      const sold = new Map<string, number>();
      for (const store of stores) {
        for (const order of local.sandbox.shop(store).orders.values()) {
          for (const line of order.lineItems)
            if (line.sku) sold.set(line.sku, (sold.get(line.sku) ?? 0) + line.quantity);
        }
      }
      for (const store of stores) {
        for (let i = 0; i < M.skus; i++) {
          const sku = skuOf(i);
          const shop = local.sandbox.shop(store);
          const variant = [...shop.variants.values()].find((v) => v.sku === sku)!;
          const level = [...shop.items.get(variant.inventoryItemId)!.levels.values()][0]!;
          // What a polling tool does: every store shows stock − everything sold, set blindly.
          const target = Math.max(0, M.stock - (sold.get(sku) ?? 0));
          if (level.quantities.available !== target) {
            local.sandbox.setInventory(store, { sku, name: "available", quantity: target });
          }
        }
      }
    };
    let nextPoll = benchMs(M.pollSeconds);
    return await play({ stores, sandbox: local.sandbox }, demand, (elapsed) => {
      while (elapsed >= nextPoll) {
        sync();
        nextPoll += benchMs(M.pollSeconds);
      }
    });
  } finally {
    await local.close();
  }
}

/** BENCH_MARKET_MODES picks the runs (default all four: off,flat,recommended,polling). */
const MODES = new Set(
  (process.env.BENCH_MARKET_MODES ?? "off,flat,recommended,polling")
    .split(",")
    .map((m) => m.trim()),
);

export async function runMarket(): Promise<void> {
  const demand = arrivals();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(
    `market: ${JSON.stringify(M)}; ${demand.length} buyer arrivals; modes ${[...MODES].join(",")}`,
  );
  const run = async <T>(mode: string, label: string, go: () => Promise<T>) => {
    if (!MODES.has(mode)) return null;
    const outcome = await go();
    log(`${label}: ${JSON.stringify(outcome)}`);
    return outcome;
  };
  const off = () => run("off", "stockguard, buffers off", () => stockGuard("off", demand));
  const on = () => run("flat", "stockguard, buffers on", () => stockGuard("flat", demand));
  const recommended = () =>
    run("recommended", "stockguard, buffers recommended", () => stockGuard("recommended", demand));
  const polling = () =>
    run("polling", `polling every ${M.pollSeconds} min`, () => pollingBaseline(demand));
  // One after the other by default; BENCH_MARKET_PARALLEL=1 plays the modes at the same time,
  // each in its own world (its own local Shopify, processes, database and queues), so a run in
  // real time (BENCH_MARKET_SCALE=1: 40 minutes a play, 80 for the recommended run's learning
  // and play) takes the longest mode's time, not the sum. The modes then share the machine's
  // cores; at the market's rate (12 buyers a minute) that costs little, and what it costs lands
  // on StockGuard's own delays (the race window), never in its favour.
  // (A world's web that finds build/ stale builds it under the build lock: one builds, the
  // others wait for it inside their start-up timeout.)
  const [offOutcome, onOutcome, recommendedOutcome, pollingOutcome] =
    process.env.BENCH_MARKET_PARALLEL === "1"
      ? await Promise.all([off(), on(), recommended(), polling()])
      : [await off(), await on(), await recommended(), await polling()];
  process.stdout.write(
    `${JSON.stringify({ mode: "market", ...M, seed: SEED, service_level: Number(process.env.BENCH_MARKET_SERVICE_LEVEL ?? 0.99), arrivals: demand.length, stockguard_buffers_off: offOutcome, stockguard_buffers_on: onOutcome, stockguard_buffers_recommended: recommendedOutcome, polling_baseline: pollingOutcome })}\n`,
  );
}

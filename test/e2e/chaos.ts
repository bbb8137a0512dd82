/**
 * The three-store chaos world of issue 11 ("First: never stuck"), shared by
 * test/e2e/convergence.test.ts (a few seeds in CI) and test/bench/soak.ts (many seeds).
 *
 * World: a source store and two other stores selling one pool of 40 low-stock SKUs, webhooks
 * duplicated (20%), delayed 0–1.5 s and so reordered, 5% of first attempts lost and retried 1–3 s
 * later. A round (`chaosRound`): buyers on all three storefronts (~30 attempts/s, a few hot
 * SKUs), cancels with restock, receipts at the source and some fulfilments, for `durationMs`;
 * then, with nothing happening any more, the checks:
 *
 * 1. converged: once every webhook is delivered, every store shows its published quantity and
 *    the ground truth (max(0, pool) from the stores' own records) within `convergeMs`;
 * 2. quiet: no Admin API write during a further `quietMs`;
 * 3. the ledger matches the stores' committed and shipped units and the physical stock
 *    (`ledgerChecks`).
 *
 * A round that fails 1 is "stuck": its report names the SKUs with what each store shows, what
 * is published, the truth, and the SKU's state at the source.
 */
import { ControlError } from "../sandbox/shopify/errors";
import {
  describePercentiles,
  describeSlowest,
  oversoldUnits,
  percentiles,
  saleLatency,
  type Percentiles,
  type SaleLatencyReport,
} from "../helpers/sale-latency";
import type { DeliveryConfig } from "../sandbox/shopify/webhooks";
import {
  describeSourceSku,
  ledgerChecks,
  mismatches,
  observeSales,
  receivedAtSource,
  shownNow,
  skuOf,
  startWorld,
  truthMismatches,
  waitFor,
  writesDuring,
  type World,
} from "./world";

export const CHAOS_SKUS = 40;
/** 3..8 units each: SKUs sell out, receipts bring some back. */
export const chaosStock = (i: number) => 3 + (i % 6);

export const CHAOS_DELIVERY: Partial<DeliveryConfig> = {
  delayMs: [0, 1_500],
  reorder: true,
  duplicateProbability: 0.2,
  dropFirstProbability: 0.05,
  dropRetryMs: [1_000, 3_000],
  // Shopify delivers many webhooks to one address at once.
  concurrency: 50,
};

export async function startChaosWorld(
  seed: number,
  extra: { logs?: boolean; env?: Record<string, string> } = {},
): Promise<World> {
  const world = await startWorld({
    skus: CHAOS_SKUS,
    stock: chaosStock,
    secondaryStores: 2,
    rngSeed: seed,
    env: { PUSH_COALESCE_MS: "100", ...extra.env },
    ...(extra.logs ? { logs: true } : {}),
  });
  // Connecting a store enqueues its catalog import: until it has run, that store has no listing
  // and "no mismatch" holds vacuously — the first seed's storm used to start while a store was
  // still being imported, and its sales' latency included the import.
  await waitFor(
    async () => (await storesNotImported(world)) === 0 && (await mismatches(world)).length === 0,
    60_000,
    "initial convergence",
    world.output,
  );
  // Chaos from here on (the set-up's echoes were delivered plainly).
  world.shopify.sandbox.configureDelivery(CHAOS_DELIVERY);
  return world;
}

async function storesNotImported(world: World): Promise<number> {
  const rows = await world.pg.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM connection WHERE imported_at IS NULL",
  );
  return rows.rows[0]!.n;
}

export type ChaosOptions = {
  seed: number;
  durationMs?: number;
  /** Checkout attempts per second over the three stores. */
  rate?: number;
  /** After the last webhook, how long the stores may take to converge. */
  convergeMs?: number;
  /** The further quiet window in which no write may happen. */
  quietMs?: number;
};

export type StuckSku = {
  sku: string;
  stores: {
    store: string;
    shows: number;
    published: number | null;
    truth: number;
    dirty: boolean;
    /** The level's last changes: "hh:mm:ss.mmm cause → available". */
    recent: string[];
  }[];
  source: string;
};

export type ChaosResult = {
  seed: number;
  attempts: number;
  orders: number;
  refused: number;
  cancels: number;
  receipts: number;
  fulfilments: number;
  /** Webhooks all delivered within the wait (false: some still pending, e.g. failing). */
  delivered: boolean;
  /** ms from the last delivered webhook until every store showed its published quantity and
   * the truth; null when not within `convergeMs` (stuck). */
  convergedMs: number | null;
  stuck: StuckSku[];
  writesWhileQuiet: Record<string, number>;
  /** Mismatches found again after the quiet window (a store changed on its own, or a write). */
  afterQuiet: { store: string; sku: string; shows: number; truth: number }[];
  ledger: string[];
  latency: SaleLatencyReport;
  /**
   * From each sale of the round to the first of its webhooks (its orders/create or a level
   * update it caused, duplicates included) that reached StockGuard: the floor under the sale →
   * others latency that no sync can beat (the chaos delays, drops and retries), in ms.
   */
  firstSignal: Percentiles;
  /** The same to when StockGuard's web had answered that webhook (stored, and applied or queued). */
  firstAck: Percentiles;
  /**
   * To when the web had answered the sale's orders/create: a level update can come first but
   * often cannot be placed against StockGuard's own writes (it is read, not believed), so the
   * order is what most sales wait for.
   */
  orderAck: Percentiles;
};

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** One storm on the world, then the checks (see the opening comment). Never throws on a check. */
export async function chaosRound(world: World, options: ChaosOptions): Promise<ChaosResult> {
  const durationMs = options.durationMs ?? 20_000;
  const rate = options.rate ?? 30;
  const convergeMs = options.convergeMs ?? 30_000;
  const quietMs = options.quietMs ?? 5_000;
  const sandbox = world.shopify.sandbox;
  const stores = [world.source, ...world.stores];
  sandbox.setRngSeed(options.seed);
  const random = rng(options.seed);
  const pick = <T>(list: readonly T[]): T | undefined => list[Math.floor(random() * list.length)];
  const skus = Array.from({ length: CHAOS_SKUS }, (_, i) => skuOf(i));
  const counts = { attempts: 0, orders: 0, refused: 0, cancels: 0, receipts: 0, fulfilments: 0 };

  // The pool when this round starts, from the stores' records since the world began.
  const since = Date.now();
  const shownAtStart = shownNow(world);
  const previous = truthPool(world);
  const until = since + durationMs;
  const openOrders = (store: string) =>
    [...sandbox.shop(store).orders.values()].filter(
      (o) =>
        !o.cancelledAt &&
        o.lineItems.some((l) => l.quantity + l.editDelta - l.fulfilled - l.refundedUnfulfilled > 0),
    );
  const every = async (ms: number, action: () => void) => {
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, ms * (0.5 + random())));
      if (Date.now() < until) action();
    }
  };
  const buyers = async () => {
    const gap = 1000 / rate;
    for (let i = 0; Date.now() < until; i++) {
      const due = since + i * gap;
      const wait = due - Date.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      if (Date.now() >= until) break;
      const store = pick(stores)!;
      // A third of the demand on four hot SKUs.
      const sku = random() < 0.33 ? skus[Math.floor(random() * 4)]! : pick(skus)!;
      counts.attempts++;
      try {
        sandbox.checkout(store, { lines: [{ sku, quantity: random() < 0.8 ? 1 : 2 }] });
        counts.orders++;
      } catch (error) {
        if (!(error instanceof ControlError)) throw error;
        counts.refused++;
      }
    }
  };
  await Promise.all([
    buyers(),
    // Cancels with restock, on any store.
    every(700, () => {
      const store = pick(stores)!;
      const order = pick(openOrders(store));
      if (!order) return;
      sandbox.cancelOrder(store, String(order.id), { reason: "customer", restock: true });
      counts.cancels++;
    }),
    // Receipts at the source.
    every(1_000, () => {
      sandbox.adjustInventory(world.source, {
        sku: pick(skus)!,
        delta: 1 + Math.floor(random() * 4),
      });
      counts.receipts++;
    }),
    // Some orders ship.
    every(500, () => {
      const store = pick(stores)!;
      const order = pick(openOrders(store));
      if (!order) return;
      sandbox.fulfillOrder(store, String(order.id));
      counts.fulfilments++;
    }),
  ]);

  // 1. Converged once everything is delivered (retries of dropped attempts included).
  const delivered = await sandbox.waitForWebhooksIdle(60_000);
  const observed = () =>
    observeSales(world, { since, shownAtStart, initialPool: (sku) => previous.get(sku) ?? 0 });
  let convergedMs: number | null = null;
  const idleAt = Date.now();
  try {
    await waitFor(
      async () =>
        (await mismatches(world)).length === 0 &&
        truthMismatches(world, observed(), skus).length === 0,
      convergeMs,
      "convergence",
    );
    convergedMs = Date.now() - idleAt;
  } catch {
    convergedMs = null;
  }
  const settledAt = Date.now();
  const stuck = convergedMs === null ? await describeStuck(world, observed(), skus) : [];

  // 2. Quiet: nothing sold, nothing delivered; no write may happen.
  const writesWhileQuiet = await writesDuring(world, quietMs);
  const afterQuiet = truthMismatches(world, observed(), skus);

  // 3. The ledger against the stores and the shelf.
  const ledger = await ledgerChecks(world, {
    stock: chaosStock,
    received: receivedAtSource(world),
  });

  return {
    seed: options.seed,
    ...counts,
    delivered,
    convergedMs,
    stuck,
    writesWhileQuiet,
    afterQuiet,
    ledger,
    latency: saleLatency({ ...observed(), end: settledAt }),
    ...firstSignal(sandbox, stores, since),
  };
}

/** See `ChaosResult.firstSignal`. A sale's webhooks share its shop and its trigger time. */
function firstSignal(
  sandbox: World["shopify"]["sandbox"],
  stores: readonly string[],
  since: number,
): Pick<ChaosResult, "firstSignal" | "firstAck" | "orderAck"> {
  const bySale = new Map<
    string,
    { sale: boolean; reached: number; acked: number; orderAcked: number }
  >();
  for (const store of stores) {
    for (const d of sandbox.deliveries(store)) {
      const at = Date.parse(d.triggeredAt);
      if (at < since) continue;
      const key = `${store}|${d.triggeredAt}`;
      const entry = bySale.get(key) ?? {
        sale: false,
        reached: Infinity,
        acked: Infinity,
        orderAcked: Infinity,
      };
      const order = d.topic === "orders/create";
      entry.sale ||= order;
      for (const a of d.attempts.filter((x) => !x.dropped)) {
        entry.reached = Math.min(entry.reached, Date.parse(a.startedAt) - at);
        if (!a.ok) continue;
        entry.acked = Math.min(entry.acked, Date.parse(a.finishedAt) - at);
        if (order) entry.orderAcked = Math.min(entry.orderAcked, Date.parse(a.finishedAt) - at);
      }
      bySale.set(key, entry);
    }
  }
  const sales = [...bySale.values()].filter((e) => e.sale);
  return {
    firstSignal: percentiles(sales.map((e) => e.reached)),
    firstAck: percentiles(sales.map((e) => e.acked)),
    orderAck: percentiles(sales.map((e) => e.orderAcked)),
  };
}

/**
 * The ground-truth pool per SKU now: the opening stock moved by every sale, restock and receipt
 * the stores recorded since the world began (independent of what the hub believes).
 */
export function truthPool(world: World): Map<string, number> {
  const all = observeSales(world, {
    since: 0,
    shownAtStart: new Map(),
    initialPool: (sku) => chaosStock(Number(sku.slice(4))),
  });
  const pools = oversoldUnits(all).perSku;
  return new Map(
    Array.from({ length: CHAOS_SKUS }, (_, i) => [
      skuOf(i),
      pools.get(skuOf(i))?.finalPool ?? chaosStock(i),
    ]),
  );
}

async function describeStuck(
  world: World,
  observed: ReturnType<typeof observeSales>,
  skus: string[],
): Promise<StuckSku[]> {
  const published = await mismatches(world);
  const truth = truthMismatches(world, observed, skus);
  const bad = [...new Set([...published.map((m) => m.sku), ...truth.map((m) => m.sku)])].sort();
  const pools = oversoldUnits(observed).perSku;
  const shown = shownNow(world);
  const listings = await world.pg.query<{
    store: string;
    sku: string;
    published: number;
    dirty: boolean;
  }>(`SELECT c.account_ref AS store, l.sku, l.published_quantity AS published,
             l.published_version > l.pushed_version AS dirty
        FROM listing l JOIN connection c ON c.id = l.connection_id WHERE l.status = 'active'`);
  const out: StuckSku[] = [];
  for (const sku of bad) {
    const truthValue = Math.max(0, pools.get(sku)?.finalPool ?? observed.initialPool(sku));
    out.push({
      sku,
      stores: [world.source, ...world.stores].map((store) => {
        const listing = listings.rows.find((l) => l.store === store && l.sku === sku);
        const recent = world.shopify.sandbox
          .levelHistory(store, { since: observed.history[0]?.at ?? 0, sku })
          .slice(-6)
          .map((e) => `${new Date(e.at).toISOString().slice(11, 23)} ${e.cause} → ${e.available}`);
        return {
          store,
          shows: shown.get(store)?.get(sku) ?? Number.NaN,
          published: listing?.published ?? null,
          truth: truthValue,
          dirty: listing?.dirty ?? false,
          recent,
        };
      }),
      source: await describeSourceSku(world, sku),
    });
  }
  return out;
}

/** A one-paragraph account of a round, for logs. */
export function describeRound(r: ChaosResult): string {
  const quiet = Object.values(r.writesWhileQuiet).reduce((s, n) => s + n, 0);
  const head =
    `seed ${r.seed}: ${r.attempts} checkouts tried, ${r.orders} orders, ${r.refused} refused, ` +
    `${r.cancels} cancels, ${r.receipts} receipts, ${r.fulfilments} fulfilments; ` +
    (r.convergedMs === null
      ? `STUCK on ${r.stuck.length} SKUs`
      : `converged ${r.convergedMs} ms after the last webhook`) +
    `${r.delivered ? "" : " (webhooks still pending)"}; ${quiet} writes while quiet ${JSON.stringify(r.writesWhileQuiet)}; ` +
    `ledger ${r.ledger.length === 0 ? "ok" : `${r.ledger.length} problems`}; ` +
    `sale → others ${describePercentiles(r.latency)}, ${r.latency.timeouts} timeouts; ` +
    `sale → its first webhook sent ${describePercentiles(r.firstSignal)}, ` +
    `answered ${describePercentiles(r.firstAck)}; ` +
    `its order answered ${describePercentiles(r.orderAck)}`;
  const lines = [head];
  for (const s of r.stuck) {
    lines.push(
      `  stuck ${s.sku}: ${s.stores
        .map(
          (x) =>
            `${x.store.split(".")[0]} shows ${x.shows} (published ${x.published}${x.dirty ? ", dirty" : ""}, truth ${x.truth})`,
        )
        .join("; ")}\n    ${s.source.replace(/\n/g, "\n    ")}` +
        s.stores
          .map((x) => `\n    ${x.store.split(".")[0]} last changes: ${x.recent.join(", ")}`)
          .join(""),
    );
  }
  for (const m of r.afterQuiet)
    lines.push(`  after quiet: ${m.store} ${m.sku} shows ${m.shows}, truth ${m.truth}`);
  for (const p of r.ledger.slice(0, 10)) lines.push(`  ledger: ${p}`);
  for (const s of describeSlowest(r.latency, 3)) lines.push(`  slow sale: ${s}`);
  return lines.join("\n");
}

/**
 * Sale → every other channel, measured from the sale; and ground-truth oversold units. Pure: no
 * I/O, no clock. The inputs come from the local Shopify (orders, level history), see
 * `observeSales` in test/e2e/world.ts.
 *
 * ## Ground truth
 *
 * The pool of a SKU is the stock every channel sells from. It starts at `initialPool` and moves
 * by every sale (−units) and every other stock-changing event (`changes`: a cancel with restock
 * +units at the store that sold, a receipt or restock at the source ±units). Fulfilments do not
 * change it (committed → shipped), nor does a cancel without restock. With no buffer rules every
 * store should show max(0, pool): `pool(τ)` is what the hub could legitimately publish at τ.
 *
 * ## When a sale is reflected on another store
 *
 * A store's own events change its `available` at once and the pool by the same amount: a store
 * that showed the truth still shows it after selling (its own decrement is not a write of the
 * hub), and a store that was behind by the other stores' sales stays exactly as far behind. So a
 * store X is judged by its value with its own later events taken out. With
 *
 *   a_X(T)     X's `available` at T (its level history; X offers max(0, a_X)),
 *   L_X(τ, T]  the net change of X's own events (its sales, its restocks) in (τ, T],
 *
 * a sale at store S at time t is reflected on X ≠ S at the first T ≥ t for which some
 * τ ∈ [t, T] has
 *
 *   max(0, a_X(T) − L_X(τ, T]) = max(0, pool(τ))
 *
 * i.e. X shows the quantity after the sale, or a later legitimate value, once its own events since
 * then are counted. This is robust to
 * - the selling store's own decrement: S is never judged for its own sale (its drop is the sale,
 *   not a write), and S's later sales only move S;
 * - buyers on X: a purchase on a stale X lowers a_X and the pool together, so it never makes X
 *   look up to date (comparing a_X with pool(τ) alone would: a stale 5, an X sale of 1 and a sale
 *   of 1 on S make X show 4 = pool just after the S sale);
 * - buyers on other stores and restocks: they move the pool; X may skip straight to a later
 *   value (the hub coalescing several sales into one write counts as reflecting each of them);
 * - oversells: while pool ≤ 0 any a_X ≤ 0 (after taking out its own events) is right.
 * Values are compared at millisecond granularity, after every event of that millisecond.
 *
 * Latency of a sale = max over the other stores that list the SKU of (T_X − t). A sale not
 * reflected on some store by `end` gets latency end − t and counts as a timeout (never dropped).
 * A store lists a SKU when `initialShown` gives it a value or its history names the SKU. One
 * level per (store, SKU) is assumed (the worlds here have one location per store).
 *
 * ## Oversold units
 *
 * Per SKU, over the pool's events in time order (restocks before sales within one millisecond):
 * the sum of the growth of the shortfall max(0, −pool) — the units of each sale not covered by
 * the pool just before it, Σ max(0, units − max(0, pool before)), when only sales lower the pool.
 * Units a later cancel or receipt made good still count: they were sold when they did not exist.
 * Without restocks this is max(0, sold − stock); `maxShortfall` (max(0, −min pool)) is given
 * beside it. It is the same sum of shortfall growth the ledger records as incidents, but in the
 * order things happened at the stores rather than the order the hub learnt of them.
 */

export type Sale = {
  /** For diagnosis (e.g. "store-b#1042"). */
  id?: string;
  store: string;
  sku: string;
  units: number;
  /** Epoch ms of the sale at the store. */
  at: number;
};

/** A stock-changing event other than a sale, at `store` (a restock, a receipt). */
export type StockChange = {
  store: string;
  sku: string;
  delta: number;
  at: number;
  kind?: string;
};

/** A store's `available` for a SKU from `at` on. */
export type ShownValue = { store: string; sku: string; at: number; available: number };

export type SaleLatencyInput = {
  sales: readonly Sale[];
  changes?: readonly StockChange[];
  /** The pool per SKU when the observation starts (before every sale and change given). */
  initialPool: (sku: string) => number;
  /** What a store's level holds when the observation starts; undefined: not listed there. */
  initialShown: (store: string, sku: string) => number | undefined;
  /** Every change of a store's `available` after the start, including the stores' own events. */
  history: readonly ShownValue[];
  /** Stores to judge (default: every store named in the sales, changes and history). */
  stores?: readonly string[];
  /** The end of the observation (epoch ms). */
  end: number;
  /** How many of the slowest sales to describe (default 10). */
  slowest?: number;
};

export type SaleOutcome = {
  sale: Sale;
  latencyMs: number;
  timedOut: boolean;
  /** The store reflected last (or one never reflected), null when no other store lists the SKU. */
  lastStore: string | null;
  /** Per other store: ms until reflected, null when never. */
  perStore: Record<string, number | null>;
};

export type SaleLatencyReport = {
  /** Sales judged (every sale with at least one other store listing its SKU). */
  sales: number;
  reflected: number;
  timeouts: number;
  /** Sales whose SKU no other store lists (nothing to reflect; not in the percentiles). */
  unlisted: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** The slowest sales, slowest first. */
  slowest: SaleOutcome[];
  outcomes: SaleOutcome[];
};

/** Nearest-rank percentile (the same rule as test/e2e/world.ts); NaN for no values. */
export function percentileOf(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export type Percentiles = { p50: number; p95: number; p99: number; max: number };

/** p50 / p95 / p99 (nearest rank) and the maximum of `values`; NaN for none. */
export function percentiles(values: readonly number[]): Percentiles {
  return {
    p50: percentileOf(values, 50),
    p95: percentileOf(values, 95),
    p99: percentileOf(values, 99),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
  };
}

/** "p50 … p95 … p99 … max … ms". */
export function describePercentiles(p: Percentiles): string {
  return `p50 ${p.p50} p95 ${p.p95} p99 ${p.p99} max ${p.max} ms`;
}

type Step =
  | { at: number; order: number; kind: "pool"; store: string; delta: number; sale?: number }
  | { at: number; order: number; kind: "shown"; store: string; available: number };

/** One store watching for one sale: the values it may legitimately show, and since when. */
type Watch = {
  sale: number;
  store: string;
  /** b = a_X − C_X values that match a τ with pool(τ) > 0: pool(τ) − C_X(τ). */
  targets: Set<number>;
  /** Largest −C_X(τ) over the τ with pool(τ) ≤ 0 (any b at or below it matches). */
  bound: number;
};

function bySku<T extends { sku: string }>(list: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of list) {
    const group = out.get(item.sku);
    if (group) group.push(item);
    else out.set(item.sku, [item]);
  }
  return out;
}

export function saleLatency(input: SaleLatencyInput): SaleLatencyReport {
  const changes = input.changes ?? [];
  const allStores = new Set<string>(input.stores ?? []);
  if (!input.stores) {
    for (const list of [input.sales, changes, input.history]) {
      for (const entry of list) allStores.add(entry.store);
    }
  }
  const salesBySku = bySku(input.sales.map((sale, index) => ({ ...sale, index })));
  const changesBySku = bySku(changes);
  const historyBySku = bySku(input.history);
  const reflectedAt = input.sales.map(() => new Map<string, number | null>());

  for (const [sku, sales] of salesBySku) {
    // The timeline of this SKU: pool events (sales, changes) and shown values, in time order.
    const steps: Step[] = [];
    let order = 0;
    for (const c of changesBySku.get(sku) ?? []) {
      steps.push({ at: c.at, order: order++, kind: "pool", store: c.store, delta: c.delta });
    }
    for (const s of sales) {
      steps.push({
        at: s.at,
        order: order++,
        kind: "pool",
        store: s.store,
        delta: -s.units,
        sale: s.index,
      });
    }
    for (const h of historyBySku.get(sku) ?? []) {
      steps.push({
        at: h.at,
        order: order++,
        kind: "shown",
        store: h.store,
        available: h.available,
      });
    }
    steps.sort((a, b) => a.at - b.at || a.order - b.order);

    const listed = new Set<string>();
    const shown = new Map<string, number>();
    for (const store of allStores) {
      const value = input.initialShown(store, sku);
      if (value !== undefined) {
        listed.add(store);
        shown.set(store, value);
      }
    }
    for (const h of historyBySku.get(sku) ?? []) listed.add(h.store);
    const own = new Map<string, number>(); // C_X: net of X's own events so far
    let pool = input.initialPool(sku);
    let open: Watch[] = [];

    for (let i = 0; i < steps.length;) {
      const at = steps[i]!.at;
      const started: number[] = [];
      // Every event of this millisecond first, then judge.
      for (; i < steps.length && steps[i]!.at === at; i++) {
        const step = steps[i]!;
        if (step.kind === "shown") {
          shown.set(step.store, step.available);
          continue;
        }
        pool += step.delta;
        own.set(step.store, (own.get(step.store) ?? 0) + step.delta);
        if (step.sale !== undefined) started.push(step.sale);
      }
      for (const saleIndex of started) {
        const seller = input.sales[saleIndex]!.store;
        for (const store of listed) {
          if (store === seller) continue;
          open.push({ sale: saleIndex, store, targets: new Set(), bound: -Infinity });
        }
      }
      if (open.length === 0) continue;
      const still: Watch[] = [];
      for (const watch of open) {
        const c = own.get(watch.store) ?? 0;
        if (pool > 0) watch.targets.add(pool - c);
        else watch.bound = Math.max(watch.bound, -c);
        const a = shown.get(watch.store);
        const b = a === undefined ? undefined : a - c;
        if (b !== undefined && (watch.targets.has(b) || b <= watch.bound)) {
          reflectedAt[watch.sale]!.set(watch.store, at);
        } else still.push(watch);
      }
      open = still;
    }
    for (const watch of open) reflectedAt[watch.sale]!.set(watch.store, null);
  }

  const outcomes: SaleOutcome[] = [];
  let unlisted = 0;
  input.sales.forEach((sale, index) => {
    const stores = reflectedAt[index]!;
    if (stores.size === 0) {
      unlisted++;
      return;
    }
    let latencyMs = -1;
    let lastStore: string | null = null;
    const perStore: Record<string, number | null> = {};
    for (const [store, at] of [...stores].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      perStore[store] = at === null ? null : at - sale.at;
      if (at !== null && at - sale.at > latencyMs) {
        latencyMs = at - sale.at;
        lastStore = store;
      }
    }
    // A store that never reflected it: the sale counts until the end, and that store is named.
    const never = Object.entries(perStore).find(([, ms]) => ms === null)?.[0];
    const timedOut = never !== undefined;
    if (never !== undefined) {
      latencyMs = Math.max(0, input.end - sale.at);
      lastStore = never;
    }
    outcomes.push({ sale, latencyMs, timedOut, lastStore, perStore });
  });
  const latencies = outcomes.map((o) => o.latencyMs);
  const slowest = [...outcomes]
    .sort((a, b) => b.latencyMs - a.latencyMs || a.sale.at - b.sale.at)
    .slice(0, input.slowest ?? 10);
  return {
    sales: outcomes.length,
    reflected: outcomes.filter((o) => !o.timedOut).length,
    timeouts: outcomes.filter((o) => o.timedOut).length,
    unlisted,
    ...percentiles(latencies),
    slowest,
    outcomes,
  };
}

/** One line per slow sale: "412 ms SKU-00003 sold on store-b (#1042), last store-c [per store]". */
export function describeSlowest(report: SaleLatencyReport, count = 5): string[] {
  return report.slowest.slice(0, count).map((o) => {
    const per = Object.entries(o.perStore)
      .map(([store, ms]) => `${store.split(".")[0]} ${ms === null ? "never" : `${ms} ms`}`)
      .join(", ");
    const id = o.sale.id ? ` (${o.sale.id})` : "";
    return `${o.latencyMs} ms${o.timedOut ? " (timeout)" : ""} ${o.sale.sku} ×${o.sale.units} sold on ${o.sale.store}${id} at ${new Date(o.sale.at).toISOString()}; last ${o.lastStore ?? "-"} [${per}]`;
  });
}

export type OversoldReport = {
  /** Σ over SKUs of the units sold beyond the pool (see the opening comment). */
  units: number;
  perSku: Map<string, { oversold: number; maxShortfall: number; finalPool: number }>;
};

export function oversoldUnits(input: {
  sales: readonly Sale[];
  changes?: readonly StockChange[];
  initialPool: (sku: string) => number;
}): OversoldReport {
  type Event = { at: number; delta: number };
  const events = new Map<string, Event[]>();
  const add = (sku: string, event: Event) => {
    const list = events.get(sku);
    if (list) list.push(event);
    else events.set(sku, [event]);
  };
  for (const c of input.changes ?? []) add(c.sku, { at: c.at, delta: c.delta });
  for (const s of input.sales) add(s.sku, { at: s.at, delta: -s.units });
  const perSku = new Map<string, { oversold: number; maxShortfall: number; finalPool: number }>();
  let units = 0;
  for (const [sku, list] of events) {
    // Within one millisecond, increases first (the benefit of the doubt goes to the stores).
    list.sort((a, b) => a.at - b.at || b.delta - a.delta);
    let pool = input.initialPool(sku);
    let oversold = 0;
    let maxShortfall = Math.max(0, -pool);
    for (const { delta } of list) {
      const before = Math.max(0, -pool);
      pool += delta;
      const after = Math.max(0, -pool);
      oversold += Math.max(0, after - before);
      maxShortfall = Math.max(maxShortfall, after);
    }
    perSku.set(sku, { oversold, maxShortfall, finalPool: pool });
    units += oversold;
  }
  return { units, perSku };
}

/** Sale latency within the target: the lead's assertion, `expect(withinTarget(r)).toEqual(…)`. */
export function saleLatencyVerdict(
  report: SaleLatencyReport,
  target: { p99Ms: number; p95Ms?: number } = { p99Ms: 2_000, p95Ms: 1_000 },
): { p95: number; p99: number; timeouts: number; ok: boolean } {
  const ok =
    report.timeouts === 0 &&
    report.p99 <= target.p99Ms &&
    (target.p95Ms === undefined || report.p95 <= target.p95Ms);
  return { p95: report.p95, p99: report.p99, timeouts: report.timeouts, ok };
}

/**
 * Demand model for buffer recommendations: per SKU and channel, the sales rate and its
 * variability from the order history, over the busiest window that holds enough orders (sparse
 * SKUs borrow strength from their pool), with flash-sale awareness (a recent burst well above
 * the baseline replaces it). Pure: the caller passes the history and `now`.
 */
import { meanVariance } from "./stats";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** One order line as demand: `units` of `sku` sold on `channelId` at `at` (ms since epoch). */
export type Sale = { at: number; channelId: string; sku: string; units: number };

export type DemandOptions = {
  now: number;
  /** Candidate windows, any order (default 1, 7, 28, 90 days). */
  windowsMs?: readonly number[];
  /** Orders a window needs before its rate is trusted on its own (default 20). */
  minOrders?: number;
  /** Bucket for variability (default 1 day). */
  bucketMs?: number;
  /** The flash-sale window (default 1 hour). */
  recentMs?: number;
  /**
   * Shortest span a burst's rate is measured over (default 1 s, the precision of a channel's
   * order times): n orders stamped within the same second are n − 1 units in one second.
   */
  minBurstSpanMs?: number;
  /** A recent rate at least this many times the baseline is a flash sale (default 3). */
  flashFactor?: number;
  /** …and needs at least this many recent orders (default 3). */
  flashMinOrders?: number;
  /** Pseudo-orders the pool's rate counts for in a sparse SKU's estimate (default 2). */
  priorOrders?: number;
  /** Pool of a SKU (product, collection); default: one pool for the shop. */
  groupOf?: (sku: string) => string;
};

export type SkuDemand = {
  sku: string;
  /** The window the rate comes from. */
  windowMs: number;
  /** Orders and units of the SKU in that window. */
  orders: number;
  units: number;
  /** Units per hour, all channels. */
  ratePerHour: number;
  /** Units per hour per channel (channels with no sales of it are absent: rate 0). */
  channelRates: Record<string, number>;
  /** Too few orders on its own: the pool's rate was blended in. */
  pooled: boolean;
  group: string;
  /** Recent rate replaced the baseline. */
  flash: boolean;
  baselinePerHour: number;
  recentPerHour: number;
  /**
   * Units per day: the rate's mean, and a variance with the dispersion the daily counts showed
   * (Poisson, variance = mean, when they cannot tell). For safety stock.
   */
  dailyMean: number;
  dailyVariance: number;
  /** Variance ÷ mean of bucket counts, at least 1 (1 = Poisson); 1 when pooled. */
  dispersion: number;
};

type Resolved = Required<Omit<DemandOptions, "groupOf">> & { groupOf: (sku: string) => string };

function resolve(options: DemandOptions): Resolved {
  return {
    now: options.now,
    windowsMs: [...(options.windowsMs ?? [DAY, 7 * DAY, 28 * DAY, 90 * DAY])].sort((a, b) => a - b),
    minOrders: options.minOrders ?? 20,
    bucketMs: options.bucketMs ?? DAY,
    recentMs: options.recentMs ?? HOUR,
    minBurstSpanMs: options.minBurstSpanMs ?? 1_000,
    flashFactor: options.flashFactor ?? 3,
    flashMinOrders: options.flashMinOrders ?? 3,
    priorOrders: options.priorOrders ?? 2,
    groupOf: options.groupOf ?? (() => "shop"),
  };
}

function within(sales: readonly Sale[], now: number, span: number): Sale[] {
  return sales.filter((s) => s.at <= now && s.at > now - span);
}

function sumUnits(sales: readonly Sale[]): number {
  return sales.reduce((total, s) => total + Math.max(0, s.units), 0);
}

/**
 * The demand of every SKU that sold in the longest window (plus `skus`, which get zero or
 * pooled demand). Rates are conservative: the busiest of the windows with enough orders.
 */
export function demandBySku(
  history: readonly Sale[],
  options: DemandOptions,
  skus: readonly string[] = [],
): Map<string, SkuDemand> {
  const o = resolve(options);
  const longest = o.windowsMs[o.windowsMs.length - 1] ?? 90 * DAY;
  const inScope = within(history, o.now, longest).filter((s) => s.units > 0);
  const bySku = new Map<string, Sale[]>();
  for (const sku of skus) bySku.set(sku, []);
  for (const sale of inScope) {
    const list = bySku.get(sale.sku);
    if (list) list.push(sale);
    else bySku.set(sale.sku, [sale]);
  }

  // Pools: units per hour per SKU of the pool over the longest window, and channel shares.
  const pools = new Map<string, { units: number; skus: number; byChannel: Map<string, number> }>();
  for (const [sku, sales] of bySku) {
    const key = o.groupOf(sku);
    const pool = pools.get(key) ?? { units: 0, skus: 0, byChannel: new Map<string, number>() };
    pool.units += sumUnits(sales);
    pool.skus += 1;
    for (const s of sales)
      pool.byChannel.set(s.channelId, (pool.byChannel.get(s.channelId) ?? 0) + s.units);
    pools.set(key, pool);
  }

  const result = new Map<string, SkuDemand>();
  for (const [sku, sales] of bySku) {
    const group = o.groupOf(sku);
    const pool = pools.get(group)!;
    // The busiest window among those with enough orders; else the longest, blended with the pool.
    let windowMs = longest;
    let best = -1;
    for (const span of o.windowsMs) {
      const inWindow = within(sales, o.now, span);
      if (inWindow.length < o.minOrders) continue;
      const rate = sumUnits(inWindow) / span;
      if (rate > best) {
        best = rate;
        windowMs = span;
      }
    }
    const windowSales = within(sales, o.now, windowMs);
    const units = sumUnits(windowSales);
    const pooled = best < 0;
    let baselinePerMs = units / windowMs;
    let shares = channelShares(windowSales);
    if (pooled) {
      const poolRate = pool.units / (pool.skus * longest);
      if (poolRate > 0) {
        const pseudoTime = o.priorOrders / poolRate;
        baselinePerMs = (units + o.priorOrders) / (longest + pseudoTime);
      }
      if (units === 0) shares = normalise(pool.byChannel);
    }

    // Flash sale: the last `recentMs` well above the baseline, with enough orders to believe it.
    const recent = within(sales, o.now, o.recentMs);
    const recentPerMs = burstRate(recent, o.recentMs, o.minBurstSpanMs);
    const flash = recent.length >= o.flashMinOrders && recentPerMs >= o.flashFactor * baselinePerMs;
    const ratePerMs = flash ? recentPerMs : baselinePerMs;
    if (flash) shares = channelShares(recent);

    const channelRates: Record<string, number> = {};
    for (const [channelId, share] of shares) channelRates[channelId] = ratePerMs * share * HOUR;

    // Variability: bucket counts from the SKU's first sale in the longest window (days before
    // it existed are not zero-demand days); fewer than two buckets: Poisson (variance = mean).
    const first = sales.reduce((m, s) => Math.min(m, s.at), o.now);
    const span = Math.min(longest, Math.max(o.bucketMs, o.now - first + 1));
    const buckets = Math.max(1, Math.ceil(span / o.bucketMs));
    const counts = new Array<number>(buckets).fill(0);
    for (const s of sales) {
      const index = Math.floor((o.now - s.at) / o.bucketMs);
      if (index >= 0 && index < buckets) counts[index] = counts[index]! + s.units;
    }
    const { mean, variance } = meanVariance(counts);
    const measured = !pooled && !flash && buckets >= 2 && mean > 0;
    const dailyMean = ratePerMs * DAY;
    const dailyVariance = measured ? (variance / mean) * dailyMean : dailyMean;
    const dispersion = measured ? Math.max(1, variance / mean) : 1;

    result.set(sku, {
      sku,
      windowMs,
      orders: windowSales.length,
      units,
      ratePerHour: ratePerMs * HOUR,
      channelRates,
      pooled,
      group,
      flash,
      baselinePerHour: baselinePerMs * HOUR,
      recentPerHour: recentPerMs * HOUR,
      dailyMean,
      dailyVariance,
      dispersion,
    });
  }
  return result;
}

/**
 * The rate of a run of recent orders over the time they actually took: the units after the first
 * order over the span from the first to the last (at least `minSpanMs`), never below the plain
 * average over the window. Units ÷ window alone would read a 5-minute burst of 30 orders as
 * 30/hour — a twelfth of the rate the race runs at while it lasts.
 */
export function burstRate(recent: readonly Sale[], windowMs: number, minSpanMs: number): number {
  const average = windowMs > 0 ? sumUnits(recent) / windowMs : 0;
  if (recent.length < 2) return average;
  let first = recent[0]!;
  let last = recent[0]!;
  for (const s of recent) {
    if (s.at < first.at) first = s;
    if (s.at > last.at) last = s;
  }
  const span = Math.max(minSpanMs, last.at - first.at, 1);
  return Math.max(average, (sumUnits(recent) - Math.max(0, first.units)) / span);
}

function channelShares(sales: readonly Sale[]): Map<string, number> {
  const units = new Map<string, number>();
  for (const s of sales) units.set(s.channelId, (units.get(s.channelId) ?? 0) + s.units);
  return normalise(units);
}

function normalise(units: Map<string, number>): Map<string, number> {
  const total = [...units.values()].reduce((a, b) => a + b, 0);
  const shares = new Map<string, number>();
  if (total <= 0) return shares;
  for (const [k, v] of units) if (v > 0) shares.set(k, v / total);
  return shares;
}

/** Units per hour sold on every channel but `channelId` (the other side of the race). */
export function otherChannelsRate(demand: SkuDemand, channelId: string): number {
  let total = 0;
  for (const [id, rate] of Object.entries(demand.channelRates)) if (id !== channelId) total += rate;
  return total;
}

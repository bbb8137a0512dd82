/**
 * Buffer backtest (`npm run bench:buffers`): the market bench's demand (BENCH_SEED, 40 SKUs × 6
 * units, four storefronts, skewed Poisson buyers who buy when their store shows stock) replayed
 * by the pure backtester (app/domain/recommend/backtest.ts) against buffer policies: off, flat
 * 1 unit per store, recommended (from a previous period's demand and the measured delays), and
 * a 15-minute poller. Time-scaled like the market bench: the demand and the poller are in the
 * merchant's minutes, the sync delays (BENCH_SYNC_IN_S, BENCH_SYNC_OUT_S) in real seconds that
 * stand for BENCH_MARKET_SCALE of the merchant's (default 60: 1 s = 1 min). The recommended
 * policy weighs the race over the spread of the delays, as the service does with measured ones
 * (decision 0015: with the p99 alone it hid two to three times what the market bench does).
 * Prints a table and, last, one JSON line.
 */
import {
  jitteredDelay,
  runBacktest,
  seededRandom,
  type Arrival,
  type BacktestChannel,
  type BacktestResult,
} from "../../app/domain/recommend/backtest";
import {
  DELAY_QUANTILES,
  recommendForSku,
  type ChannelProfile,
} from "../../app/domain/recommend/buffers";
import { demandBySku } from "../../app/domain/recommend/demand";
import { quantile } from "../../app/domain/recommend/stats";
import type { BufferPolicy } from "../../app/domain/types";

const num = (name: string, fallback: number) =>
  process.env[name] ? Number(process.env[name]) : fallback;
const MIN = 60_000;
const B = {
  seed: num("BENCH_SEED", 1),
  skus: num("BENCH_MARKET_SKUS", 40),
  stock: num("BENCH_MARKET_STOCK", 6),
  stores: num("BENCH_CONNECTIONS", 4),
  /** Buyer arrivals per minute of the merchant's time. */
  rate: num("BENCH_MARKET_RATE", 12),
  duration: num("BENCH_MARKET_DURATION", 40),
  /**
   * Sale → ledger (webhook delivery, p50 ≈ 1 s in the market bench) and ledger → store, in real
   * seconds: like the market bench, the scale compresses the buyers, not the sync.
   */
  inS: num("BENCH_SYNC_IN_S", 0.85),
  outS: num("BENCH_SYNC_OUT_S", 0.3),
  /** Merchant seconds one bench second stands for (the market bench's BENCH_MARKET_SCALE). */
  scale: num("BENCH_MARKET_SCALE", 60),
  jitter: num("BENCH_SYNC_JITTER", 0.5),
  pollMinutes: num("BENCH_POLL_MIN", 15),
  serviceLevel: num("BENCH_SERVICE_LEVEL", 0.99),
};

/** Real seconds of sync → the merchant's milliseconds at the bench's scale. */
const merchantMs = (realSeconds: number) => realSeconds * 1000 * B.scale;
const skuOf = (i: number) => `SKU-${String(i).padStart(5, "0")}`;
const storeOf = (i: number) => `store-${i}`;

/** The market bench's buyers: Poisson arrivals, skewed SKU choice, uniform store. */
function arrivals(seed: number): Arrival[] {
  let s = (20261126 + seed * 7919) >>> 0;
  const random = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const list: Arrival[] = [];
  let t = 0;
  for (;;) {
    t += -Math.log(1 - random()) / B.rate;
    if (t >= B.duration) break;
    const sku = Math.min(B.skus - 1, Math.floor(B.skus * random() ** 2));
    list.push({
      at: t * MIN,
      channelId: storeOf(Math.floor(random() * B.stores)),
      sku: skuOf(sku),
      units: 1,
    });
  }
  return list;
}

const channels: BacktestChannel[] = Array.from({ length: B.stores }, (_, i) => ({
  id: storeOf(i),
  inMs: merchantMs(B.inS),
  outMs: merchantMs(B.outS),
}));
const stock = Object.fromEntries(Array.from({ length: B.skus }, (_, i) => [skuOf(i), B.stock]));

/**
 * Recommended policy from a *previous* period (another seed: no peeking at the replayed
 * demand) and the p99 of the sync delays measured then, as the service computes it.
 */
function recommendedPolicy(tailOwner: boolean): {
  policy: (channelId: string, sku: string) => BufferPolicy;
  values: Map<string, number>;
  w: number;
} {
  const history = arrivals(B.seed + 10_000);
  const random = seededRandom(B.seed + 20_000);
  const samples = Array.from(
    { length: 2_000 },
    () =>
      jitteredDelay(merchantMs(B.inS), B.jitter, random) +
      jitteredDelay(merchantMs(B.outS), B.jitter, random),
  );
  const w = quantile(samples, 0.99)!;
  const demand = demandBySku(
    history.map((a) => ({ ...a })),
    {
      now: B.duration * MIN,
      windowsMs: [10 * MIN, B.duration * MIN],
      minOrders: 20,
      recentMs: 5 * MIN,
    },
    Object.keys(stock),
  );
  const profiles: ChannelProfile[] = channels.map((c) => ({
    channelId: c.id,
    name: c.id,
    kind: "shopify",
    delayP99Ms: w,
    delayQuantilesMs: DELAY_QUANTILES.map((q) => quantile(samples, q)!),
    delaySamples: samples.length,
    cancellationRate: null,
    toleratesBackorders: false,
  }));
  const values = new Map<string, number>();
  for (const d of demand.values()) {
    const rec = recommendForSku({
      demand: d,
      channels: profiles,
      ats: stock[d.sku]!,
      serviceLevel: B.serviceLevel,
      tailOwner,
    });
    for (const r of rec.channels) values.set(`${r.channelId}|${r.sku}`, r.value);
  }
  return {
    policy: (channelId, sku) => {
      const v = values.get(`${channelId}|${sku}`) ?? 0;
      return v > 0 ? { zero_at_or_below: { value: v, ruleId: "recommended" } } : {};
    },
    values,
    w,
  };
}

function row(name: string, r: BacktestResult) {
  return {
    mode: name,
    oversold_units: r.oversoldUnits,
    orders_cancelled: r.ordersCancelled,
    hidden_unit_minutes: Math.round(r.hiddenUnitMinutes),
    hidden_share: Number(r.hiddenShare.toFixed(4)),
    orders: r.orders,
    refused: r.refused,
  };
}

function main(): void {
  const demand = arrivals(B.seed);
  const horizonMs = B.duration * MIN;
  const event = { kind: "event" as const, jitter: B.jitter, seed: B.seed };
  const rec = recommendedPolicy(true);
  const recAll = recommendedPolicy(false);
  const flat: BufferPolicy = { reserve_units: { value: 1, ruleId: "flat" } };
  const results = {
    stockguard_buffers_off: row(
      "off",
      runBacktest({ stock, channels, arrivals: demand, horizonMs, mode: event }),
    ),
    stockguard_buffers_flat1: row(
      "flat 1",
      runBacktest({
        stock,
        channels,
        arrivals: demand,
        horizonMs,
        mode: event,
        policy: () => flat,
      }),
    ),
    stockguard_buffers_recommended: row(
      "recommended",
      runBacktest({
        stock,
        channels,
        arrivals: demand,
        horizonMs,
        mode: event,
        policy: rec.policy,
      }),
    ),
    stockguard_buffers_recommended_no_tail_owner: row(
      "rec. no owner",
      runBacktest({
        stock,
        channels,
        arrivals: demand,
        horizonMs,
        mode: event,
        policy: recAll.policy,
      }),
    ),
    polling_baseline: row(
      `poll ${B.pollMinutes} min`,
      runBacktest({
        stock,
        channels,
        arrivals: demand,
        horizonMs,
        mode: { kind: "poll", everyMs: B.pollMinutes * MIN },
      }),
    ),
  };
  const buffered = [...rec.values.values()].filter((v) => v > 0);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(
    `buffer backtest: seed ${B.seed}, ${B.skus} SKUs × ${B.stock} units, ${B.stores} stores, ` +
      `${demand.length} buyers over ${B.duration} min (1 s of the market bench = ${B.scale} s), ` +
      `sync ≈ ${B.inS} + ${B.outS} s at ${B.scale}× (p99 W = ${(rec.w / MIN).toFixed(2)} min), service level ${B.serviceLevel}`,
  );
  log(
    `recommended: ${buffered.length} of ${rec.values.size} listings buffered, ` +
      `max ${Math.max(0, ...buffered)} units`,
  );
  log(
    ["mode", "oversold", "cancelled", "hidden u·min", "hidden %", "orders"]
      .map((h) => h.padStart(13))
      .join(""),
  );
  for (const r of Object.values(results)) {
    log(
      [
        r.mode,
        String(r.oversold_units),
        String(r.orders_cancelled),
        String(r.hidden_unit_minutes),
        `${(r.hidden_share * 100).toFixed(1)}%`,
        String(r.orders),
      ]
        .map((c) => c.padStart(13))
        .join(""),
    );
  }
  process.stdout.write(
    `${JSON.stringify({ mode: "buffer-backtest", ...B, arrivals: demand.length, ...results })}\n`,
  );
}

main();

/**
 * `npm run bench` — the sync pipeline at speed, measured as a merchant feels it (a script, not a
 * test).
 *
 * Starts the sandbox (local Shopify with a source store and N−1 other stores, in this process;
 * the web process and worker process(es), connected through the CLI), then a load generator in
 * its own process (load-generator.ts) buys over HTTP on the storefronts at a fixed rate.
 *
 * Load mode (default): BENCH_SKUS=10000, BENCH_CONNECTIONS=4, BENCH_RATE=200 orders/s for
 * BENCH_DURATION=60 s, BENCH_HOT_SHARE=0.2 of the orders on BENCH_HOT_SKUS=10 hot SKUs. Stock is
 * deep enough that nothing sells out, so every order must flow through. Small profile:
 * BENCH_SKUS=1000 BENCH_RATE=100 BENCH_DURATION=20.
 *
 * What it reports (last line: one JSON object):
 * - sale_*: from each sale's own time at its store until every other store shows it (or a later
 *   value), over every sale — test/helpers/sale-latency.ts defines it. Sales not reflected when
 *   the drain ends (a webhook never delivered, a push never made) count with the time until then
 *   and as `sale_timeouts`. sync_*: the older per-receipt figure (receipt → last push trace).
 * - ack_*: the sender's view over every delivery attempt that reached the web (request →
 *   answer), with `ack_timeouts` and `ack_non_2xx` counted; ack_server_*: the web's own histogram
 *   (bucket bounds, 5 ms steps to 60 ms).
 * - generator_rate: what the generator achieved (it says whether it reached BENCH_RATE).
 * - throughput, writes per order, throttling, lost/doubled movements (judged only once every
 *   webhook and receipt is through), oversold units, memory;
 *   `writes_within_window`: level writes that followed the same level's previous write within
 *   PUSH_COALESCE_MS (the brief's one write per listing per window), with the most in one window.
 * - where a sale's time goes (stage lines: sender → receipt → applied → written), per topic and,
 *   for orders, per 5 s window of the drive (a cold start shows in the first).
 *
 * Chaos (off by default): BENCH_DUPLICATES (probability of a second delivery), BENCH_DELAY_MS
 * ("min,max" before the first attempt; reordered unless BENCH_REORDER=0), BENCH_DROP_FIRST
 * (probability that a first attempt is lost, so Shopify retries it), BENCH_DROP_RETRY_MS
 * ("min,max" until that retry; default Shopify's 56 s × the sandbox's time scale 0.001).
 *
 * Budget: every store gets Shopify Plus's Admin API budget, 1,000 points/s restore with a
 * 20,000-point bucket (20 × restore; BENCH_RESTORE_RATE changes both). A catalog import costs
 * ~6 points per SKU (catalog pages 752 + level reads 750 per 250), so 10,000 SKUs take ≥ 40 s per
 * store at that rate; the other stores connect together, each within its own budget.
 *
 * Bounds: the drain after the drive lasts at most BENCH_DRAIN_S (60 s); what has not drained by
 * then is reported (undelivered webhooks, pending receipts, unpushed listings, sale timeouts).
 * BENCH_TIMEOUT_S (600; in market mode 600 × 60 / BENCH_MARKET_SCALE) stops everything. Market
 * mode (BENCH_MODE=market): see market-bench.ts.
 *
 * Deployment settings of the run (raised from the defaults, as for a shop at this volume):
 * WORKER_CONCURRENCY 16, WEB_INGEST_SLOTS 16, DATABASE_POOL_MAX 20. After the drain and
 * settling (no write owed, no provisional hold left; ≤ 20 s, `settle_after_drain_s`), every store
 * must show what StockGuard publishes (`stuck_listings`; null, like lost and doubled, when the run
 * ended with webhooks undelivered or receipts pending — `mismatched_listings_at_end` then).
 *
 * Other knobs: BENCH_WORKERS (worker processes, default 1), BENCH_COALESCE_MS (default 200),
 * BENCH_WARMUP_S (the same load first for that long, drained and not measured; default 0),
 * BENCH_RESTART_AFTER_WARMUP (web, workers or both: those processes are replaced by fresh ones
 * after the warm-up, as a deploy would, so the measured drive shows their cold start alone
 * against a warm database, Redis and local Shopify), BENCH_WEB_INGEST_SLOTS (default 16).
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { TSX } from "../helpers/paths";
import { describeSlowest, oversoldUnits, saleLatency } from "../helpers/sale-latency";
import type { GeneratorConfig, GeneratorResult } from "./load-generator";
import {
  freePort,
  mismatches,
  observeSales,
  percentile,
  ROOT,
  shownNow,
  startWorld,
  stopAllSpawned,
  track,
  waitFor,
  type World,
} from "../e2e/world";

const num = (name: string, fallback: number) =>
  process.env[name] ? Number(process.env[name]) : fallback;
const range = (name: string): [number, number] | null => {
  const value = process.env[name];
  if (!value) return null;
  const [min, max = min] = value.split(/[,-]/).map(Number);
  if (!Number.isFinite(min) || !Number.isFinite(max) || max! < min!)
    throw new Error(`${name} must be "min,max" in ms, got ${value}`);
  return [min!, max!];
};

function restartChoice(value: string | undefined): "web" | "workers" | "both" | null {
  if (!value) return null;
  if (value === "web" || value === "workers" || value === "both") return value;
  throw new Error(`BENCH_RESTART_AFTER_WARMUP must be web, workers or both, got ${value}`);
}

export const PROFILE = {
  skus: num("BENCH_SKUS", 10_000),
  connections: num("BENCH_CONNECTIONS", 4),
  rate: num("BENCH_RATE", 200),
  duration: num("BENCH_DURATION", 60),
  hotShare: num("BENCH_HOT_SHARE", 0.2),
  hotSkus: num("BENCH_HOT_SKUS", 10),
  workers: num("BENCH_WORKERS", 1),
  restoreRate: num("BENCH_RESTORE_RATE", 1_000),
  coalesceMs: num("BENCH_COALESCE_MS", 200),
  duplicates: num("BENCH_DUPLICATES", 0),
  delayMs: range("BENCH_DELAY_MS") ?? [0, 0],
  dropFirst: num("BENCH_DROP_FIRST", 0),
  dropRetryMs: range("BENCH_DROP_RETRY_MS"),
  drainS: num("BENCH_DRAIN_S", 60),
  warmupS: num("BENCH_WARMUP_S", 0),
  restartAfterWarmup: restartChoice(process.env.BENCH_RESTART_AFTER_WARMUP),
};
if (PROFILE.restartAfterWarmup && PROFILE.warmupS <= 0)
  throw new Error("BENCH_RESTART_AFTER_WARMUP needs BENCH_WARMUP_S > 0");

/**
 * Writes to one level (item at location) closer together than `windowMs` in a store's log: how
 * many followed the level's previous write within the window, and the most any window held.
 */
export function writesWithinWindow(
  log: { at: string; requested: { inventoryItemId: string; locationId: string }[] }[],
  windowMs: number,
): { within: number; most: number } {
  const times = new Map<string, number[]>();
  for (const entry of log) {
    const at = Date.parse(entry.at);
    for (const r of entry.requested) {
      const key = `${r.inventoryItemId}@${r.locationId}`;
      const list = times.get(key);
      if (list) list.push(at);
      else times.set(key, [at]);
    }
  }
  let within = 0;
  let most = 0;
  for (const list of times.values()) {
    list.sort((a, b) => a - b);
    for (let first = 0, last = 0; last < list.length; last++) {
      if (last > 0 && list[last]! - list[last - 1]! < windowMs) within++;
      while (list[last]! - list[first]! >= windowMs) first++;
      most = Math.max(most, last - first + 1);
    }
  }
  return { within, most };
}

export function rssMb(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
    return Math.round(kb / 1024);
  } catch {
    return Number.NaN;
  }
}

/** The node process behind a tsx launcher (tsx runs the script in a child). */
export function childPids(pid: number | undefined): number[] {
  if (!pid) return [];
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    return [pid, ...children.flatMap((c) => childPids(c))];
  } catch {
    return [pid];
  }
}

export function processRss(pid: number | undefined): number {
  return Math.max(
    ...childPids(pid)
      .map(rssMb)
      .filter((n) => Number.isFinite(n)),
    0,
  );
}

/** CPU seconds (user + system) used so far by a process and its descendants (tsx runs node). */
export function cpuSeconds(pid: number | undefined): number {
  let ticks = 0;
  for (const p of childPids(pid)) {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]!.split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
    } catch {
      // gone
    }
  }
  return ticks / 100; // USER_HZ
}

/** CPU seconds used so far by every process of this name (PostgreSQL's backends, Redis). */
export function cpuSecondsOf(command: string): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (!stat.includes(`(${command})`)) continue;
      const fields = stat.split(") ")[1]!.split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / 100;
}

type Histogram = { key: string; count: number; sum: number; buckets: [number, number][] };

/** The series of the named histograms in a Prometheus text page, one per label set. */
function parseHistograms(text: string, names: string[]): Histogram[] {
  const series = new Map<string, Histogram>();
  for (const line of text.split("\n")) {
    const m = /^(\w+?)_(bucket|sum|count)(?:\{([^}]*)\})? ([\d.e+-]+)$/.exec(line);
    if (!m || !names.includes(m[1]!)) continue;
    const labels = (m[3] ?? "").split(",").filter((l) => l && !l.startsWith("le="));
    const key = `${m[1]}{${labels.join(",")}}`;
    const entry = series.get(key) ?? { key, count: 0, sum: 0, buckets: [] };
    const value = Number(m[4]);
    if (m[2] === "count") entry.count = value;
    if (m[2] === "sum") entry.sum = value;
    const le = /le="([^"]+)"/.exec(m[3] ?? "")?.[1];
    if (m[2] === "bucket" && le && le !== "+Inf") entry.buckets.push([Number(le), value]);
    series.set(key, entry);
  }
  return [...series.values()];
}

/** The smallest bucket bound (s) holding quantile q, or undefined past the last bucket. */
function quantileBound(h: Pick<Histogram, "count" | "buckets">, q: number): number | undefined {
  return [...h.buckets].sort((a, b) => a[0] - b[0]).find(([, n]) => n >= h.count * q)?.[0];
}

/** The same bound (ms) over every label set of one histogram. */
function histogramQuantileBound(text: string, name: string, q: number): number | null {
  const merged = { count: 0, buckets: new Map<number, number>() };
  for (const h of parseHistograms(text, [name])) {
    merged.count += h.count;
    for (const [le, n] of h.buckets) merged.buckets.set(le, (merged.buckets.get(le) ?? 0) + n);
  }
  const bound = quantileBound({ count: merged.count, buckets: [...merged.buckets] }, q);
  return bound === undefined ? null : Math.round(bound * 1000);
}

/** "name{labels}: n=…, mean=… ms, p50≤… s, p95≤… s" for each series of the histograms. */
function summarizeHistograms(text: string, names: string[]): string[] {
  return parseHistograms(text, names).map((h) => {
    const mean = h.count ? Math.round((h.sum / h.count) * 1000) : 0;
    const bound = (q: number) => quantileBound(h, q) ?? ">max";
    return `${h.key}: n=${h.count} mean=${mean} ms p50≤${bound(0.5)} s p95≤${bound(0.95)} s`;
  });
}

/** Runs the load generator in its own process; resolves with its report. */
async function runGenerator(config: GeneratorConfig): Promise<GeneratorResult> {
  const child = track(
    spawn(TSX, [path.join(ROOT, "test/bench/load-generator.ts"), JSON.stringify(config)], {
      cwd: ROOT,
      detached: true,
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number>((resolve) => child.once("exit", (c) => resolve(c ?? 1)));
  child.stdin?.destroy();
  const line = out.trim().split("\n").pop() ?? "";
  if (code !== 0 || !line.startsWith("{")) throw new Error(`load generator exited ${code}: ${out}`);
  return JSON.parse(line) as GeneratorResult;
}

async function main(): Promise<void> {
  const p = PROFILE;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const benchStarted = Date.now();
  const hotStock =
    Math.ceil(((p.rate * (p.duration + p.warmupS) * p.hotShare) / p.hotSkus) * 1.5) + 10;
  const coldStock = 50;
  const stockOf = (i: number) => (i < p.hotSkus ? hotStock : coldStock);
  log(
    `bench: ${JSON.stringify(p)}; Admin API budget per store ${p.restoreRate} points/s, bucket ${p.restoreRate * 20} (Shopify Plus at 1000); importing ${p.skus} SKUs into ${p.connections} stores…`,
  );
  const setupStarted = Date.now();
  // The (first) worker's /metrics: job durations and queue waits, printed after the run.
  const metricsPort = await freePort();
  const world: World = await startWorld({
    skus: p.skus,
    stock: stockOf,
    secondaryStores: p.connections - 1,
    workers: p.workers,
    throttle: { maximumAvailable: p.restoreRate * 20, restoreRate: p.restoreRate },
    delivery: { delayMs: [0, 0], concurrency: 100 },
    parallelConnect: true,
    presetStores: true,
    env: {
      WORKER_METRICS_PORT: String(metricsPort),
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
      PUSH_COALESCE_MS: String(p.coalesceMs),
      WORKER_CONCURRENCY: "16",
      WEB_INGEST_SLOTS: process.env.BENCH_WEB_INGEST_SLOTS ?? "16",
      DATABASE_POOL_MAX: "20",
    },
  });
  try {
    const stores = [world.source, ...world.stores];
    const sandbox = world.shopify.sandbox;
    const connectedAt = Date.now();
    await waitFor(
      async () =>
        (
          await world.pg.query(
            "SELECT 1 FROM listing WHERE published_version > pushed_version LIMIT 1",
          )
        ).rowCount === 0,
      600_000,
      "initial sync",
    );
    await sandbox.waitForWebhooksIdle(120_000);
    const setupSeconds = (Date.now() - setupStarted) / 1000;
    log(
      `setup phases (s from start): ${Object.entries(world.timings)
        .map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(1)}`)
        .join(", ")}; initially synced ${setupSeconds.toFixed(1)}`,
    );
    for (const s of stores) {
      const log_ = sandbox.shop(s).requestLog;
      const points = log_.reduce((n, q) => n + (q.actualQueryCost ?? 0), 0);
      const span = log_.length ? (Date.parse(log_.at(-1)!.at) - Date.parse(log_[0]!.at)) / 1000 : 0;
      log(
        `setup ${s}: ${log_.length} Admin API requests, ${points} points over ${span.toFixed(0)} s`,
      );
    }
    log(
      `setup done in ${setupSeconds.toFixed(0)} s (connected after ${((connectedAt - setupStarted) / 1000).toFixed(0)} s); driving ${p.rate} orders/s for ${p.duration} s`,
    );

    /** Whether StockGuard still owes work: a listing a write, or a receipt (or hold) its apply. */
    const owesWork = async (holdsToo = false) =>
      (
        await world.pg.query(
          "SELECT 1 FROM listing WHERE published_version > pushed_version UNION ALL SELECT 1 FROM receipt WHERE status = 'pending'" +
            (holdsToo ? " UNION ALL SELECT 1 FROM provisional_hold" : "") +
            " LIMIT 1",
        )
      ).rowCount !== 0;
    /** Open-loop arrivals from another process, over HTTP, whatever the system's pace. */
    const drive = (duration: number, seed: number) =>
      runGenerator({
        url: world.shopify.url,
        stores,
        skus: p.skus,
        hotSkus: p.hotSkus,
        hotShare: p.hotShare,
        rate: p.rate,
        duration,
        seed,
      });
    // BENCH_WARMUP_S: the same load for a while first, drained, not measured — the measured
    // drive then starts on processes whose order paths have run (JIT, pools, caches), as a shop's
    // long-running processes do; without it the drive's first seconds include that cold start.
    if (p.warmupS > 0) {
      log(`warm-up: ${p.rate} orders/s for ${p.warmupS} s (not measured), then drained…`);
      const warm = await drive(p.warmupS, 7);
      await sandbox.waitForWebhooksIdle(120_000);
      await waitFor(async () => !(await owesWork(true)), 120_000, "warm-up drain");
      log(`warm-up: ${warm.placed} orders placed and drained`);
      if (p.restartAfterWarmup) {
        await world.restart(p.restartAfterWarmup);
        log(`restarted after the warm-up: ${p.restartAfterWarmup} (cold again, the rest warm)`);
      }
    }
    // What the warm-up sold comes off each SKU's pool before the measured drive.
    const soldBefore = new Map<string, number>();
    for (const s of stores)
      for (const order of sandbox.shop(s).orders.values())
        for (const line of order.lineItems)
          if (line.sku && line.tracked)
            soldBefore.set(line.sku, (soldBefore.get(line.sku) ?? 0) + line.quantity);

    // Chaos applies to the run only, not to the set-up's 10,000s of echo webhooks.
    sandbox.configureDelivery({
      delayMs: p.delayMs,
      reorder: p.delayMs[1] > 0 && process.env.BENCH_REORDER !== "0",
      duplicateProbability: p.duplicates,
      dropFirstProbability: p.dropFirst,
      dropRetryMs: p.dropRetryMs,
    });
    const marks = {
      mutations: new Map(stores.map((s) => [s, sandbox.shop(s).mutationLog.length])),
      requests: new Map(stores.map((s) => [s, sandbox.shop(s).requestLog.length])),
      deliveries: sandbox.deliveries().length,
    };
    const startedAt = new Date();
    const shownAtStart = shownNow(world);
    let maxWebRss = 0;
    let maxWorkerRss = 0;
    const sample = () => {
      maxWebRss = Math.max(maxWebRss, processRss(world.processes.web.pid));
      for (const w of world.processes.workers)
        maxWorkerRss = Math.max(maxWorkerRss, processRss(w.pid));
    };
    const sampler = setInterval(sample, 1_000);
    // The local Shopify's own event-loop lag (it shares the two cores): it inflates the
    // sender's ack figure and delays deliveries, and is not the app's doing.
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const cpu = () => ({
      web: cpuSeconds(world.processes.web.pid),
      workers: world.processes.workers.reduce((s, w) => s + cpuSeconds(w.pid), 0),
      localShopify: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
      postgres: cpuSecondsOf("postgres"),
      redis: cpuSecondsOf("redis-server"),
    });
    const cpuBefore = cpu();
    const generator = await drive(p.duration, 42);
    const driveSeconds = (Date.now() - startedAt.getTime()) / 1000;
    const lastOrderAt = Date.now();
    log(
      `generator: ${JSON.stringify(generator)}${generator.reached ? "" : ` — did NOT reach ${p.rate}/s`}`,
    );
    log(`waiting up to ${p.drainS} s for the pipeline to drain…`);

    // Bounded drain: webhooks delivered, receipts applied, listings pushed — or the deadline.
    const drainDeadline = lastOrderAt + p.drainS * 1000;
    let drained = await sandbox.waitForWebhooksIdle(Math.max(0, drainDeadline - Date.now()));
    while (drained && (await owesWork())) {
      if (Date.now() > drainDeadline) drained = false;
      else await new Promise((r) => setTimeout(r, 100));
    }
    const drainEnd = Date.now();
    const cpuAfter = cpu();
    const busy = (drainEnd - startedAt.getTime()) / 1000;
    const used = (k: keyof typeof cpuAfter) => cpuAfter[k] - cpuBefore[k];
    log(
      `CPU over the drive and drain (${busy.toFixed(0)} s, 2 cores, shared with the generator and anything else running): ` +
        (["web", "workers", "localShopify", "postgres", "redis"] as const)
          .map(
            (k) =>
              `${k} ${used(k).toFixed(1)} s (${Math.round((used(k) / busy) * 100)}% of a core)`,
          )
          .join(", "),
    );
    // StockGuard's own processes (not the local Shopify or the generator), per order placed.
    const cpuMsPerOrder = Math.round(
      ((used("web") + used("workers") + used("postgres") + used("redis")) * 1000) /
        Math.max(1, generator.placed),
    );
    log(`StockGuard's CPU (web, workers, PostgreSQL, Redis) per order placed: ${cpuMsPerOrder} ms`);
    loop.disable();
    const loopP99Ms = Math.round(loop.percentile(99) / 1e6);
    const drainSeconds = (drainEnd - lastOrderAt) / 1000;
    clearInterval(sampler);
    sample();
    const deliveries = sandbox.deliveries().slice(marks.deliveries);
    const undelivered = deliveries.filter((d) => d.state !== "delivered").length;
    const undrained = await world.pg.query<{ receipts: number; listings: number }>(
      `SELECT (SELECT count(*) FROM receipt WHERE status = 'pending')::int AS receipts,
              (SELECT count(*) FROM listing WHERE published_version > pushed_version)::int AS listings`,
    );
    const { receipts: pendingReceipts, listings: dirtyListings } = undrained.rows[0]!;
    // Lost, doubled and stuck are judged only on a run whose every webhook was delivered and
    // every receipt applied: past this machine's capacity a run ends with thousands of webhooks
    // queued at the local Shopify, sales the stores made that StockGuard has not been told of.
    const settledRun = undelivered === 0 && pendingReceipts === 0;
    if (!drained)
      log(
        `drain NOT complete after ${p.drainS} s: ${undelivered} webhooks undelivered, ${pendingReceipts} receipts pending, ${dirtyListings} listings unpushed (their sales count as timeouts)`,
      );

    // Sale → every other store, from each sale's own time (every sale, nothing dropped).
    const observed = observeSales(world, {
      since: startedAt.getTime(),
      shownAtStart,
      initialPool: (sku) => stockOf(Number(sku.slice(4))) - (soldBefore.get(sku) ?? 0),
      end: drainEnd,
    });
    const sales = saleLatency(observed);
    log(
      `sale → others over ${sales.sales} sales: p50 ${sales.p50} ms, p95 ${sales.p95} ms, p99 ${sales.p99} ms, max ${sales.max} ms, ${sales.timeouts} timeouts`,
    );
    for (const line of describeSlowest(sales, 5)) log(`  slowest: ${line}`);
    // When in the drive the slow sales were: a cold start (code paths the set-up never ran, pools
    // growing) shows as a slow first window, a backlog as windows growing, steady state as flat.
    const windowMs = 5_000;
    const byWindow = new Map<number, number[]>();
    for (const o of sales.outcomes) {
      const w = Math.max(0, Math.floor((o.sale.at - startedAt.getTime()) / windowMs));
      const window = byWindow.get(w);
      if (window) window.push(o.latencyMs);
      else byWindow.set(w, [o.latencyMs]);
    }
    const salesByWindow = [...byWindow]
      .sort((a, b) => a[0] - b[0])
      .map(([w, ms]) => ({
        from_s: (w * windowMs) / 1000,
        n: ms.length,
        p50: Math.round(percentile(ms, 50)),
        p95: Math.round(percentile(ms, 95)),
        p99: Math.round(percentile(ms, 99)),
      }));
    log(
      `sale → others by when it sold (${windowMs / 1000} s windows from the drive's start): ${salesByWindow
        .map((w) => `${w.from_s}s n=${w.n} p50 ${w.p50} p95 ${w.p95} p99 ${w.p99}`)
        .join("; ")}`,
    );
    const late = { ...sales, slowest: sales.outcomes.filter((o) => o.timedOut) };
    for (const line of describeSlowest(late, 5)) log(`  not reflected by the drain's end: ${line}`);
    const truthOversold = oversoldUnits(observed).units;
    // Never stuck: once nothing is left to do (no listing owes a write, no provisional hold waits
    // to expire; at most 20 s), every store shows what the hub publishes. A sale counted as a
    // timeout above was either slow (fixed meanwhile) or is stuck (listed here).
    const settleStarted = Date.now();
    while (Date.now() - settleStarted < 20_000 && (await owesWork(true)))
      await new Promise((r) => setTimeout(r, 200));
    const settleS = (Date.now() - settleStarted) / 1000;
    await new Promise((r) => setTimeout(r, 1_000));
    const stuck = await mismatches(world);
    log(
      `settled ${settleS.toFixed(1)} s after the drain (holds expired, writes made), then 1 s quiet: ` +
        `${stuck.length} listings not showing what StockGuard publishes` +
        (stuck.length ? ` ${JSON.stringify(stuck.slice(0, 5))}` : ""),
    );

    // Acknowledgement as the sender measured it, over every attempt that reached the web.
    const attempts = deliveries.flatMap((d) => d.attempts.filter((a) => !a.dropped));
    const acks = attempts.map((a) => a.durationMs);
    const ackTimeouts = attempts.filter((a) => !a.ok && /timeout/.test(a.error ?? "")).length;
    const ackNon2xx = attempts.filter((a) => !a.ok && a.status !== null).length;
    const ackErrors = attempts.filter(
      (a) => !a.ok && a.status === null && !/timeout/.test(a.error ?? ""),
    ).length;
    const droppedFirst = deliveries.filter((d) => d.attempts[0]?.dropped).length;
    const statuses = new Map<string, number>();
    for (const a of attempts) {
      const key = a.status === null ? (a.error ?? "error").slice(0, 20) : String(a.status);
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    log(
      `deliveries: ${deliveries.length} (${deliveries.filter((d) => d.duplicate).length} duplicates, ${droppedFirst} first attempts dropped), ${attempts.length} attempts reached the web: ${ackTimeouts} timeouts, ${ackNon2xx} non-2xx, ${ackErrors} connection errors; ${undelivered} never delivered; by status ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    // Per topic, as the sender saw it: waiting for one of its connections to the address (due →
    // sent; Shopify's own queue) and the answer (sent → acknowledged).
    const senderBy = new Map<string, { waits: number[]; acks: number[] }>();
    for (const d of deliveries) {
      const row = senderBy.get(d.topic) ?? { waits: [], acks: [] };
      senderBy.set(d.topic, row);
      for (const a of d.attempts.filter((x) => !x.dropped)) {
        row.waits.push(Date.parse(a.startedAt) - Date.parse(a.scheduledAt));
        row.acks.push(a.durationMs);
      }
    }
    for (const [topic, row] of senderBy)
      log(
        `sender ${topic}: ${row.acks.length} attempts, queued p50 ${Math.round(percentile(row.waits, 50) ?? 0)} p95 ${Math.round(percentile(row.waits, 95) ?? 0)} ms, answered p50 ${Math.round(percentile(row.acks, 50) ?? 0)} p95 ${Math.round(percentile(row.acks, 95) ?? 0)} ms`,
      );
    // Sync (older figure): event received → every affected connection written.
    const sync = await world.pg.query<{ ms: number; topic: string }>(
      `SELECT r.topic, (EXTRACT(EPOCH FROM max(t.written_at) - r.received_at) * 1000)::float AS ms
         FROM receipt r JOIN push_trace t ON t.receipt_id = r.id
        WHERE r.received_at >= $1 GROUP BY r.id, r.topic, r.received_at`,
      [startedAt],
    );
    const syncMs = sync.rows.map((r) => r.ms);
    // Where the time goes, per topic: sender → receipt, receipt → applied, applied → written;
    // and the orders' by 5 s window of the drive (where a cold start's time goes).
    const stagesBy = (group: string, where: string, orderBy: string) =>
      world.pg.query(
        `SELECT ${group}, count(*)::int AS n,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM r.received_at - r.triggered_at) * 1000)::int AS delivery_p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM r.received_at - r.triggered_at) * 1000)::int AS delivery_p95,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM r.applied_at - r.received_at) * 1000)::int AS ingest_p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM r.applied_at - r.received_at) * 1000)::int AS ingest_p95,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM w.last - r.applied_at) * 1000)::int AS push_p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM w.last - r.applied_at) * 1000)::int AS push_p95
           FROM receipt r
           LEFT JOIN (SELECT receipt_id, max(written_at) AS last FROM push_trace GROUP BY receipt_id) w
                  ON w.receipt_id = r.id
          WHERE r.received_at >= $1 AND ${where} GROUP BY 1 ORDER BY ${orderBy}`,
        [startedAt],
      );
    const stages = await stagesBy("r.topic", "true", "n DESC");
    for (const row of stages.rows) log(`stage ${JSON.stringify(row)}`);
    const coldStages = await stagesBy(
      "(floor(EXTRACT(EPOCH FROM r.triggered_at - $1::timestamptz) / 5) * 5)::int AS from_s",
      "r.topic = 'orders/create'",
      "1",
    );
    for (const row of coldStages.rows) log(`stage orders/create by 5 s ${JSON.stringify(row)}`);
    // Applied → written, per connection and, for other stores, by whether the order was theirs.
    const appliedToWritten = (groups: string[], where = "true") =>
      world.pg.query(
        `SELECT ${groups.join(", ")}, count(*)::int AS n,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM t.written_at - r.applied_at) * 1000)::int AS p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM t.written_at - r.applied_at) * 1000)::int AS p95
           FROM push_trace t JOIN receipt r ON r.id = t.receipt_id JOIN connection c ON c.id = t.connection_id
          WHERE r.received_at >= $1 AND ${where} GROUP BY ${groups.map((_, i) => i + 1).join(", ")} ORDER BY 1`,
        [startedAt],
      );
    const perConnection = await appliedToWritten([
      "c.account_ref AS store",
      "c.role::text AS role",
    ]);
    const own = await appliedToWritten(
      ["(t.connection_id = r.connection_id) AS own_store"],
      "c.role = 'sales'",
    );
    for (const row of perConnection.rows) log(`applied→written ${JSON.stringify(row)}`);
    for (const row of own.rows) log(`applied→written (sales) ${JSON.stringify(row)}`);
    const receipts = await world.pg.query<{ n: number; first: Date; last: Date }>(
      "SELECT count(*)::int AS n, min(received_at) AS first, max(applied_at) AS last FROM receipt WHERE received_at >= $1",
      [startedAt],
    );
    const r = receipts.rows[0]!;
    const eventsPerS =
      r.n / Math.max(1, (new Date(r.last).getTime() - new Date(r.first).getTime()) / 1000);

    const scrape = { headers: { authorization: `Bearer ${world.metricsToken}` } };
    const workerMetrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, scrape)
      .then((r) => r.text())
      .catch(() => "");
    // The web's own view of acknowledgements (request in → answer), beside the sender's.
    const webMetrics = await fetch(`${world.webUrl}/metrics`, scrape)
      .then((r) => r.text())
      .catch(() => "");
    for (const line of summarizeHistograms(webMetrics, [
      "stockguard_webhook_ack_seconds",
      "stockguard_webhook_admission_wait_seconds",
    ]))
      log(line);
    // Event-loop lag of each process over the run (prom-client's default metrics, reset at each
    // scrape; nothing scrapes them before this): time a request waits before its handler runs.
    const gauge = (text: string, name: string) => {
      const value = new RegExp(`^${name} ([\\d.e+-]+)$`, "m").exec(text)?.[1];
      return value === undefined ? null : Math.round(Number(value) * 1000);
    };
    const webLoopP99 = gauge(webMetrics, "stockguard_nodejs_eventloop_lag_p99_seconds");
    const workerLoopP99 = gauge(workerMetrics, "stockguard_nodejs_eventloop_lag_p99_seconds");
    log(
      `event-loop lag p99: web ${webLoopP99} ms (max ${gauge(webMetrics, "stockguard_nodejs_eventloop_lag_max_seconds")} ms), worker ${workerLoopP99} ms, local Shopify ${loopP99Ms} ms`,
    );
    for (const line of summarizeHistograms(workerMetrics, [
      "stockguard_job_seconds",
      "stockguard_job_wait_seconds",
    ]))
      log(line);
    for (const s of stores) {
      const ops = new Map<string, number>();
      for (const q of sandbox.shop(s).requestLog.slice(marks.requests.get(s))) {
        const key = `${q.operationName}:${q.outcome}`;
        ops.set(key, (ops.get(key) ?? 0) + 1);
      }
      log(`admin api ${s} ${JSON.stringify(Object.fromEntries(ops))}`);
    }

    let writes = 0;
    let throttled = 0;
    // The brief's "≤ 1 API write per listing per coalescing window": the most writes any one level
    // of any store took within one window (sliding), over the drive and the drain.
    const spacing = { within: 0, most: 0 };
    for (const s of stores) {
      const log = sandbox.shop(s).mutationLog.slice(marks.mutations.get(s));
      writes += log.reduce((n, m) => n + m.requested.length, 0);
      const { within, most } = writesWithinWindow(log, p.coalesceMs);
      spacing.within += within;
      spacing.most = Math.max(spacing.most, most);
      throttled += sandbox
        .shop(s)
        .requestLog.slice(marks.requests.get(s))
        .filter((q) => q.outcome === "throttled").length;
    }
    log(
      `admin api writes: ${writes} level writes; ${spacing.within} followed the same level's ` +
        `previous write within ${p.coalesceMs} ms; at most ${spacing.most} to one level in one window`,
    );

    // Lost or doubled: the ledger's commitments against the stores' own counts, per SKU.
    const ledger = await world.pg.query<{ sku: string; committed: number }>(
      "SELECT i.sku, sum(s.committed)::int AS committed FROM stock_item i JOIN stock_level s ON s.item_id = i.id GROUP BY i.sku",
    );
    let lost = 0;
    let doubled = 0;
    const committedInStores = new Map<string, number>();
    for (const s of stores) {
      const shop = sandbox.shop(s);
      for (const variant of shop.variants.values()) {
        const item = shop.items.get(variant.inventoryItemId);
        if (!item || !variant.sku) continue;
        for (const level of item.levels.values()) {
          committedInStores.set(
            variant.sku,
            (committedInStores.get(variant.sku) ?? 0) + level.quantities.committed,
          );
        }
      }
    }
    for (const row of ledger.rows) {
      const expected = committedInStores.get(row.sku) ?? 0;
      if (row.committed < expected) lost += expected - row.committed;
      if (row.committed > expected) doubled += row.committed - expected;
    }
    const oversold = await world.pg.query<{ n: number }>(
      "SELECT COALESCE(sum(shortfall), 0)::int AS n FROM oversell_incident",
    );
    // Units the stores committed that the ledger has not: lost only on a settled run.
    if (!settledRun && lost > 0)
      log(
        `${lost} units committed at the stores are not in the ledger yet: their webhooks were still queued (${undelivered}) or their receipts pending (${pendingReceipts}) when the run ended, so lost and doubled cannot be judged`,
      );

    const round = (n: number) => (Number.isFinite(n) ? Math.round(n) : null);
    const result = {
      mode: "load",
      ...p,
      orders: generator.placed,
      refused: generator.refused,
      drive_s: Number(driveSeconds.toFixed(1)),
      drain_s: Number(drainSeconds.toFixed(1)),
      ack_p50_ms: round(percentile(acks, 50)),
      ack_p99_ms: round(percentile(acks, 99)),
      // The web's own histogram (request in → answer out), as a bucket bound: the sender's figure
      // above also holds the local Shopify's own event-loop lag, on the same two cores.
      ack_server_p50_le_ms: histogramQuantileBound(
        webMetrics,
        "stockguard_webhook_ack_seconds",
        0.5,
      ),
      ack_server_p99_le_ms: histogramQuantileBound(
        webMetrics,
        "stockguard_webhook_ack_seconds",
        0.99,
      ),
      sync_p50_ms: round(percentile(syncMs, 50)),
      sync_p95_ms: round(percentile(syncMs, 95)),
      sync_p99_ms: round(percentile(syncMs, 99)),
      events_per_s: Math.round(eventsPerS),
      writes_per_order: Number((writes / Math.max(1, generator.placed)).toFixed(2)),
      writes_within_window: spacing.within,
      writes_per_level_per_window_max: spacing.most,
      throttled,
      // null: not judged (the run ended with webhooks or receipts not yet through).
      lost_movements: settledRun ? lost : null,
      doubled_movements: settledRun ? doubled : null,
      not_yet_in_ledger_units: settledRun ? 0 : lost,
      oversold_units: oversold.rows[0]!.n,
      web_rss_mb: maxWebRss,
      cpu_ms_per_order: cpuMsPerOrder,
      worker_rss_mb: maxWorkerRss,
      sale_p50_ms: round(sales.p50),
      sale_p95_ms: round(sales.p95),
      sale_p99_ms: round(sales.p99),
      sale_by_5s: salesByWindow,
      sale_max_ms: round(sales.max),
      sale_timeouts: sales.timeouts,
      sales_judged: sales.sales,
      ack_attempts: attempts.length,
      ack_timeouts: ackTimeouts,
      ack_non_2xx: ackNon2xx,
      ack_errors: ackErrors,
      first_attempts_dropped: droppedFirst,
      undelivered_webhooks: undelivered,
      undrained_receipts: pendingReceipts,
      undrained_listings: dirtyListings,
      settle_after_drain_s: Number(settleS.toFixed(1)),
      stuck_listings: settledRun ? stuck.length : null,
      mismatched_listings_at_end: stuck.length,
      generator_rate: generator.achieved_rate,
      generator_reached: generator.reached,
      generator_late_p99_ms: generator.late_p99_ms,
      local_shopify_loop_p99_ms: loopP99Ms,
      web_loop_p99_ms: webLoopP99,
      worker_loop_p99_ms: workerLoopP99,
      oversold_truth_units: truthOversold,
      setup_s: Number(setupSeconds.toFixed(1)),
      total_s: Number(((Date.now() - benchStarted) / 1000).toFixed(1)),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await world.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // A run that overstays its deadline stops its children and fails (nothing left running).
  // The market's plays last 40 merchant minutes each: at a smaller BENCH_MARKET_SCALE they take
  // longer, and so may the run.
  const market = process.env.BENCH_MODE === "market";
  const scale = Number(process.env.BENCH_MARKET_SCALE ?? 60);
  const deadlineS = Number(
    process.env.BENCH_TIMEOUT_S ?? (market ? Math.max(600, (600 * 60) / scale) : 600),
  );
  setTimeout(() => {
    console.error(`bench: deadline of ${deadlineS} s passed; stopping`);
    stopAllSpawned("SIGKILL");
    process.exit(2);
  }, deadlineS * 1000).unref();
  (process.env.BENCH_MODE === "market"
    ? import("./market-bench").then((m) => m.runMarket())
    : main()
  ).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

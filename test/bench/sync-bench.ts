/**
 * `npm run bench` — the sync pipeline at speed, measured (a script, not a test).
 *
 * Starts the sandbox (local Shopify with a source store and N−1 other stores, the web process,
 * worker process(es), connected through the CLI) and drives orders through the storefronts.
 *
 * Load mode (default): BENCH_SKUS=10000, BENCH_CONNECTIONS=4, BENCH_RATE=200 orders/s for
 * BENCH_DURATION=60 s, BENCH_HOT_SHARE=0.2 of the orders on BENCH_HOT_SKUS=10 hot SKUs. Stock is
 * deep enough that nothing sells out, so every order must flow through. Last line: one JSON
 * object with ack and sync percentiles, throughput, writes per order, throttling, lost/doubled
 * movements, oversold units and memory.
 *
 * Market mode (BENCH_MODE=market): see market-bench.ts.
 *
 * Other knobs: BENCH_WORKERS (worker processes, default 1), BENCH_RESTORE_RATE (Admin API points
 * per second per store, default 1000 = Shopify Plus), BENCH_COALESCE_MS (default 200).
 */
import { readFileSync } from "node:fs";
import {
  freePort,
  percentile,
  skuOf,
  startWorld,
  stopAllSpawned,
  waitFor,
  type World,
} from "../e2e/world";

const num = (name: string, fallback: number) =>
  process.env[name] ? Number(process.env[name]) : fallback;

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
};

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

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
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

async function main(): Promise<void> {
  const p = PROFILE;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const hotStock = Math.ceil(((p.rate * p.duration * p.hotShare) / p.hotSkus) * 1.5) + 10;
  const coldStock = 50;
  log(
    `bench: ${JSON.stringify(p)}; starting the sandbox (importing ${p.skus} SKUs into ${p.connections} stores)…`,
  );
  const setupStarted = Date.now();
  // The (first) worker's /metrics: job durations and queue waits, printed after the run.
  const metricsPort = await freePort();
  const world: World = await startWorld({
    skus: p.skus,
    stock: (i) => (i < p.hotSkus ? hotStock : coldStock),
    secondaryStores: p.connections - 1,
    workers: p.workers,
    throttle: { maximumAvailable: p.restoreRate * 20, restoreRate: p.restoreRate },
    delivery: { delayMs: [0, 0], concurrency: 100 },
    env: {
      WORKER_METRICS_PORT: String(metricsPort),
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
      PUSH_COALESCE_MS: String(p.coalesceMs),
      WORKER_CONCURRENCY: "16",
      DATABASE_POOL_MAX: "20",
    },
  });
  try {
    const stores = [world.source, ...world.stores];
    const sandbox = world.shopify.sandbox;
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
    log(
      `setup done in ${Math.round((Date.now() - setupStarted) / 1000)} s; driving ${p.rate} orders/s for ${p.duration} s`,
    );

    const marks = {
      mutations: new Map(stores.map((s) => [s, sandbox.shop(s).mutationLog.length])),
      requests: new Map(stores.map((s) => [s, sandbox.shop(s).requestLog.length])),
      deliveries: sandbox.deliveries().length,
    };
    const startedAt = new Date();
    const random = rng(42);
    let placed = 0;
    let refused = 0;
    let maxWebRss = 0;
    let maxWorkerRss = 0;
    const sample = () => {
      maxWebRss = Math.max(maxWebRss, processRss(world.processes.web.pid));
      for (const w of world.processes.workers)
        maxWorkerRss = Math.max(maxWorkerRss, processRss(w.pid));
    };
    const sampler = setInterval(sample, 1_000);
    // Open-loop arrivals: orders are due at fixed times whatever the system's pace.
    const total = p.rate * p.duration;
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / p.rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const store = stores[Math.floor(random() * stores.length)]!;
      const sku =
        random() < p.hotShare
          ? skuOf(Math.floor(random() * p.hotSkus))
          : skuOf(p.hotSkus + Math.floor(random() * (p.skus - p.hotSkus)));
      try {
        sandbox.checkout(store, { lines: [{ sku, quantity: 1 }] });
        placed++;
      } catch {
        refused++;
      }
    }
    const driveSeconds = (performance.now() - t0) / 1000;
    const lastOrderAt = Date.now();
    log(
      `placed ${placed} orders (${refused} refused) in ${driveSeconds.toFixed(1)} s; waiting for the pipeline to drain…`,
    );
    await sandbox.waitForWebhooksIdle(600_000);
    await waitFor(
      async () =>
        (
          await world.pg.query(
            "SELECT 1 FROM listing WHERE published_version > pushed_version UNION ALL SELECT 1 FROM receipt WHERE status = 'pending' LIMIT 1",
          )
        ).rowCount === 0,
      600_000,
      "the pipeline to drain",
    );
    const drainSeconds = (Date.now() - lastOrderAt) / 1000;
    clearInterval(sampler);
    sample();

    // Acknowledgement: as the sender measured it (request start → 2xx).
    const deliveries = sandbox.deliveries().slice(marks.deliveries);
    const acks = deliveries.flatMap((d) =>
      d.attempts.filter((a) => a.ok).map((a) => a.durationMs ?? 0),
    );
    // Sync: event received → every affected connection written.
    const sync = await world.pg.query<{ ms: number; topic: string }>(
      `SELECT r.topic, (EXTRACT(EPOCH FROM max(t.written_at) - r.received_at) * 1000)::float AS ms
         FROM receipt r JOIN push_trace t ON t.receipt_id = r.id
        WHERE r.received_at >= $1 GROUP BY r.id, r.topic, r.received_at`,
      [startedAt],
    );
    const syncMs = sync.rows.map((r) => r.ms);
    // Where the time goes, per topic: sender → receipt, receipt → applied, applied → written.
    const stages = await world.pg.query(
      `SELECT r.topic, count(*)::int AS n,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM r.received_at - r.triggered_at) * 1000)::int AS delivery_p50,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM r.applied_at - r.received_at) * 1000)::int AS ingest_p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM r.applied_at - r.received_at) * 1000)::int AS ingest_p95,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM w.last - r.applied_at) * 1000)::int AS push_p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM w.last - r.applied_at) * 1000)::int AS push_p95
         FROM receipt r
         LEFT JOIN (SELECT receipt_id, max(written_at) AS last FROM push_trace GROUP BY receipt_id) w
                ON w.receipt_id = r.id
        WHERE r.received_at >= $1 GROUP BY r.topic ORDER BY n DESC`,
      [startedAt],
    );
    for (const row of stages.rows) log(`stage ${JSON.stringify(row)}`);
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
    for (const line of summarizeHistograms(webMetrics, ["stockguard_webhook_ack_seconds"]))
      log(line);
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
    for (const s of stores) {
      writes += sandbox
        .shop(s)
        .mutationLog.slice(marks.mutations.get(s))
        .reduce((n, m) => n + m.requested.length, 0);
      throttled += sandbox
        .shop(s)
        .requestLog.slice(marks.requests.get(s))
        .filter((q) => q.outcome === "throttled").length;
    }

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

    const result = {
      mode: "load",
      ...p,
      orders: placed,
      refused,
      drive_s: Number(driveSeconds.toFixed(1)),
      drain_s: Number(drainSeconds.toFixed(1)),
      ack_p50_ms: Math.round(percentile(acks, 50)),
      ack_p99_ms: Math.round(percentile(acks, 99)),
      // The web's own histogram (request in → answer out), as a bucket bound: the sender's figure
      // above also holds the load generator's own event-loop lag, on the same two cores.
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
      sync_p50_ms: Math.round(percentile(syncMs, 50)),
      sync_p95_ms: Math.round(percentile(syncMs, 95)),
      sync_p99_ms: Math.round(percentile(syncMs, 99)),
      events_per_s: Math.round(eventsPerS),
      writes_per_order: Number((writes / Math.max(1, placed)).toFixed(2)),
      throttled,
      lost_movements: lost,
      doubled_movements: doubled,
      oversold_units: oversold.rows[0]!.n,
      web_rss_mb: maxWebRss,
      worker_rss_mb: maxWorkerRss,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await world.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // A run that overstays its deadline stops its children and fails (nothing left running).
  const deadlineS = Number(process.env.BENCH_TIMEOUT_S ?? 900);
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

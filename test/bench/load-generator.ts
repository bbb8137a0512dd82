/**
 * The bench's load generator, in its own process (`sync-bench.ts` starts it): open-loop buyers
 * on the storefronts of the local Shopify, over HTTP, at a fixed rate whatever the system's
 * pace. Arrivals are due at fixed times; when the generator itself cannot keep up (CPU, too many
 * requests in flight) it says so instead of quietly sending less.
 *
 * Input: one JSON argument { url, stores, skus, hotSkus, hotShare, rate, duration, seed,
 * maxInFlight? }. Output: one JSON line on stdout { attempts, placed, refused, errors,
 * target_rate, achieved_rate, started_on_time, late_p99_ms, request_p50_ms, request_p99_ms,
 * max_in_flight, reached, elapsed_s }.
 */
import http from "node:http";

export type GeneratorConfig = {
  url: string;
  stores: string[];
  skus: number;
  hotSkus: number;
  hotShare: number;
  rate: number;
  duration: number;
  seed: number;
  maxInFlight?: number;
};

export type GeneratorResult = {
  attempts: number;
  placed: number;
  refused: number;
  errors: number;
  target_rate: number;
  /** Attempts answered per second of the drive (first due → last answer). */
  achieved_rate: number;
  /** Share of the attempts sent within 50 ms of their due time. */
  started_on_time: number;
  late_p99_ms: number;
  request_p50_ms: number;
  request_p99_ms: number;
  max_in_flight: number;
  /** Achieved ≥ 95% of the target rate with 99% of the attempts sent within 50 ms. */
  reached: boolean;
  elapsed_s: number;
};

const skuOf = (i: number) => `SKU-${String(i).padStart(5, "0")}`;

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export async function generate(config: GeneratorConfig): Promise<GeneratorResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: config.maxInFlight ?? 256 });
  const random = rng(config.seed);
  const total = Math.round(config.rate * config.duration);
  const maxInFlight = config.maxInFlight ?? 256;
  let placed = 0;
  let refused = 0;
  let errors = 0;
  let inFlight = 0;
  let maxSeen = 0;
  let lastAnswer = 0;
  const late: number[] = [];
  const took: number[] = [];
  const pending = new Set<Promise<void>>();
  const base = new URL(config.url);

  const post = (store: string, body: string): Promise<number> =>
    new Promise((resolve) => {
      const request = http.request(
        {
          host: base.hostname,
          port: base.port,
          path: `/${store}/storefront/checkout`,
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
        },
        (response) => {
          response.resume();
          response.on("end", () => resolve(response.statusCode ?? 0));
          response.on("error", () => resolve(0));
        },
      );
      request.setTimeout(30_000, () => request.destroy());
      request.on("error", () => resolve(0));
      request.end(body);
    });

  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / config.rate;
    let wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    // Too many in flight: wait for one to finish (the lateness shows it).
    while (inFlight >= maxInFlight) await Promise.race(pending);
    wait = performance.now() - due;
    late.push(Math.max(0, wait));
    const store = config.stores[Math.floor(random() * config.stores.length)]!;
    const sku =
      random() < config.hotShare
        ? skuOf(Math.floor(random() * config.hotSkus))
        : skuOf(config.hotSkus + Math.floor(random() * (config.skus - config.hotSkus)));
    const body = JSON.stringify({ lines: [{ sku, quantity: 1 }] });
    inFlight++;
    maxSeen = Math.max(maxSeen, inFlight);
    const sent = performance.now();
    const attempt = post(store, body).then((status) => {
      inFlight--;
      lastAnswer = performance.now();
      took.push(lastAnswer - sent);
      if (status === 201) placed++;
      else if (status === 409) refused++;
      else errors++;
    });
    pending.add(attempt);
    void attempt.finally(() => pending.delete(attempt));
  }
  await Promise.all(pending);
  agent.destroy();
  const elapsed = Math.max(lastAnswer, performance.now()) - t0;
  const attempts = placed + refused + errors;
  const achieved = attempts / Math.max(config.duration, (lastAnswer - t0) / 1000);
  const onTime = late.filter((ms) => ms <= 50).length / Math.max(1, late.length);
  return {
    attempts,
    placed,
    refused,
    errors,
    target_rate: config.rate,
    achieved_rate: Number(achieved.toFixed(1)),
    started_on_time: Number(onTime.toFixed(3)),
    late_p99_ms: Math.round(percentile(late, 99)),
    request_p50_ms: Math.round(percentile(took, 50)),
    request_p99_ms: Math.round(percentile(took, 99)),
    max_in_flight: maxSeen,
    reached: achieved >= 0.95 * config.rate && onTime >= 0.99,
    elapsed_s: Number((elapsed / 1000).toFixed(1)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const config = JSON.parse(process.argv[2] ?? "{}") as GeneratorConfig;
  // Stop with the bench: a parent that dies closes our stdin.
  process.stdin.on("end", () => process.exit(3));
  process.stdin.resume();
  generate(config)
    .then((result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}

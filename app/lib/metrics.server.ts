/**
 * Prometheus metrics, one registry per process (web and worker each serve their own
 * `/metrics`). prom-client lives in node_modules once, so the Remix bundle and the entry share it.
 */
import cluster from "node:cluster";
import client from "prom-client";

declare global {
  var stockguardMetrics: ReturnType<typeof createMetrics> | undefined;
}

function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "stockguard_" });
  // A web process of a cluster answers the primary's collection with this registry (creating an
  // AggregatorRegistry is what installs prom-client's answering listener in a worker).
  if (cluster.isWorker) {
    new client.AggregatorRegistry();
    client.AggregatorRegistry.setRegistries([registry]);
  }
  const latencyBuckets = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60];
  return {
    registry,
    webhookAckSeconds: new client.Histogram({
      name: "stockguard_webhook_ack_seconds",
      help: "Time from request start to the webhook answer (receipt stored and job enqueued)",
      labelNames: ["topic", "outcome"],
      // 5 ms steps up to 60 ms, so a p99 near the 50 ms target reads to the bucket.
      buckets: [
        0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.045, 0.05, 0.055, 0.06,
        0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5,
      ],
      registers: [registry],
    }),
    webhookAdmissionWaitSeconds: new client.Histogram({
      name: "stockguard_webhook_admission_wait_seconds",
      help: "Time a flood-topic webhook waited for a place (WEB_WEBHOOK_CONCURRENCY) before its handler started, by class (orders: orders, refunds, fulfillments; levels); not in stockguard_webhook_ack_seconds",
      labelNames: ["class"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    receipts: new client.Counter({
      name: "stockguard_receipts_total",
      help: "Inbound events by outcome (stored, duplicate, rejected, unauthorized)",
      labelNames: ["channel", "outcome"],
      registers: [registry],
    }),
    ingestSeconds: new client.Histogram({
      name: "stockguard_ingest_seconds",
      help: "Time from receipt stored to ledger applied",
      labelNames: ["topic"],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    pushLatencySeconds: new client.Histogram({
      name: "stockguard_push_latency_seconds",
      help: "Time from the first unpushed change of a listing to the channel showing it",
      labelNames: ["channel"],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    channelWrites: new client.Counter({
      name: "stockguard_channel_writes_total",
      help: "Listing quantities written to channels",
      labelNames: ["channel"],
      registers: [registry],
    }),
    sqlRetries: new client.Counter({
      name: "stockguard_sql_retries_total",
      help: "Statements (scope statement) or transactions (scope transaction) PostgreSQL aborted as a deadlock's victim or for serialization, run again; each deadlock cost its victim deadlock_timeout (1 s by default)",
      labelNames: ["scope", "reason"],
      registers: [registry],
    }),
    databaseWaits: new client.Counter({
      name: "stockguard_database_waits_total",
      help: "Job runs put back for a moment because the database was unreachable",
      labelNames: ["queue"],
      registers: [registry],
    }),
    throttleWaits: new client.Counter({
      name: "stockguard_throttle_waits_total",
      help: "Jobs delayed because a channel budget was exhausted (source: budget, throttled, 429)",
      labelNames: ["channel", "source"],
      registers: [registry],
    }),
    failures: new client.Counter({
      name: "stockguard_sync_failures_total",
      help: "Failures by kind",
      labelNames: ["channel", "kind"],
      registers: [registry],
    }),
    receiptsAppliedInWeb: new client.Counter({
      name: "stockguard_receipts_applied_in_web_total",
      help: "Stored receipts the web process applied itself instead of enqueuing (its fast lane)",
      registers: [registry],
    }),
    receiptsAbandoned: new client.Counter({
      name: "stockguard_receipts_abandoned_total",
      help: "Receipts failed after the sweeper revived them the maximum number of times",
      registers: [registry],
    }),
    holdUnitsReleased: new client.Counter({
      name: "stockguard_hold_units_released_total",
      help:
        "Units a channel's drop held for every other channel that nothing explained within the " +
        "settle window (released by the sweeper): an order that never came, an edit at the " +
        "channel, or a drop held twice; each kept the other channels that many units low",
      registers: [registry],
    }),
    oversells: new client.Counter({
      name: "stockguard_oversold_units_total",
      help: "Units sold beyond availability (recorded as incidents)",
      registers: [registry],
    }),
    jobSeconds: new client.Histogram({
      name: "stockguard_job_seconds",
      help: "Time a worker spent on one job, by queue and outcome",
      labelNames: ["queue", "outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    jobWaitSeconds: new client.Histogram({
      name: "stockguard_job_wait_seconds",
      help: "Time from when a job was due (added, plus its delay) to a worker starting it",
      labelNames: ["queue"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    queueDepth: new client.Gauge({
      name: "stockguard_queue_jobs",
      help: "Jobs per queue and state",
      labelNames: ["queue", "state"],
      registers: [registry],
    }),
  };
}

export function metrics() {
  globalThis.stockguardMetrics ??= createMetrics();
  return globalThis.stockguardMetrics;
}

type MetricsReply = { stockguardMetricsReply: number; text?: string; error?: string };

let nextAsk = 0;

/**
 * The metrics page of this web: in a cluster (WEB_CONCURRENCY > 1), every web process's registry
 * summed by the primary (app/web-server.ts answers the ask over IPC), since a scrape reaches one
 * process only; otherwise this process's registry.
 */
export async function webMetricsText(): Promise<{ text: string; contentType: string }> {
  const registry = metrics().registry;
  if (!cluster.isWorker || !process.send) {
    return { text: await registry.metrics(), contentType: registry.contentType };
  }
  const id = ++nextAsk;
  const text = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off("message", onReply);
      reject(new Error("the cluster primary did not answer the metrics ask within 5 s"));
    }, 5_000);
    const onReply = (message: unknown) => {
      const reply = message as MetricsReply | null;
      if (reply?.stockguardMetricsReply !== id) return;
      clearTimeout(timer);
      process.off("message", onReply);
      if (reply.text !== undefined) resolve(reply.text);
      else reject(new Error(reply.error ?? "metrics aggregation failed"));
    };
    process.on("message", onReply);
    process.send!({ stockguardMetricsAsk: id });
  });
  return { text, contentType: registry.contentType };
}

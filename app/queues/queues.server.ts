/**
 * Queue producers: one `Queue` per name per process, sharing one fail-fast connection, with each
 * queue's default job options. Jobs ids and deduplication ids never contain `:` (BullMQ key
 * separator).
 */
import { Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { env } from "../env.server";
import { onShutdown } from "../lib/lifecycle.server";
import { createRedis, waitReady } from "./connection.server";
import { QUEUES, type JobPayloads, type QueueName } from "./definitions";

type Producers = {
  redis: Redis;
  queues: Map<QueueName, Queue>;
  /** When a connection that had been ready was lost (null: ready, or never connected yet). */
  downSince: number | null;
};

declare global {
  var stockguardProducers: Producers | undefined;
}

function producers(): Producers {
  if (!globalThis.stockguardProducers) {
    const redis = createRedis("producer");
    const state: Producers = { redis, queues: new Map(), downSince: null };
    redis.on("ready", () => (state.downSince = null));
    redis.on("close", () => (state.downSince ??= Date.now()));
    globalThis.stockguardProducers = state;
    onShutdown("queue-producers", closeProducers);
  }
  return globalThis.stockguardProducers;
}

/** The producers' Redis connection (small counters that go with enqueuing, e.g. shop load). */
export function queueRedis(): Redis {
  return producers().redis;
}

export function queue<N extends QueueName>(name: N): Queue<JobPayloads[N]> {
  const state = producers();
  let q = state.queues.get(name);
  if (!q) {
    q = new Queue(name, {
      connection: state.redis,
      prefix: env().QUEUE_PREFIX,
      skipWaitingForReady: true,
      defaultJobOptions: DEFAULT_JOB_OPTIONS[name],
    });
    q.on("error", () => undefined); // surfaced by the connection's own error listener
    state.queues.set(name, q);
  }
  return q as Queue<JobPayloads[N]>;
}

export const DEFAULT_JOB_OPTIONS: Record<QueueName, JobsOptions> = {
  [QUEUES.ingest]: {
    attempts: 30,
    backoff: { type: "capped", delay: 250 },
    removeOnComplete: { age: 3_600, count: 10_000 },
    removeOnFail: { age: 7 * 86_400 },
  },
  [QUEUES.push]: {
    // Capped backoff (see cappedBackoff): a push waiting out a long backoff would hold its
    // deduplication id and with it every newer change of the connection.
    attempts: 25,
    backoff: { type: "capped", delay: 250 },
    removeOnComplete: { age: 600, count: 1_000 },
    removeOnFail: { age: 7 * 86_400 },
  },
  [QUEUES.reconcile]: {
    attempts: 5,
    backoff: { type: "exponential", delay: 5_000, jitter: 0.5 },
    removeOnComplete: { age: 86_400, count: 1_000 },
    removeOnFail: { age: 7 * 86_400 },
  },
  [QUEUES.catalog]: {
    attempts: 5,
    backoff: { type: "exponential", delay: 2_000, jitter: 0.5 },
    removeOnComplete: { age: 3_600, count: 1_000 },
    removeOnFail: { age: 7 * 86_400 },
  },
  [QUEUES.poll]: {
    attempts: 5,
    backoff: { type: "capped", delay: 500 },
    removeOnComplete: { age: 600, count: 1_000 },
    removeOnFail: { age: 7 * 86_400 },
  },
  [QUEUES.spool]: {
    // An unreachable database does not use attempts (job-runner): these are for anything else.
    attempts: 10,
    backoff: { type: "capped", delay: 250 },
    removeOnComplete: { age: 600, count: 1_000 },
    removeOnFail: { age: 7 * 86_400 },
  },
  [QUEUES.maintenance]: {
    attempts: 5,
    backoff: { type: "exponential", delay: 2_000, jitter: 0.5 },
    removeOnComplete: { age: 3_600, count: 1_000 },
    removeOnFail: { age: 7 * 86_400 },
  },
};

/**
 * Exponential backoff with jitter, capped at 5 s (`type: "capped"` jobs); other types fall back to
 * BullMQ's built-ins. Used by every worker (Worker `settings.backoffStrategy`).
 */
export function cappedBackoff(attemptsMade: number, type?: string): number {
  if (type !== "capped") return -1;
  const base = Math.min(5_000, 250 * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(base * (0.5 + Math.random() * 0.5));
}

/**
 * Producers connect lazily and never queue commands offline, so a command sent before the
 * connection is up would fail: wait briefly for it (bounded; the receipt is already stored and
 * the sweeper enqueues it later). A connection lost for longer than that is an outage: fail at
 * once. Waiting there cost every webhook 250 ms for the whole outage and, with the sender's
 * concurrency, a backlog that took seconds to drain after Redis came back (decision 0023).
 */
export async function producersReady(timeoutMs = 250): Promise<void> {
  const state = producers();
  if (state.redis.status === "ready") return;
  const downFor = state.downSince === null ? 0 : Date.now() - state.downSince;
  if (downFor >= timeoutMs) throw new Error("Redis not ready");
  await waitReady(state.redis, timeoutMs - downFor);
}

export async function closeProducers(): Promise<void> {
  const state = globalThis.stockguardProducers;
  globalThis.stockguardProducers = undefined;
  if (!state) return;
  await Promise.allSettled([...state.queues.values()].map((q) => q.close()));
  state.redis.disconnect();
}

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

type Producers = { redis: Redis; queues: Map<QueueName, Queue> };

declare global {
  var stockguardProducers: Producers | undefined;
}

function producers(): Producers {
  if (!globalThis.stockguardProducers) {
    const redis = createRedis("producer");
    globalThis.stockguardProducers = { redis, queues: new Map() };
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
 * connection is up would fail: wait briefly for it (bounded, so a Redis outage costs a webhook
 * at most this long; the receipt is already stored and the sweeper enqueues it later).
 */
export async function producersReady(timeoutMs = 250): Promise<void> {
  await waitReady(producers().redis, timeoutMs);
}

export async function closeProducers(): Promise<void> {
  const state = globalThis.stockguardProducers;
  globalThis.stockguardProducers = undefined;
  if (!state) return;
  await Promise.allSettled([...state.queues.values()].map((q) => q.close()));
  state.redis.disconnect();
}

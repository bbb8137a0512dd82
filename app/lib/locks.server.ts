/**
 * Per-connection locks in Redis, shared by every worker process: at most one push (or source
 * read) of a connection runs at a time. A lock lives `ttlMs` and is renewed every third of that
 * while its holder runs, so a long push keeps it and a worker killed mid-push (SIGKILL, OOM) frees
 * it within `ttlMs`. Locks only avoid wasted work: correctness never depends on them (PostgreSQL,
 * the channels' own compare-and-set or idempotency keys, and the change claims of sales pushes —
 * `listings.rememberIntendedWrites` — decide). Redis loses them when it restarts.
 */
import type { Redis } from "ioredis";
import { ChannelThrottledError } from "../channels/errors";
import { env } from "../env.server";
import { createRedis } from "../queues/connection.server";
import { onShutdown } from "./lifecycle.server";

/** Another push of this connection is running; the job waits a moment (no attempt used). */
export class ConnectionBusyError extends ChannelThrottledError {
  constructor(connectionId: string) {
    super(`a push of connection ${connectionId} is already running`, 75, { source: "lock" });
  }
}

const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

declare global {
  var stockguardLockRedis: Redis | undefined;
}

/** The Redis connection of locks and channel budgets (one per process). */
export function sharedRedis(): Redis {
  if (!globalThis.stockguardLockRedis) {
    const redis = createRedis("worker");
    globalThis.stockguardLockRedis = redis;
    onShutdown("lock-redis", () => {
      redis.disconnect();
      globalThis.stockguardLockRedis = undefined;
    });
  }
  return globalThis.stockguardLockRedis;
}

/** Takes the connection's lock; returns its release, or null if another holder has it. */
export async function acquireConnectionLock(
  connectionId: string,
  ttlMs = 4_000,
): Promise<(() => Promise<void>) | null> {
  const redis = sharedRedis();
  const key = `${env().QUEUE_PREFIX}:lock:push:${connectionId}`;
  const token = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  const ok = await redis.set(key, token, "PX", ttlMs, "NX");
  if (ok !== "OK") return null;
  const renewal = setInterval(
    () => {
      redis.eval(RENEW, 1, key, token, String(ttlMs)).catch(() => undefined);
    },
    Math.max(1_000, Math.floor(ttlMs / 3)),
  );
  renewal.unref();
  return async () => {
    clearInterval(renewal);
    await redis.eval(UNLOCK, 1, key, token).catch(() => undefined);
  };
}

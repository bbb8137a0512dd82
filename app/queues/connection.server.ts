/**
 * Redis connections for BullMQ, following BullMQ's production guide:
 * - producers (the web process, the CLI) fail fast: `enableOfflineQueue: false`, so a webhook
 *   whose job cannot be enqueued answers 5xx at once instead of hanging past Shopify's 5 s;
 * - workers wait for Redis forever: `maxRetriesPerRequest: null`.
 */
import { Redis, type RedisOptions } from "ioredis";
import { env } from "../env.server";
import { log } from "../logger.server";

export type RedisRole = "producer" | "worker";

export function redisOptions(role: RedisRole): RedisOptions {
  const common: RedisOptions = {
    connectionName: `stockguard-${role}`,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
  return role === "producer"
    ? { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 }
    : { ...common, maxRetriesPerRequest: null, enableReadyCheck: true };
}

export function createRedis(role: RedisRole, url: string = env().REDIS_URL): Redis {
  const client = new Redis(url, redisOptions(role));
  const logger = log({ component: "redis", role });
  client.on("error", (error: Error) =>
    logger.warn({ err: error.message }, "redis connection error"),
  );
  return client;
}

/** Waits until the connection is ready (producers with no offline queue need this at start). */
export async function waitReady(client: Redis, timeoutMs = 5_000): Promise<void> {
  if (client.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("Redis not ready")), timeoutMs);
    client.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

import type { Redis } from "ioredis";
import { z } from "zod";
import type { ConnectionContext } from "../channels/channel-adapter";
import { ChannelAuthError, ChannelThrottledError } from "../channels/errors";
import { ShopifyAdapter } from "../channels/shopify/adapter.server";
import { ShopifyBudget } from "../channels/shopify/budget.server";
import { env } from "../env.server";
import { decrypt, developmentKey, encrypt, parseKey } from "../lib/crypto.server";
import { onShutdown } from "../lib/lifecycle.server";
import { db, sql } from "../lib/sql.server";
import { createRedis } from "../queues/connection.server";
import type { ConnectionRow } from "../repositories/push.server";

/**
 * Composition of channel adapters for services and workers: credentials (decrypted only here),
 * the shared rate budget, the sandbox origin.
 */
export const ZShopifyCredentials = z.object({
  accessToken: z.string().min(1),
  /** Secret the store signs its webhooks with (its custom app's API secret), if not ours. */
  webhookSecret: z.string().min(1).optional(),
});
export type ShopifyCredentials = z.infer<typeof ZShopifyCredentials>;

export function encryptionKey(): Buffer {
  const configured = env().STOCKGUARD_ENCRYPTION_KEY;
  return configured ? parseKey(configured) : developmentKey();
}

export function sealCredentials(value: unknown): string {
  return encrypt(JSON.stringify(value), encryptionKey());
}

export function openShopifyCredentials(sealed: string | null): ShopifyCredentials | null {
  if (!sealed) return null;
  return ZShopifyCredentials.parse(JSON.parse(decrypt(sealed, encryptionKey())));
}

export function toContext(row: ConnectionRow): ConnectionContext {
  return {
    id: row.id,
    shopId: row.shopId,
    kind: row.kind,
    role: row.role,
    accountRef: row.accountRef,
    apiBaseUrl: row.apiBaseUrl,
    settings: row.settings ?? {},
  };
}

const tokenCache = new Map<string, { token: string; until: number }>();

/**
 * Access token of a connection. The source store uses the offline session Shopify's library
 * stored (refreshed by the library when it expires); other stores use their sealed credentials.
 */
export async function shopifyToken(conn: ConnectionContext): Promise<string> {
  const cached = tokenCache.get(conn.id);
  if (cached && cached.until > Date.now()) return cached.token;
  let token: string | undefined;
  if (conn.role === "source") {
    const rows = await db().query<{
      accessToken: string;
      expires: Date | null;
      refreshToken: string | null;
    }>(sql`
      SELECT "accessToken", expires, "refreshToken" FROM "Session" WHERE id = ${`offline_${conn.accountRef}`}`);
    const row = rows[0];
    if (row && row.expires && row.refreshToken && row.expires.getTime() < Date.now() + 5 * 60_000) {
      const { unauthenticated } = await import("../shopify.server");
      token = (await unauthenticated.admin(conn.accountRef)).session.accessToken;
    } else token = row?.accessToken;
  } else {
    const rows = await db().query<{ credentials: string | null }>(sql`
      SELECT credentials FROM connection WHERE id = ${conn.id}::uuid`);
    token = openShopifyCredentials(rows[0]?.credentials ?? null)?.accessToken;
  }
  if (!token) throw new ChannelAuthError(`no access token for ${conn.accountRef}`);
  tokenCache.set(conn.id, { token, until: Date.now() + 60_000 });
  return token;
}

export function forgetToken(connectionId: string): void {
  tokenCache.delete(connectionId);
}

declare global {
  var stockguardChannelRedis: Redis | undefined;
  var stockguardShopifyAdapter: ShopifyAdapter | undefined;
}

/** Another push of this connection is running; the job waits a moment (no attempt used). */
export class ConnectionBusyError extends ChannelThrottledError {
  constructor(connectionId: string) {
    super(`a push of connection ${connectionId} is already running`, 200, { source: "lock" });
  }
}

const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * A per-connection lock shared by every worker process; returns its release, or null if held.
 * The lock lives `ttlMs` and is renewed every third of that while its holder runs, so a push
 * that takes long keeps it, and a worker killed mid-push (SIGKILL, OOM) frees it within `ttlMs`
 * instead of blocking the connection's pushes for minutes.
 */
export async function acquireConnectionLock(
  connectionId: string,
  ttlMs = 15_000,
): Promise<(() => Promise<void>) | null> {
  shopifyAdapter();
  const redis = globalThis.stockguardChannelRedis!;
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

export function shopifyAdapter(): ShopifyAdapter {
  if (!globalThis.stockguardShopifyAdapter) {
    const redis = createRedis("worker");
    globalThis.stockguardChannelRedis = redis;
    onShutdown("channel-redis", () => {
      redis.disconnect();
      globalThis.stockguardChannelRedis = undefined;
      globalThis.stockguardShopifyAdapter = undefined;
    });
    globalThis.stockguardShopifyAdapter = new ShopifyAdapter({
      tokens: shopifyToken,
      budget: new ShopifyBudget(redis, env().QUEUE_PREFIX),
      origin: env().SHOPIFY_ADMIN_API_ORIGIN,
    });
  }
  return globalThis.stockguardShopifyAdapter;
}

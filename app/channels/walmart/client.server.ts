/**
 * HTTP client of the Walmart Marketplace API: client-credentials access tokens (15 minutes,
 * cached per process and refreshed a minute ahead of expiry or after a 401), the WM_* headers
 * every call needs, Walmart's token buckets shared by every worker (Redis, per seller and
 * operation), and Walmart's answers turned into the port's closed error set:
 *
 * - 429 (+ `Retry-After`) → the operation is blocked for every worker, `ChannelThrottledError`;
 *   `x-current-token-count: 0` on a success blocks it until `x-next-replenish-time`;
 * - 401 after a fresh token, or keys refused by `POST /v3/token` → `ChannelAuthError`;
 * - 5xx, timeouts, refused connections → `ChannelRetryableError`;
 * - other 4xx → `WalmartRequestError` (the adapter decides: rejected write, unknown order, …).
 *
 * Error bodies are read under `error` (what the gateway answers) or `errors` (the OpenAPI name).
 */
import { createHash, randomUUID } from "node:crypto";
import { acquire, block, type BucketLimit } from "../../lib/rate-limit.server";
import { ChannelAuthError, ChannelRetryableError, ChannelThrottledError } from "../errors";
import { walmartConfig, type WalmartConfig } from "./config.server";
import { errorEntries } from "./payloads";

export type WalmartKeys = { clientId: string; clientSecret: string };

/** Operations with their own token bucket (Walmart limits per seller per API). */
export type WalmartOperation =
  | "inventory.update"
  | "inventories.get"
  | "inventories.list"
  | "items.list"
  | "orders.list"
  | "orders.get"
  | "webhooks";

/** Our side of Walmart's buckets: per minute, full bucket = one minute's worth. */
export function operationLimit(op: WalmartOperation, config: WalmartConfig): BucketLimit {
  const perMinute = {
    "inventory.update": config.WALMART_INVENTORY_WRITES_PER_MINUTE,
    "inventories.get": config.WALMART_INVENTORY_READS_PER_MINUTE,
    "inventories.list": config.WALMART_INVENTORY_READS_PER_MINUTE,
    // Third-party figure (marketplaces.md §4.5); items and webhooks are not published: modest.
    "orders.list": 5_000,
    "orders.get": 5_000,
    "items.list": 300,
    webhooks: 60,
  }[op];
  return { perSecond: perMinute / 60, burst: perMinute };
}

/** A 4xx Walmart answered that is neither auth nor throttling. */
export class WalmartRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "WalmartRequestError";
  }
}

export type Limiter = {
  acquire(scope: string, operation: string, limit: BucketLimit, waitMs: number): Promise<void>;
  block(scope: string, operation: string, ms: number): Promise<void>;
};

export type CallContext = {
  baseUrl: string;
  keys: WalmartKeys;
  /** Rate-limit scope: the seller account. */
  scope: string;
  /** Wait in place up to this long for a bucket (imports); 0 throws `ChannelThrottledError`. */
  throttleWaitMs?: number;
};

export type WalmartResponse<T = unknown> = { status: number; body: T; headers: Headers };

type CachedToken = { token: string; expiresAt: number };

/** Refresh this long before Walmart's `expires_in` runs out. */
const REFRESH_AHEAD_MS = 60_000;

export class WalmartClient {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<CachedToken>>();
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly limiter: Limiter;
  private readonly config: () => WalmartConfig;

  constructor(
    options: {
      fetch?: typeof globalThis.fetch;
      limiter?: Limiter;
      config?: () => WalmartConfig;
    } = {},
  ) {
    this.fetchImpl = options.fetch ?? ((...args) => globalThis.fetch(...args));
    this.limiter = options.limiter ?? { acquire, block };
    this.config = options.config ?? (() => walmartConfig());
  }

  private tokenKey(baseUrl: string, keys: WalmartKeys): string {
    const secret = createHash("sha256").update(keys.clientSecret).digest("hex").slice(0, 16);
    return `${baseUrl}\u0000${keys.clientId}\u0000${secret}`;
  }

  /** Drops the cached access token of these keys (Walmart refused it). */
  forgetToken(baseUrl: string, keys: WalmartKeys): void {
    this.tokens.delete(this.tokenKey(baseUrl, keys));
  }

  private baseHeaders(): Record<string, string> {
    const config = this.config();
    return {
      "WM_QOS.CORRELATION_ID": randomUUID(),
      "WM_SVC.NAME": config.WALMART_SVC_NAME,
      ...(config.WALMART_CHANNEL_TYPE
        ? { "WM_CONSUMER.CHANNEL.TYPE": config.WALMART_CHANNEL_TYPE }
        : {}),
      Accept: "application/json",
    };
  }

  /** An access token for these keys (cached; fetched when missing or within a minute of expiry). */
  async accessToken(baseUrl: string, keys: WalmartKeys, force = false): Promise<string> {
    const key = this.tokenKey(baseUrl, keys);
    const cached = this.tokens.get(key);
    if (!force && cached && cached.expiresAt - REFRESH_AHEAD_MS > Date.now()) return cached.token;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetchToken(baseUrl, keys).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    const fresh = await pending;
    this.tokens.set(key, fresh);
    return fresh.token;
  }

  private async fetchToken(baseUrl: string, keys: WalmartKeys): Promise<CachedToken> {
    const basic = Buffer.from(`${keys.clientId}:${keys.clientSecret}`, "utf8").toString("base64");
    const response = await this.send(`${baseUrl}/v3/token`, {
      method: "POST",
      headers: {
        ...this.baseHeaders(),
        Authorization: `Basic ${basic}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=client_credentials",
    });
    const body = await readJson(response);
    if (response.status === 429) throw throttledBy(response, "token");
    if (response.status >= 500) throw serverError(response, body, "token");
    if (response.status === 400 || response.status === 401 || response.status === 403) {
      const [first] = errorEntries(body);
      throw new ChannelAuthError(
        `Walmart refused the client id and secret${first ? ` (${first.code}: ${first.message})` : ""}`,
        { status: response.status },
      );
    }
    const token = body as { access_token?: unknown; expires_in?: unknown } | null;
    if (response.status !== 200 || typeof token?.access_token !== "string") {
      throw new ChannelRetryableError(`Walmart token call answered ${response.status}`);
    }
    const expiresIn = typeof token.expires_in === "number" ? token.expires_in : 900;
    return { token: token.access_token, expiresAt: Date.now() + expiresIn * 1000 };
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchImpl(url, {
        ...init,
        signal: AbortSignal.timeout(this.config().WALMART_REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new ChannelRetryableError(`Walmart unreachable: ${(error as Error).message}`);
    }
  }

  /**
   * One call under the operation's shared bucket. Throttled calls were not executed by Walmart,
   * so waiting and sending again is safe; within `throttleWaitMs` the call waits in place.
   */
  async request<T = unknown>(
    ctx: CallContext,
    op: WalmartOperation,
    method: string,
    path: string,
    options: { query?: Record<string, string | undefined>; body?: unknown } = {},
  ): Promise<WalmartResponse<T>> {
    const deadline = Date.now() + (ctx.throttleWaitMs ?? 0);
    for (;;) {
      try {
        return await this.once<T>(ctx, op, method, path, options);
      } catch (error) {
        if (!(error instanceof ChannelThrottledError)) throw error;
        const wait = Math.max(50, error.retryAfterMs);
        if (Date.now() + wait > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  private async once<T>(
    ctx: CallContext,
    op: WalmartOperation,
    method: string,
    path: string,
    options: { query?: Record<string, string | undefined>; body?: unknown },
  ): Promise<WalmartResponse<T>> {
    await this.limiter.acquire(ctx.scope, op, operationLimit(op, this.config()), 0);
    const url = new URL(`${ctx.baseUrl}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) url.searchParams.set(name, value);
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken(ctx.baseUrl, ctx.keys, attempt > 0);
      const response = await this.send(url.toString(), {
        method,
        headers: {
          ...this.baseHeaders(),
          "WM_SEC.ACCESS_TOKEN": token,
          ...(options.body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      const body = await readJson(response);
      if (response.status === 401) {
        this.forgetToken(ctx.baseUrl, ctx.keys);
        if (attempt === 0) continue; // expired or revoked early: one fresh token
        throw new ChannelAuthError(
          "Walmart refused a fresh access token for these keys (revoked or without permission)",
          { status: 401 },
        );
      }
      if (response.status === 429) {
        const error = throttledBy(response, op);
        await this.limiter.block(ctx.scope, op, error.retryAfterMs);
        throw error;
      }
      if (response.status >= 500) throw serverError(response, body, op);
      if (response.status >= 400) {
        const [first] = errorEntries(body);
        throw new WalmartRequestError(
          response.status,
          first?.code ?? `HTTP_${response.status}`,
          first?.message ?? `HTTP ${response.status}`,
          first?.field,
        );
      }
      await this.observeBucket(ctx, op, response.headers);
      return { status: response.status, body: body as T, headers: response.headers };
    }
  }

  /** Walmart says the bucket is empty: nobody calls this operation before it refills. */
  private async observeBucket(ctx: CallContext, op: WalmartOperation, headers: Headers) {
    if (headers.get("x-current-token-count") !== "0") return;
    const next = Number(headers.get("x-next-replenish-time"));
    const ms = Number.isFinite(next) && next > 0 ? next - Date.now() : 1_000;
    if (ms > 0) await this.limiter.block(ctx.scope, op, Math.min(ms, 60_000));
  }
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => "");
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** 429: wait `Retry-After` (seconds), else until `x-next-replenish-time`, else a second. */
function throttledBy(response: Response, op: string): ChannelThrottledError {
  const retryAfter = Number(response.headers.get("retry-after"));
  const replenish = Number(response.headers.get("x-next-replenish-time"));
  const ms =
    Number.isFinite(retryAfter) && retryAfter > 0
      ? retryAfter * 1000
      : Number.isFinite(replenish) && replenish > Date.now()
        ? replenish - Date.now()
        : 1_000;
  return new ChannelThrottledError(`Walmart throttled ${op}`, ms, { source: "channel" });
}

function serverError(response: Response, body: unknown, op: string): ChannelRetryableError {
  const [first] = errorEntries(body);
  return new ChannelRetryableError(
    `Walmart ${op} answered ${response.status}${first ? ` (${first.code})` : ""}`,
    { status: response.status },
  );
}

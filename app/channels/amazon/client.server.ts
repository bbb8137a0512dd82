/**
 * `SpApiClient`, the Selling Partner API client every Amazon call goes through: it takes a token
 * from the seller's (or the grantless) bucket in Redis before sending, sends the LWA access token
 * as `x-amz-access-token`, renews it once when SP-API answers 401/403 Unauthorized, blocks the
 * operation for every worker after a 429, and turns failures into the closed channel error set.
 */
import { acquire, block } from "../../lib/rate-limit.server";
import {
  ChannelAuthError,
  ChannelPermanentError,
  ChannelRetryableError,
  ChannelThrottledError,
} from "../errors";
import { regionOf, SP_API_HOSTS } from "./config.server";
import { USAGE_PLANS, type SpOperation } from "./limits";
import type { AmazonTokens } from "./tokens.server";

/** Who a call is for. */
export type SpTarget = {
  /** The connection whose seller token is used; null with `grantless` calls or `accessToken`. */
  connectionId: string | null;
  /** Selling partner id: the rate-limit scope (grantless calls share the app's scope). */
  sellerId: string | null;
  /** API origin (the sandbox); null: the region's SP-API host. */
  apiBaseUrl: string | null;
  marketplaceId: string;
  /** A token for credentials not stored yet (describeAccount). */
  accessToken?: string;
};

export type SpCall = {
  operation: SpOperation;
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  path: string;
  query?: Record<string, string | number | string[] | undefined>;
  body?: unknown;
  grantless?: boolean;
  /** 4xx statuses answered rather than thrown (409 Conflict of an existing destination). */
  accept?: number[];
};

export type SpAnswer<T> = { status: number; body: T; requestId: string | null };

export type SpErrorBody = { errors?: { code?: string; message?: string; details?: string }[] };

export type ClientOptions = {
  tokens: AmazonTokens;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
  /** Key prefix of the shared buckets (tests give each adapter instance the same one). */
  scopePrefix?: string;
};

/** The rate-limit scope of a seller (one bucket per selling partner and application). */
export function sellerScope(prefix: string, sellerId: string | null): string {
  return `${prefix}:${sellerId ?? "grantless"}`;
}

export class SpApiClient {
  /** Calls answered 429 by Amazon (figures for tests and the e2e report). */
  throttled = 0;

  constructor(private readonly options: ClientOptions) {}

  private get prefix(): string {
    return this.options.scopePrefix ?? "amazon";
  }

  baseUrl(target: SpTarget): string {
    return target.apiBaseUrl ?? SP_API_HOSTS[regionOf(target.marketplaceId)]!;
  }

  /**
   * Sends one call. 2xx and 404 are answered (the caller decides what a missing item means);
   * 429 → `ChannelThrottledError` (after blocking the operation for everyone); 401/403 →
   * one retry with a fresh token, then `ChannelAuthError`; 5xx and network errors → retryable;
   * other 4xx → permanent. With `waitMs`, budget shortfalls and 429s are waited out in place
   * up to that long.
   */
  async call<T>(target: SpTarget, call: SpCall, waitMs = 0): Promise<SpAnswer<T>> {
    const deadline = Date.now() + waitMs;
    const scope = sellerScope(this.prefix, call.grantless ? null : target.sellerId);
    const plan = USAGE_PLANS[call.operation];
    let renewed = false;
    for (;;) {
      await acquire(scope, call.operation, plan, Math.max(0, deadline - Date.now()));
      const token = await this.token(target, call);
      const response = await this.send(target, call, token);
      const requestId = response.headers.get("x-amzn-requestid");
      if (response.status === 429) {
        this.throttled++;
        await block(scope, call.operation, plan.blockMs);
        if (Date.now() + plan.blockMs <= deadline) {
          await new Promise((resolve) => setTimeout(resolve, plan.blockMs));
          continue;
        }
        throw new ChannelThrottledError(
          `Amazon ${call.operation}: 429 QuotaExceeded`,
          plan.blockMs,
          { source: "channel", requestId },
        );
      }
      const body = await readBody(response);
      if (response.status === 401 || response.status === 403) {
        // An expired or revoked access token: ask LWA for a new one once. A refresh token that
        // was revoked fails there (invalid_grant → ChannelAuthError).
        if (!renewed && !target.accessToken) {
          renewed = true;
          if (call.grantless) this.options.tokens.forgetGrantless(target.apiBaseUrl);
          else if (target.connectionId) this.options.tokens.forgetSeller(target.connectionId);
          continue;
        }
        throw new ChannelAuthError(
          `Amazon refused the access token for ${call.operation} (HTTP ${response.status}: ${describe(body)})`,
          { requestId },
        );
      }
      if (response.status >= 500)
        throw new ChannelRetryableError(
          `Amazon ${call.operation}: HTTP ${response.status} ${describe(body)}`,
          { requestId },
        );
      if (
        response.status >= 400 &&
        response.status !== 404 &&
        !(call.accept ?? []).includes(response.status)
      )
        throw new ChannelPermanentError(
          `Amazon ${call.operation}: HTTP ${response.status} ${describe(body)}`,
          { requestId },
        );
      return { status: response.status, body: body as T, requestId };
    }
  }

  private async token(target: SpTarget, call: SpCall): Promise<string> {
    if (target.accessToken) return target.accessToken;
    if (call.grantless) return this.options.tokens.grantlessToken(target.apiBaseUrl);
    if (!target.connectionId)
      throw new ChannelPermanentError(`Amazon ${call.operation} needs a connection`);
    return this.options.tokens.sellerToken(target.connectionId, target.apiBaseUrl);
  }

  private async send(target: SpTarget, call: SpCall, token: string): Promise<Response> {
    const url = new URL(call.path, this.baseUrl(target));
    for (const [name, value] of Object.entries(call.query ?? {})) {
      if (value === undefined) continue;
      url.searchParams.set(name, Array.isArray(value) ? value.join(",") : String(value));
    }
    try {
      return await (this.options.fetch ?? globalThis.fetch)(url, {
        method: call.method,
        headers: {
          "x-amz-access-token": token,
          Accept: "application/json",
          "User-Agent": "StockGuard/1.0 (Language=TypeScript)",
          ...(call.body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 20_000),
      });
    } catch (error) {
      throw new ChannelRetryableError(
        `Amazon ${call.operation} failed: ${(error as Error).message}`,
      );
    }
  }
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { raw: text.slice(0, 500) };
  }
}

/** The first errors of an SP-API error list, for messages. */
export function describe(body: unknown): string {
  const errors = (body as SpErrorBody | null)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return JSON.stringify(body).slice(0, 300);
  return errors
    .slice(0, 3)
    .map((e) => `${e.code ?? "?"}: ${e.message ?? ""}${e.details ? ` (${e.details})` : ""}`)
    .join("; ");
}

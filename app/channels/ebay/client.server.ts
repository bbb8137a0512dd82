/**
 * `EbayClient`: every REST call StockGuard makes to eBay goes through here. Before a call it
 * takes a token from the seller's daily bucket of that API family in Redis (shared by every
 * worker, `lib/rate-limit`); it sends the user token (or the application token) and turns
 * eBay's answers into the closed error set:
 * - 401 on a user token: the token is refreshed once and the call repeated; a second 401 (or a
 *   refresh eBay refuses) is a `ChannelAuthError`;
 * - 403 (a scope the seller did not grant): `ChannelAuthError`;
 * - 429 ("the request limit has been reached for the resource"): that operation is blocked for
 *   the seller (the application for app-level calls) in every worker for `Retry-After` (5 s
 *   without one) and the call is `ChannelThrottledError`. The block is a key of its own:
 *   `lib/rate-limit`'s `block` empties the bucket, which for a daily bucket (refilling at
 *   limit / 86,400 a second) would leave about one call a second after every 429;
 * - 5xx, timeouts, resets: `ChannelRetryableError`;
 * - other answers (2xx, 207, 4xx) go back to the caller, which knows what a 404 means.
 */
import { env } from "../../env.server";
import { sharedRedis } from "../../lib/locks.server";
import { acquire } from "../../lib/rate-limit.server";
import type { ConnectionContext } from "../channel-adapter";
import { ChannelAuthError, ChannelRetryableError, ChannelThrottledError } from "../errors";
import { ebayConfig, ebayHosts, type ApiGroup } from "./config.server";
import { retryAfterMs, type EbayTokens } from "./tokens.server";

export type EbayCall = {
  group: ApiGroup;
  /** eBay's operation name (logs, errors). */
  operation: string;
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Path below the host, e.g. `/sell/inventory/v1/inventory_item`. */
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** `user`: the seller's token; `app`: the application token (client credentials). */
  auth: "user" | "app";
  /** `apiz` for the Identity API. */
  host?: "api" | "apiz";
  headers?: Record<string, string>;
};

export type EbayAnswer<T = unknown> = {
  status: number;
  headers: Headers;
  body: T;
  text: string;
};

/** One entry of eBay's `errors` array. */
export type EbayErrorDetail = {
  errorId?: number;
  domain?: string;
  category?: string;
  message?: string;
  longMessage?: string;
};

export function errorsOf(body: unknown): EbayErrorDetail[] {
  const errors = (body as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) ? (errors as EbayErrorDetail[]) : [];
}

export function describeErrors(body: unknown, fallback: string): string {
  const errors = errorsOf(body);
  if (errors.length === 0) return fallback;
  return errors.map((e) => `${e.errorId ?? "?"}: ${e.longMessage ?? e.message ?? ""}`).join("; ");
}

/** How long a 429 without `Retry-After` blocks the API family. */
const DEFAULT_429_MS = 5_000;

export class EbayClient {
  constructor(
    private readonly tokens: EbayTokens,
    private readonly fetchImpl: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  /** The rate-limit scope of a call: the seller account, or the application. */
  private scope(conn: ConnectionContext, call: EbayCall): string {
    return call.auth === "user" ? `ebay:${conn.accountRef}` : `ebay-app:${ebayConfig().clientId}`;
  }

  private blockKey(scope: string, operation: string): string {
    return `${env().QUEUE_PREFIX}:ebay:blocked:${scope}:${operation}`;
  }

  async call<T = unknown>(conn: ConnectionContext, call: EbayCall): Promise<EbayAnswer<T>> {
    const scope = this.scope(conn, call);
    const blocked = await sharedRedis().pttl(this.blockKey(scope, call.operation));
    if (blocked > 0)
      throw new ChannelThrottledError(`eBay ${call.operation}: throttled by eBay`, blocked, {
        source: "channel",
        operation: call.operation,
      });
    const perDay = ebayConfig().dailyLimits[call.group];
    await acquire(
      scope,
      call.group,
      { perSecond: perDay / 86_400, burst: perDay },
      conn.throttleWaitMs ?? 0,
    );
    let answer = await this.send<T>(conn, call);
    if (answer.status === 401) {
      if (call.auth === "user") this.tokens.forgetAccessToken(conn.id);
      else this.tokens.forgetAppToken(conn.apiBaseUrl);
      answer = await this.send<T>(conn, call);
      if (answer.status === 401)
        throw new ChannelAuthError(
          `eBay refused the access token for ${call.operation} (${describeErrors(answer.body, "HTTP 401")})`,
        );
    }
    if (answer.status === 403)
      throw new ChannelAuthError(
        `eBay denied ${call.operation}: ${describeErrors(answer.body, "HTTP 403")} (the seller may have to connect again to grant the scope)`,
      );
    if (answer.status === 429) {
      const wait = Math.max(1, retryAfterMs(answer.headers, DEFAULT_429_MS));
      await sharedRedis().set(this.blockKey(scope, call.operation), "1", "PX", wait);
      throw new ChannelThrottledError(`eBay ${call.operation}: too many requests`, wait, {
        source: "channel",
        operation: call.operation,
      });
    }
    if (answer.status >= 500)
      throw new ChannelRetryableError(
        `eBay ${call.operation} HTTP ${answer.status}: ${describeErrors(answer.body, "server error")}`,
      );
    return answer;
  }

  private async send<T>(conn: ConnectionContext, call: EbayCall): Promise<EbayAnswer<T>> {
    const token =
      call.auth === "user"
        ? await this.tokens.userToken(conn)
        : await this.tokens.appToken(conn.apiBaseUrl);
    const hosts = ebayHosts(conn.apiBaseUrl);
    const url = new URL(`${call.host === "apiz" ? hosts.apiz : hosts.api}${call.path}`);
    for (const [key, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
      Accept: "application/json",
      ...call.headers,
    };
    let body: string | undefined;
    if (call.body !== undefined) {
      body = JSON.stringify(call.body);
      headers["Content-Type"] = "application/json";
    }
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method: call.method,
        headers,
        body,
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      throw new ChannelRetryableError(`eBay ${call.operation} failed: ${(error as Error).message}`);
    }
    const text = await response.text();
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        if (response.status < 300)
          throw new ChannelRetryableError(`eBay ${call.operation}: the answer is not JSON`);
      }
    }
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }
}

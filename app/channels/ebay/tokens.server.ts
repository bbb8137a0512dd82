/**
 * eBay OAuth 2.0 (https://developer.ebay.com/api-docs/static/oauth-tokens.html): the
 * authorization-code exchange at connect time, user access tokens (about 2 h) refreshed from the
 * sealed refresh token (about 18 months, never rotated by eBay) and cached in memory per process,
 * and the application token (client credentials) `getPublicKey` needs. Every call to the token
 * endpoint authenticates the application with Basic `client_id:client_secret`.
 *
 * A refresh token eBay refuses (`invalid_grant`: expired, revoked, the account deleted) is a
 * `ChannelAuthError`; the connection is paused once with the reason (see `onRefused`) and this
 * process does not ask again for a minute, so a dead token never turns into a loop of calls.
 */
import { z } from "zod";
import { open } from "../../lib/credentials.server";
import { log } from "../../logger.server";
import { sealedCredentials } from "../../repositories/connections.server";
import type { ConnectionContext } from "../channel-adapter";
import {
  ChannelAuthError,
  ChannelPermanentError,
  ChannelRetryableError,
  ChannelThrottledError,
} from "../errors";
import { ebayConfig, ebayHosts } from "./config.server";

/** What StockGuard keeps of an eBay seller (sealed at rest by the caller). */
export const ZEbayCredentials = z.object({
  refreshToken: z.string().min(1),
  /** ISO time the refresh token stops working (also in the connection settings, for the admin). */
  refreshTokenExpiresAt: z.string().min(1),
  scopes: z.array(z.string()),
  /** eBay's immutable user id (the connection's account ref). */
  userId: z.string().min(1),
});
export type EbayCredentials = z.infer<typeof ZEbayCredentials>;

export type TokenAnswer = {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  refresh_token_expires_in?: number;
  token_type?: string;
};

/** Refresh access tokens this long before eBay says they expire. */
const EARLY_MS = 5 * 60_000;
/** After eBay refused a refresh token, this process answers from memory for this long. */
const REFUSED_MEMORY_MS = 60_000;
/** Refresh tokens closer than this to their end are reported ahead of time. */
export const REFRESH_WARNING_MS = 30 * 86_400_000;

const APP_SCOPE = "https://api.ebay.com/oauth/api_scope";

export function retryAfterMs(headers: Headers, fallback: number): number {
  const value = headers.get("retry-after");
  if (!value) return fallback;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? fallback : Math.max(0, date - Date.now());
}

/** One call to `POST /identity/v1/oauth2/token`; errors in the channel's closed set. */
export async function tokenCall(
  apiBaseUrl: string | null,
  form: Record<string, string>,
  fetchImpl: typeof fetch = fetch,
): Promise<TokenAnswer> {
  const config = ebayConfig();
  const url = `${ebayHosts(apiBaseUrl).api}/identity/v1/oauth2/token`;
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: "POST",
      headers: {
        Authorization: `Basic ${Buffer.from(`${config.clientId}:${config.clientSecret}`).toString("base64")}`,
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/json",
      },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new ChannelRetryableError(`eBay token endpoint unreachable: ${(error as Error).message}`);
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = {};
  }
  if (response.status === 200 && typeof body.access_token === "string") {
    return body as unknown as TokenAnswer;
  }
  if (response.status === 429)
    throw new ChannelThrottledError(
      "eBay token endpoint: too many requests",
      retryAfterMs(response.headers, 5_000),
      { source: "channel" },
    );
  if (response.status >= 500)
    throw new ChannelRetryableError(`eBay token endpoint HTTP ${response.status}`);
  const error = typeof body.error === "string" ? body.error : `HTTP ${response.status}`;
  const description = typeof body.error_description === "string" ? body.error_description : "";
  if (error === "invalid_client")
    throw new ChannelPermanentError(
      "eBay refused the application's credentials (check EBAY_CLIENT_ID and EBAY_CLIENT_SECRET)",
    );
  if (error === "invalid_grant")
    throw new ChannelAuthError(`eBay refused the authorization (${description || error})`);
  throw new ChannelPermanentError(`eBay token endpoint: ${error} ${description}`.trim());
}

type CachedToken = { token: string; expiresAt: number; refreshToken: string };

export type TokenProviderOptions = {
  fetch?: typeof fetch;
  /** Reads a connection's sealed credentials (default: the connections repository). */
  credentials?: (connectionId: string) => Promise<EbayCredentials | null>;
  /** Called once per refusal: pauses the connection with the reason (the adapter wires it). */
  onRefused?: (conn: ConnectionContext, reason: string) => Promise<void>;
  now?: () => number;
};

/** User and application access tokens, cached in memory per process. */
export class EbayTokens {
  private readonly users = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<CachedToken>>();
  private readonly refused = new Map<string, { until: number; reason: string }>();
  private readonly apps = new Map<string, { token: string; expiresAt: number }>();
  private readonly appInflight = new Map<string, Promise<string>>();
  private readonly warned = new Map<string, number>();

  constructor(private readonly options: TokenProviderOptions = {}) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private async loadCredentials(connectionId: string): Promise<EbayCredentials | null> {
    if (this.options.credentials) return this.options.credentials(connectionId);
    return open(await sealedCredentials(connectionId), ZEbayCredentials);
  }

  /** A user access token for the connection (refreshed before it expires). */
  async userToken(conn: ConnectionContext): Promise<string> {
    const cached = this.users.get(conn.id);
    if (cached && cached.expiresAt - EARLY_MS > this.now()) return cached.token;
    const refused = this.refused.get(conn.id);
    if (refused && refused.until > this.now()) throw new ChannelAuthError(refused.reason);
    let pending = this.inflight.get(conn.id);
    if (!pending) {
      pending = this.refresh(conn).finally(() => this.inflight.delete(conn.id));
      this.inflight.set(conn.id, pending);
    }
    return (await pending).token;
  }

  private async refresh(conn: ConnectionContext): Promise<CachedToken> {
    const credentials = await this.loadCredentials(conn.id);
    if (!credentials) {
      throw new ChannelAuthError(
        "no eBay authorization is stored for this connection; connect the eBay account again",
      );
    }
    this.warnIfExpiring(conn, credentials);
    let answer: TokenAnswer;
    try {
      answer = await tokenCall(
        conn.apiBaseUrl,
        { grant_type: "refresh_token", refresh_token: credentials.refreshToken },
        this.options.fetch,
      );
    } catch (error) {
      if (error instanceof ChannelAuthError) {
        const expired = Date.parse(credentials.refreshTokenExpiresAt) <= this.now();
        const reason = expired
          ? `the eBay authorization expired on ${credentials.refreshTokenExpiresAt}; connect the eBay account again`
          : `eBay refused the stored authorization (revoked or the account closed): ${error.message}; connect the eBay account again`;
        this.refused.set(conn.id, { until: this.now() + REFUSED_MEMORY_MS, reason });
        await this.options
          .onRefused?.(conn, reason)
          .catch((e: unknown) =>
            log({ connectionId: conn.id }).error(
              { err: (e as Error).message },
              "could not pause the eBay connection",
            ),
          );
        throw new ChannelAuthError(reason);
      }
      throw error;
    }
    const token: CachedToken = {
      token: answer.access_token,
      expiresAt: this.now() + Math.max(60, answer.expires_in) * 1000,
      refreshToken: credentials.refreshToken,
    };
    this.users.set(conn.id, token);
    this.refused.delete(conn.id);
    return token;
  }

  private warnIfExpiring(conn: ConnectionContext, credentials: EbayCredentials): void {
    const expiresAt = Date.parse(credentials.refreshTokenExpiresAt);
    if (!(expiresAt - this.now() < REFRESH_WARNING_MS)) return;
    const last = this.warned.get(conn.id) ?? 0;
    if (this.now() - last < 86_400_000) return;
    this.warned.set(conn.id, this.now());
    log({ connectionId: conn.id, refreshTokenExpiresAt: credentials.refreshTokenExpiresAt }).warn(
      "the eBay authorization expires soon; the merchant must connect the eBay account again before then",
    );
  }

  /** An application token (client credentials) for `getPublicKey` and the app-level topics. */
  async appToken(apiBaseUrl: string | null): Promise<string> {
    const key = `${ebayConfig().clientId}|${ebayHosts(apiBaseUrl).api}`;
    const cached = this.apps.get(key);
    if (cached && cached.expiresAt - EARLY_MS > this.now()) return cached.token;
    let pending = this.appInflight.get(key);
    if (!pending) {
      pending = tokenCall(
        apiBaseUrl,
        { grant_type: "client_credentials", scope: APP_SCOPE },
        this.options.fetch,
      )
        .then((answer) => {
          this.apps.set(key, {
            token: answer.access_token,
            expiresAt: this.now() + Math.max(60, answer.expires_in) * 1000,
          });
          return answer.access_token;
        })
        .finally(() => this.appInflight.delete(key));
      this.appInflight.set(key, pending);
    }
    return pending;
  }

  /** Exchanges a consent code (redirect_uri = the RuName, as eBay requires). */
  async exchangeCode(apiBaseUrl: string | null, code: string): Promise<TokenAnswer> {
    return tokenCall(
      apiBaseUrl,
      { grant_type: "authorization_code", code, redirect_uri: ebayConfig().ruName },
      this.options.fetch,
    );
  }

  /** Uses a token just obtained (the consent callback) until it expires. */
  remember(connectionId: string, answer: TokenAnswer, refreshToken: string): void {
    this.users.set(connectionId, {
      token: answer.access_token,
      expiresAt: this.now() + Math.max(60, answer.expires_in) * 1000,
      refreshToken,
    });
  }

  /** eBay refused the access token (401): the next call refreshes it. */
  forgetAccessToken(connectionId: string): void {
    this.users.delete(connectionId);
  }

  /** The merchant reconnected or the credentials were erased: forget everything cached. */
  forget(connectionId: string): void {
    this.users.delete(connectionId);
    this.refused.delete(connectionId);
  }

  forgetAppToken(apiBaseUrl: string | null): void {
    this.apps.delete(`${ebayConfig().clientId}|${ebayHosts(apiBaseUrl).api}`);
  }
}

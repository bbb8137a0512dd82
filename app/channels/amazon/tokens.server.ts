/**
 * Login with Amazon for the Amazon channel: the seller's refresh token (sealed in the connection)
 * is exchanged for a one-hour access token, cached in memory per process and connection and
 * renewed five minutes before it expires or when SP-API refuses it; grantless tokens
 * (client_credentials + scope) for the Notifications API are cached per process; the consent
 * callback's `spapi_oauth_code` is exchanged for the seller's refresh token. The app's client
 * id and secret come from the configuration and are never logged.
 */
import { z } from "zod";
import { open } from "../../lib/credentials.server";
import { sealedCredentials } from "../../repositories/connections.server";
import {
  ChannelAuthError,
  ChannelPermanentError,
  ChannelRetryableError,
  ChannelThrottledError,
} from "../errors";
import { amazonConfig, DEFAULT_LWA_TOKEN_URL, type AmazonConfig } from "./config.server";

/** What a connection keeps (sealed at rest by the caller). */
export const ZAmazonCredentials = z.object({
  /** LWA refresh token (`Atzr|…`), long-lived; the seller revokes it in Seller Central. */
  refreshToken: z.string().min(1),
});
export type AmazonCredentials = z.infer<typeof ZAmazonCredentials>;

/** Renew an access token this long before it expires. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
export const NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications";

export type LwaGrant =
  | { grant_type: "refresh_token"; refresh_token: string }
  | { grant_type: "authorization_code"; code: string; redirect_uri: string }
  | { grant_type: "client_credentials"; scope: string };

export type LwaAnswer = {
  access_token: string;
  refresh_token?: string;
  expires_in: number;
};

type Cached = { token: string; expiresAt: number };

export type TokenOptions = {
  fetch?: typeof globalThis.fetch;
  config?: () => AmazonConfig;
  /** Reads a connection's sealed credentials (default: the connections repository). */
  credentials?: (connectionId: string) => Promise<AmazonCredentials | null>;
  now?: () => number;
};

/** The LWA token endpoint: the sandbox's when the connection has an API origin. */
export function lwaTokenUrl(config: AmazonConfig, apiBaseUrl: string | null): string {
  if (apiBaseUrl) return new URL("/auth/o2/token", apiBaseUrl).toString();
  return config.AMAZON_LWA_TOKEN_URL ?? DEFAULT_LWA_TOKEN_URL;
}

export class AmazonTokens {
  private readonly seller = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly grantless = new Map<string, Cached>();
  /** Grant requests sent (tests count refreshes). */
  refreshes = 0;

  constructor(private readonly options: TokenOptions = {}) {}

  private config(): AmazonConfig {
    return (this.options.config ?? amazonConfig)();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** One token request; LWA's errors become the channel's closed error set. */
  async exchange(grant: LwaGrant, apiBaseUrl: string | null): Promise<LwaAnswer> {
    const config = this.config();
    const form = new URLSearchParams({
      ...grant,
      client_id: config.AMAZON_LWA_CLIENT_ID,
      client_secret: config.AMAZON_LWA_CLIENT_SECRET,
    });
    this.refreshes++;
    let response: Response;
    try {
      response = await (this.options.fetch ?? globalThis.fetch)(lwaTokenUrl(config, apiBaseUrl), {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
          Accept: "application/json",
        },
        body: form.toString(),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      throw new ChannelRetryableError(`Login with Amazon unreachable: ${(error as Error).message}`);
    }
    let body: { error?: string; error_description?: string } & Partial<LwaAnswer> = {};
    try {
      body = (await response.json()) as typeof body;
    } catch {
      // handled by status below
    }
    if (response.ok && typeof body.access_token === "string") {
      return {
        access_token: body.access_token,
        refresh_token: body.refresh_token,
        expires_in: typeof body.expires_in === "number" ? body.expires_in : 3600,
      };
    }
    const what = `${body.error ?? `HTTP ${response.status}`}${body.error_description ? `: ${body.error_description}` : ""}`;
    if (response.status === 429)
      throw new ChannelThrottledError(`Login with Amazon ${what}`, 1_000);
    if (response.status >= 500) throw new ChannelRetryableError(`Login with Amazon ${what}`);
    if (body.error === "invalid_grant") {
      throw new ChannelAuthError(
        grant.grant_type === "refresh_token"
          ? `Amazon refused the seller's authorisation (${what}); the seller revoked it or it expired: connect the Amazon account again`
          : `Amazon refused the authorisation code (${what}); start the connection again`,
      );
    }
    if (body.error === "invalid_client") {
      throw new ChannelPermanentError(
        `Login with Amazon refused the app's client credentials (${what}): check AMAZON_LWA_CLIENT_ID and AMAZON_LWA_CLIENT_SECRET (the secret expires 180 days after it was issued)`,
      );
    }
    throw new ChannelPermanentError(`Login with Amazon refused the request (${what})`);
  }

  /** The seller access token of a connection (cached; renewed before it expires). */
  async sellerToken(connectionId: string, apiBaseUrl: string | null): Promise<string> {
    const cached = this.seller.get(connectionId);
    if (cached && cached.expiresAt - REFRESH_MARGIN_MS > this.now()) return cached.token;
    // One refresh per connection at a time (a burst of calls shares it).
    const running = this.inflight.get(connectionId);
    if (running) return running;
    const refresh = (async () => {
      const credentials = await (this.options.credentials ?? storedCredentials)(connectionId);
      if (!credentials)
        throw new ChannelAuthError("no Amazon credentials stored: connect the account again");
      const answer = await this.exchange(
        { grant_type: "refresh_token", refresh_token: credentials.refreshToken },
        apiBaseUrl,
      );
      this.seller.set(connectionId, {
        token: answer.access_token,
        expiresAt: this.now() + answer.expires_in * 1000,
      });
      return answer.access_token;
    })();
    this.inflight.set(connectionId, refresh);
    try {
      return await refresh;
    } finally {
      this.inflight.delete(connectionId);
    }
  }

  /** An access token for credentials not stored yet (checking them before a connection exists). */
  async tokenFor(credentials: AmazonCredentials, apiBaseUrl: string | null): Promise<string> {
    const answer = await this.exchange(
      { grant_type: "refresh_token", refresh_token: credentials.refreshToken },
      apiBaseUrl,
    );
    return answer.access_token;
  }

  /** A grantless token (Notifications destinations), cached per LWA endpoint. */
  async grantlessToken(apiBaseUrl: string | null, scope = NOTIFICATIONS_SCOPE): Promise<string> {
    const key = `${apiBaseUrl ?? ""}|${scope}`;
    const cached = this.grantless.get(key);
    if (cached && cached.expiresAt - REFRESH_MARGIN_MS > this.now()) return cached.token;
    const answer = await this.exchange({ grant_type: "client_credentials", scope }, apiBaseUrl);
    this.grantless.set(key, {
      token: answer.access_token,
      expiresAt: this.now() + answer.expires_in * 1000,
    });
    return answer.access_token;
  }

  /** SP-API refused a token: the next call asks LWA for a fresh one. */
  forgetSeller(connectionId: string): void {
    this.seller.delete(connectionId);
  }

  forgetGrantless(apiBaseUrl: string | null): void {
    for (const key of this.grantless.keys())
      if (key.startsWith(`${apiBaseUrl ?? ""}|`)) this.grantless.delete(key);
  }
}

async function storedCredentials(connectionId: string): Promise<AmazonCredentials | null> {
  return open(await sealedCredentials(connectionId), ZAmazonCredentials);
}

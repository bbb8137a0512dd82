/**
 * Apps as Shopify knows them.
 *
 * - **The app** (StockGuard): one per server, app-wide — client id, client secret, the scopes it
 *   asks for and its `shopify.app.toml` webhook subscriptions. A store either installed it or not
 *   (`ShopState.installation`); its toml webhooks go only to stores that installed it, signed with
 *   the client secret. Tokens come from token exchange (`oauth.ts`) and die with the install.
 * - **Custom apps**: created by a merchant inside one store; each has an Admin API token and its
 *   own API secret. The seed's `accessToken` is one (its secret is `apiSecret`); `customApps` adds
 *   more. Webhook subscriptions a custom app creates are signed with that app's secret.
 *
 * An Admin API request is authenticated by its token alone (`authenticate`): the token tells
 * which app is calling, with which scopes — the webhook subscriptions it sees and creates are
 * that app's.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { SubscriptionRec } from "./webhooks";

/** Signs the webhooks of subscriptions created with a seed token that names no `apiSecret`. */
export const DEFAULT_CUSTOM_APP_SECRET = "shpss_local_sandbox_secret";
/** Expiring offline access tokens live 60 minutes (changelog 2025-12-10: `expires_in` 3600). */
export const ACCESS_TOKEN_TTL_SECONDS = 3600;
/** Refresh tokens: 30 days (the value @shopify/shopify-app-remix's own tests use; ours). */
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;
/** Online access tokens follow the user's session: 24 h (the token-exchange docs' 86399). */
export const ONLINE_TOKEN_TTL_SECONDS = 86_399;
/** Session tokens (App Bridge `idToken()`) live one minute. */
export const SESSION_TOKEN_TTL_SECONDS = 60;
/** Clock tolerance on `exp`/`nbf` (the library's JWT_PERMITTED_CLOCK_TOLERANCE). */
export const JWT_CLOCK_TOLERANCE_SECONDS = 10;

export type AppSeed = {
  clientId: string;
  clientSecret: string;
  /** `[access_scopes] scopes` (default: DEFAULT_ACCESS_SCOPES). */
  scopes?: string[];
  title?: string;
  /** The toml's `[[webhooks.subscriptions]]`, as `subscriptionsFromToml` returns them… */
  subscriptions?: { topics: string[]; address: string; includeFields?: string[] }[];
  /** …or the toml text itself, relative `uri`s resolved against `baseUrl` (application_url). */
  toml?: string;
  baseUrl?: string;
  accessTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
  onlineTokenTtlSeconds?: number;
  /**
   * Sandbox shortcut: a token exchange for a store that has not installed the app installs it
   * first, standing for the merchant's "Install" click in the admin (Shopify's managed
   * installation installs before the app loads, so on Shopify an uninstalled store never gets
   * that far). Default false: such an exchange is refused.
   */
  installOnTokenExchange?: boolean;
};

/** Who holds a token, and signs the webhooks of the subscriptions that token creates. */
export type AppIdentity = {
  /** "app" (the app) or `custom:{installation id}` (a custom app of one store). */
  key: string;
  kind: "app" | "custom";
  title: string;
  secret: string;
};

export type AppRec = {
  id: number;
  clientId: string;
  clientSecret: string;
  title: string;
  scopes: string[];
  /** The toml subscriptions: delivered to stores that installed the app. */
  subscriptions: SubscriptionRec[];
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  onlineTokenTtlSeconds: number;
  installOnTokenExchange: boolean;
  identity: AppIdentity;
};

export type CustomAppSeed = {
  accessToken: string;
  apiSecret: string;
  accessScopes?: string[];
  title?: string;
};

export type CustomAppRec = {
  identity: AppIdentity;
  accessToken: string;
  scopes: string[];
  installationId: number;
};

export type InstallationRec = { id: number; scopes: string[]; installedAt: Date };

export type AppTokenRec = {
  token: string;
  mode: "offline" | "online";
  /** Epoch ms; null: a non-expiring offline token. */
  expiresAt: number | null;
  issuedAt: number;
  userId: number | null;
  /** The refresh token this one replaced the pair of: retired when this token is first used. */
  retires: string | null;
};

export type RefreshTokenRec = {
  token: string;
  expiresAt: number;
  issuedAt: number;
  retires: string | null;
};

/** An authenticated Admin API caller. */
export type Caller = {
  owner: AppIdentity;
  scopes: readonly string[];
  installationId: number;
  mode: "custom" | "offline" | "online";
};

/** What `authenticate` needs of a shop. */
export type TokenHolder = {
  accessToken: string;
  accessScopes: string[];
  appInstallationId: number;
  customApp: AppIdentity;
  extraCustomApps: CustomAppRec[];
  installation: InstallationRec | null;
  appTokens: Map<string, AppTokenRec>;
  refreshTokens: Map<string, RefreshTokenRec>;
};

export function checkAppSeed(seed: AppSeed): void {
  if (typeof seed !== "object" || seed === null) throw new AppConfigError("expected an app");
  for (const key of ["clientId", "clientSecret"] as const) {
    if (typeof seed[key] !== "string" || seed[key] === "") {
      throw new AppConfigError(`the app needs a non-empty ${key}`);
    }
  }
  if (seed.scopes !== undefined && !isStringArray(seed.scopes)) {
    throw new AppConfigError("scopes must be an array of strings");
  }
  for (const key of [
    "accessTokenTtlSeconds",
    "refreshTokenTtlSeconds",
    "onlineTokenTtlSeconds",
  ] as const) {
    const value = seed[key];
    if (value !== undefined && (typeof value !== "number" || !(value > 0))) {
      throw new AppConfigError(`${key} must be a positive number`);
    }
  }
  if (seed.toml !== undefined && typeof seed.baseUrl !== "string") {
    throw new AppConfigError("toml needs baseUrl (the app's URL)");
  }
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

/** The Admin API caller behind `token`, or null (unknown, revoked or expired). */
export function authenticate(
  shop: TokenHolder,
  app: AppRec | null,
  token: string,
  now = Date.now(),
): Caller | null {
  if (token === shop.accessToken) {
    return {
      owner: shop.customApp,
      scopes: shop.accessScopes,
      installationId: shop.appInstallationId,
      mode: "custom",
    };
  }
  for (const custom of shop.extraCustomApps) {
    if (custom.accessToken === token) {
      return {
        owner: custom.identity,
        scopes: custom.scopes,
        installationId: custom.installationId,
        mode: "custom",
      };
    }
  }
  const rec = shop.appTokens.get(token);
  if (!rec || !app || !shop.installation) return null;
  if (rec.expiresAt !== null && rec.expiresAt <= now) return null;
  retirePredecessor(shop, rec);
  return {
    owner: app.identity,
    scopes: shop.installation.scopes,
    installationId: shop.installation.id,
    mode: rec.mode,
  };
}

/**
 * Rotation (changelog 2026-08-28): the refresh token a pair replaced stays usable until the app
 * uses the replacement — its access token or its refresh token — and is retired then.
 */
export function retirePredecessor(shop: TokenHolder, rec: { retires: string | null }): void {
  if (rec.retires === null) return;
  shop.refreshTokens.delete(rec.retires);
  rec.retires = null;
}

export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString("hex")}`;
}

/** Every token of the app at this shop goes (uninstall). Returns how many. */
export function revokeAppTokens(shop: TokenHolder): number {
  const count = shop.appTokens.size + shop.refreshTokens.size;
  shop.appTokens.clear();
  shop.refreshTokens.clear();
  return count;
}

// --- session tokens (App Bridge idToken) -------------------------------------------------------

export type SessionTokenClaims = {
  iss: string;
  dest: string;
  aud: string;
  sub: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  sid: string;
  sig: string;
};

/** A session token as the admin issues it to the app's frontend: HS256 with the app secret. */
export function mintSessionToken(
  app: Pick<AppRec, "clientId" | "clientSecret">,
  shop: string,
  options: { userId?: number | string; expiresInSeconds?: number; now?: number } = {},
): { token: string; claims: SessionTokenClaims } {
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const claims: SessionTokenClaims = {
    iss: `https://${shop}/admin`,
    dest: `https://${shop}`,
    aud: app.clientId,
    sub: String(options.userId ?? 1),
    exp: now + (options.expiresInSeconds ?? SESSION_TOKEN_TTL_SECONDS),
    nbf: now,
    iat: now,
    jti: randomUUID(),
    sid: randomUUID(),
    sig: randomBytes(32).toString("hex"),
  };
  return { token: signJwt(claims, app.clientSecret), claims };
}

export function signJwt(payload: object, secret: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${encode({ alg: "HS256", typ: "JWT" })}.${encode(payload)}`;
  const signature = createHmac("sha256", secret).update(unsigned).digest("base64url");
  return `${unsigned}.${signature}`;
}

export type SessionTokenCheck =
  | { ok: true; claims: Partial<SessionTokenClaims> & { sub?: string } }
  | { ok: false; reason: string };

/**
 * What Shopify checks of a subject token: an HS256 JWT signed with the client secret, `aud` the
 * client id, `dest` (and `iss`) the shop, `exp`/`nbf` within the clock tolerance.
 */
export function verifySessionToken(
  app: Pick<AppRec, "clientId" | "clientSecret">,
  shop: string,
  token: string,
  now = Date.now(),
): SessionTokenCheck {
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "not a JWT" };
  const [headerPart = "", payloadPart = "", signaturePart = ""] = parts;
  const header = decodeJson(headerPart);
  if (!header || header.alg !== "HS256") return { ok: false, reason: "alg must be HS256" };
  const expected = createHmac("sha256", app.clientSecret)
    .update(`${headerPart}.${payloadPart}`)
    .digest();
  const given = Buffer.from(signaturePart, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: "signature does not verify with the app's client secret" };
  }
  const claims = decodeJson(payloadPart);
  if (!claims) return { ok: false, reason: "payload is not JSON" };
  const seconds = now / 1000;
  if (typeof claims.exp !== "number") return { ok: false, reason: "no exp" };
  if (claims.exp <= seconds - JWT_CLOCK_TOLERANCE_SECONDS) return { ok: false, reason: "expired" };
  if (typeof claims.nbf === "number" && claims.nbf > seconds + JWT_CLOCK_TOLERANCE_SECONDS) {
    return { ok: false, reason: "not yet valid (nbf)" };
  }
  if (claims.aud !== app.clientId) return { ok: false, reason: "aud is not the client id" };
  if (claims.dest !== `https://${shop}`) return { ok: false, reason: "dest is another shop" };
  if (claims.iss !== undefined && claims.iss !== `https://${shop}/admin`) {
    return { ok: false, reason: "iss is another shop" };
  }
  return { ok: true, claims: claims as Partial<SessionTokenClaims> };
}

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

export class AppConfigError extends Error {}

/**
 * `POST /{shop}/admin/oauth/access_token`: Shopify's token endpoint, reached through the
 * `SHOPIFY_ADMIN_API_ORIGIN` rewrite of `https://{shop}/admin/oauth/access_token`.
 *
 * Grants (parameters as JSON — what @shopify/shopify-api 15 sends — or a form, or the query):
 * - token exchange (`grant_type=urn:ietf:params:oauth:grant-type:token-exchange`): a session
 *   token (`subject_token_type=urn:ietf:params:oauth:token-type:id_token`) → an offline token
 *   (non-expiring, or with `expiring=1` one hour plus a refresh token) or an online token;
 *   `subject_token_type=…:offline-access-token` with `expiring=1` migrates a non-expiring offline
 *   token to an expiring one (the library's `migrateToExpiringToken`);
 * - `grant_type=refresh_token`: a new expiring offline token and a new refresh token.
 *
 * Errors answer `{ error, error_description }` (OAuth 2.0) with 400, or 401 for bad client
 * credentials, plus `sandbox_detail` saying exactly what failed.
 */
import { timingSafeEqual } from "node:crypto";
import {
  newToken,
  retirePredecessor,
  verifySessionToken,
  type AppRec,
  type AppTokenRec,
} from "./apps";
import type { HttpResult } from "./http-util";
import type { Sandbox } from "./sandbox";
import type { ShopState } from "./state";

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
export const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token";
export const OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token";
export const ONLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:online-access-token";

/** Shopify's description for a session token it refuses (a real 400 body, 2024). */
const INVALID_SUBJECT_TOKEN = "Token exchange cannot be performed due to an invalid subject token.";

type Params = Record<string, string>;

export type TokenRequestLogEntry = {
  at: string;
  grantType: string | null;
  requestedTokenType: string | null;
  expiring: boolean;
  status: number;
  error: string | null;
};

const TOKEN_LOG_LIMIT = 1000;

function oauthError(status: number, error: string, description: string, detail: string) {
  return { status, body: { error, error_description: description, sandbox_detail: detail } };
}

function readParams(raw: string, contentType: string, query: URLSearchParams): Params | null {
  const params: Params = Object.fromEntries(query.entries());
  const text = raw.trim();
  if (text === "") return params;
  const asForm = (): Params => Object.fromEntries(new URLSearchParams(text).entries());
  let body: Params;
  if (contentType.includes("application/x-www-form-urlencoded")) body = asForm();
  else {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
      body = {};
      for (const [key, value] of Object.entries(parsed)) {
        if (value === null || value === undefined) continue;
        body[key] = typeof value === "string" ? value : JSON.stringify(value);
      }
    } catch {
      if (contentType.includes("application/json")) return null;
      body = asForm();
    }
  }
  return { ...params, ...body };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function handleAccessTokenRequest(
  sb: Sandbox,
  domain: string,
  method: string,
  headers: Record<string, string | string[] | undefined>,
  query: URLSearchParams,
  readBody: () => Promise<string>,
): Promise<HttpResult> {
  const shop = sb.shops.get(domain);
  if (!shop) return { status: 404, body: { errors: "Not Found" } };
  if (method !== "POST") return { status: 405, body: { errors: "Method Not Allowed" } };
  const params = readParams(await readBody(), String(headers["content-type"] ?? ""), query);
  const result = params
    ? grant(sb, shop, params)
    : oauthError(400, "invalid_request", "The request body is malformed.", "not JSON");
  const error = (result.body as { error?: unknown }).error;
  shop.tokenRequestLog.push({
    at: new Date().toISOString(),
    grantType: params?.grant_type ?? null,
    requestedTokenType: params?.requested_token_type ?? null,
    expiring: isTrue(params?.expiring),
    status: result.status,
    error: typeof error === "string" ? error : null,
  });
  if (shop.tokenRequestLog.length > TOKEN_LOG_LIMIT) shop.tokenRequestLog.shift();
  return result;
}

function isTrue(value: string | undefined): boolean {
  return value === "1" || value === "true";
}

function grant(sb: Sandbox, shop: ShopState, params: Params): HttpResult {
  const app = sb.app;
  const clientId = params.client_id ?? "";
  const clientSecret = params.client_secret ?? "";
  if (!app || clientId !== app.clientId) {
    return oauthError(
      401,
      "invalid_client",
      "Client credentials are invalid.",
      app ? `client_id ${JSON.stringify(clientId)} is not the app's` : "no app is configured",
    );
  }
  if (!sameSecret(clientSecret, app.clientSecret)) {
    return oauthError(
      401,
      "invalid_client",
      "Client credentials are invalid.",
      "client_secret does not match",
    );
  }
  switch (params.grant_type) {
    case TOKEN_EXCHANGE_GRANT:
      return tokenExchange(sb, shop, app, params);
    case "refresh_token":
      return refresh(shop, app, params);
    case undefined:
      if (params.code !== undefined) {
        return oauthError(
          400,
          "invalid_request",
          "The authorization code was not found or was already used",
          "the local Shopify issues no authorization codes: use token exchange",
        );
      }
      return oauthError(400, "invalid_request", "grant_type is required.", "no grant_type");
    default:
      return oauthError(
        400,
        "unsupported_grant_type",
        `The grant type ${params.grant_type} is not supported.`,
        "token exchange and refresh_token only",
      );
  }
}

function tokenExchange(sb: Sandbox, shop: ShopState, app: AppRec, params: Params): HttpResult {
  const subject = params.subject_token;
  if (subject === undefined || subject === "") {
    return oauthError(400, "missing_subject_token", "subject_token is required.", "missing");
  }
  const requested = params.requested_token_type ?? OFFLINE_TOKEN_TYPE;
  if (requested !== OFFLINE_TOKEN_TYPE && requested !== ONLINE_TOKEN_TYPE) {
    return oauthError(
      400,
      "invalid_request",
      "requested_token_type is invalid.",
      `expected ${OFFLINE_TOKEN_TYPE} or ${ONLINE_TOKEN_TYPE}`,
    );
  }
  const expiring = isTrue(params.expiring);
  if (params.subject_token_type === OFFLINE_TOKEN_TYPE) {
    return migrate(shop, app, subject, requested, expiring);
  }
  if (params.subject_token_type !== ID_TOKEN_TYPE) {
    return oauthError(
      400,
      "invalid_request",
      "subject_token_type is invalid.",
      `expected ${ID_TOKEN_TYPE} (or ${OFFLINE_TOKEN_TYPE} to migrate)`,
    );
  }
  const check = verifySessionToken(app, shop.domain, subject);
  if (!check.ok) {
    return oauthError(400, "invalid_subject_token", INVALID_SUBJECT_TOKEN, check.reason);
  }
  if (!shop.installation) {
    if (!app.installOnTokenExchange) {
      return oauthError(
        400,
        "invalid_subject_token",
        INVALID_SUBJECT_TOKEN,
        `the app is not installed on ${shop.domain} (installApp first)`,
      );
    }
    sb.installApp(shop.domain);
  }
  if (requested === ONLINE_TOKEN_TYPE) return online(shop, app, Number(check.claims.sub));
  if (expiring) return issueExpiring(shop, app, null);
  return nonExpiring(shop);
}

/** A non-expiring offline token is one per install: a repeated exchange returns the same. */
function nonExpiring(shop: ShopState): HttpResult {
  const now = Date.now();
  let rec = [...shop.appTokens.values()].find((t) => t.mode === "offline" && t.expiresAt === null);
  if (!rec) {
    rec = {
      token: newToken("shpat"),
      mode: "offline",
      expiresAt: null,
      issuedAt: now,
      userId: null,
      retires: null,
    };
    shop.appTokens.set(rec.token, rec);
  }
  return { status: 200, body: { access_token: rec.token, scope: scopeString(shop) } };
}

function issueExpiring(shop: ShopState, app: AppRec, retires: string | null): HttpResult {
  const now = Date.now();
  const access: AppTokenRec = {
    token: newToken("shpat"),
    mode: "offline",
    expiresAt: now + app.accessTokenTtlSeconds * 1000,
    issuedAt: now,
    userId: null,
    retires,
  };
  const refreshToken = newToken("shprt");
  shop.appTokens.set(access.token, access);
  shop.refreshTokens.set(refreshToken, {
    token: refreshToken,
    expiresAt: now + app.refreshTokenTtlSeconds * 1000,
    issuedAt: now,
    retires,
  });
  return {
    status: 200,
    body: {
      access_token: access.token,
      scope: scopeString(shop),
      expires_in: app.accessTokenTtlSeconds,
      refresh_token: refreshToken,
      refresh_token_expires_in: app.refreshTokenTtlSeconds,
    },
  };
}

function online(shop: ShopState, app: AppRec, sub: number): HttpResult {
  const now = Date.now();
  const userId = Number.isSafeInteger(sub) && sub > 0 ? sub : 1;
  const rec: AppTokenRec = {
    token: newToken("shpua"),
    mode: "online",
    expiresAt: now + app.onlineTokenTtlSeconds * 1000,
    issuedAt: now,
    userId,
    retires: null,
  };
  shop.appTokens.set(rec.token, rec);
  const scope = scopeString(shop);
  return {
    status: 200,
    body: {
      access_token: rec.token,
      scope,
      expires_in: app.onlineTokenTtlSeconds,
      associated_user_scope: scope,
      associated_user: {
        id: userId,
        first_name: "Sandbox",
        last_name: `User ${userId}`,
        email: userId === 1 ? shop.email : `user${userId}@${shop.domain}`,
        email_verified: true,
        account_owner: userId === 1,
        locale: "en",
        collaborator: false,
      },
    },
  };
}

/** `migrateToExpiringToken`: a non-expiring offline token → an expiring pair; the old one dies. */
function migrate(
  shop: ShopState,
  app: AppRec,
  subject: string,
  requested: string,
  expiring: boolean,
): HttpResult {
  const rec = shop.appTokens.get(subject);
  if (!rec || rec.mode !== "offline" || rec.expiresAt !== null || !shop.installation) {
    return oauthError(
      400,
      "invalid_subject_token",
      INVALID_SUBJECT_TOKEN,
      "not a live non-expiring offline token of the app for this shop",
    );
  }
  if (requested !== OFFLINE_TOKEN_TYPE || !expiring) {
    return oauthError(
      400,
      "invalid_request",
      "Only expiring offline access tokens can be requested for an offline access token.",
      "send requested_token_type=offline-access-token and expiring=1",
    );
  }
  shop.appTokens.delete(subject);
  return issueExpiring(shop, app, null);
}

function refresh(shop: ShopState, app: AppRec, params: Params): HttpResult {
  const token = params.refresh_token;
  if (token === undefined || token === "") {
    return oauthError(400, "invalid_request", "refresh_token is required.", "missing");
  }
  const rec = shop.refreshTokens.get(token);
  if (!rec || rec.expiresAt <= Date.now() || !shop.installation) {
    return oauthError(
      400,
      "invalid_grant",
      "The refresh token is invalid, expired or revoked.",
      rec ? "expired" : "unknown, already replaced and retired, or revoked by an uninstall",
    );
  }
  // Using this refresh token means the app has its pair: the one it replaced can go.
  retirePredecessor(shop, rec);
  return issueExpiring(shop, app, token);
}

function scopeString(shop: ShopState): string {
  return (shop.installation?.scopes ?? []).join(",");
}

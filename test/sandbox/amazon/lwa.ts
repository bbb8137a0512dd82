/**
 * Login with Amazon: the token endpoint `POST /auth/o2/token` (refresh_token, authorization_code,
 * client_credentials grants; OAuth error bodies) and the website authorization workflow
 * (`/apps/authorize/consent` page with an Authorize button, or automatic approval, redirecting
 * to the app's redirect URI with `state`, `selling_partner_id` and a single-use `spapi_oauth_code`).
 */
import type { IncomingMessage } from "node:http";
import { escapeHtml, json, parseFormOrJson, parseForm, type Reply } from "./http";
import * as ids from "./ids";
import { GRANTLESS_SCOPES, type AmazonSandbox } from "./sandbox";

const lwaError = (status: number, error: string, description: string): Reply =>
  json(status, { error_description: description, error }, { "Cache-Control": "no-store" });

const missing = (name: string): Reply =>
  lwaError(400, "invalid_request", `The request is missing a required parameter : ${name}`);

const invalidGrant = (name: string, extra = ""): Reply =>
  lwaError(400, "invalid_grant", `The request has an invalid grant parameter : ${name}${extra}`);

const invalidClient = (): Reply => lwaError(401, "invalid_client", "Client authentication failed");

/** `POST /auth/o2/token`. */
export function handleToken(
  sb: AmazonSandbox,
  method: string,
  contentType: string | undefined,
  body: Buffer,
): Reply {
  const reply = tokenReply(sb, method, contentType, body);
  sb.logRequest({
    api: "lwa",
    operation: "token",
    method,
    path: "/auth/o2/token",
    status: reply.status,
    sellerId: null,
    requestId: sb.random.uuid(),
    outcome:
      reply.status < 400 ? "ok" : reply.status >= 500 || reply.status === 429 ? "fault" : "error",
    rateLimit: null,
  });
  return reply;
}

function tokenReply(
  sb: AmazonSandbox,
  method: string,
  contentType: string | undefined,
  body: Buffer,
): Reply {
  if (method !== "POST") return lwaError(405, "invalid_request", "The HTTP method must be POST");
  const fault = sb.faults.next("lwa", null);
  if (fault) {
    return fault.status === 429
      ? lwaError(429, "slow_down", "The rate of requests exceeds the limit")
      : lwaError(fault.status, "server_error", "The server encountered an unexpected error");
  }
  const params = parseFormOrJson(body, contentType);
  if (!params) return lwaError(400, "invalid_request", "The request body is malformed");
  const grant = params.grant_type;
  if (!grant) return missing("grant_type");
  const required: Record<string, string[]> = {
    refresh_token: ["refresh_token", "client_id", "client_secret"],
    authorization_code: ["code", "client_id", "client_secret"],
    client_credentials: ["scope", "client_id", "client_secret"],
  };
  const names = required[grant];
  if (!names) {
    return lwaError(
      400,
      "unsupported_grant_type",
      "The authorization grant type is not supported by the authorization server",
    );
  }
  for (const name of names) if (!params[name]) return missing(name);
  const app = sb.app;
  const secretAgeMs = Date.now() - app.clientSecretRotatedAt.getTime();
  if (
    params.client_id !== app.clientId ||
    params.client_secret !== app.clientSecret ||
    secretAgeMs > sb.behaviour.clientSecretMaxAgeDays * 86_400_000
  ) {
    return invalidClient();
  }
  const ttl = sb.behaviour.accessTokenTtlSeconds;
  if (grant === "refresh_token") {
    const rec = sb.refreshTokens.get(params.refresh_token ?? "");
    if (!rec || rec.clientId !== app.clientId || !sb.sellers.has(rec.sellerId)) {
      return invalidGrant("refresh_token");
    }
    if (rec.revoked) {
      return invalidGrant(
        "refresh_token",
        ". User may have revoked or didn't grant the permission.",
      );
    }
    const access = sb.issueAccessToken({ kind: "seller", sellerId: rec.sellerId, scope: null });
    return json(
      200,
      {
        access_token: access.token,
        refresh_token: rec.token,
        token_type: "bearer",
        expires_in: ttl,
      },
      { "Cache-Control": "no-store" },
    );
  }
  if (grant === "authorization_code") {
    const code = sb.authCodes.get(params.code ?? "");
    if (
      !code ||
      code.used ||
      code.clientId !== app.clientId ||
      code.expiresAt.getTime() <= Date.now() ||
      (params.redirect_uri !== undefined && params.redirect_uri !== code.redirectUri)
    ) {
      if (
        code &&
        !code.used &&
        params.redirect_uri !== undefined &&
        params.redirect_uri !== code.redirectUri
      ) {
        return invalidGrant("redirect_uri");
      }
      return invalidGrant("code");
    }
    code.used = true;
    const refresh = sb.authorizeSeller(code.sellerId);
    const access = sb.issueAccessToken({ kind: "seller", sellerId: code.sellerId, scope: null });
    return json(
      200,
      {
        access_token: access.token,
        refresh_token: refresh.token,
        token_type: "bearer",
        expires_in: ttl,
      },
      { "Cache-Control": "no-store" },
    );
  }
  const scope = params.scope ?? "";
  if (!GRANTLESS_SCOPES.includes(scope)) {
    return lwaError(400, "invalid_scope", "An unknown scope was requested");
  }
  const access = sb.issueAccessToken({ kind: "grantless", sellerId: null, scope });
  return json(
    200,
    { access_token: access.token, scope, token_type: "bearer", expires_in: ttl },
    { "Cache-Control": "no-store" },
  );
}

// --- website authorization workflow ------------------------------------------------------------

function page(status: number, title: string, inner: string): Reply {
  return {
    status,
    contentType: "text/html; charset=utf-8",
    raw: `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body>\n<h1>${escapeHtml(title)}</h1>\n${inner}\n</body></html>\n`,
  };
}

function errorPage(code: string, message: string): Reply {
  return page(
    400,
    "We're sorry",
    `<p id="error-code">Error code: ${escapeHtml(code)}</p>\n<p id="error-message">${escapeHtml(message)}</p>`,
  );
}

type ConsentParams = {
  applicationId: string;
  state: string;
  version: string | null;
  redirectUri: string;
  sellerId: string;
};

function checkConsent(sb: AmazonSandbox, params: Record<string, string>): ConsentParams | Reply {
  const app = sb.app;
  if (params.application_id !== app.applicationId) {
    return page(
      404,
      "Application not found",
      `<p>No application ${escapeHtml(params.application_id ?? "")}.</p>`,
    );
  }
  const version = params.version ?? null;
  if (app.draft && version !== "beta") {
    return errorPage(
      "MD1000",
      "The application is in Draft state: add version=beta to authorize it.",
    );
  }
  const redirectUri = params.redirect_uri ?? app.redirectUris[0];
  if (!redirectUri) return errorPage("MD5101", "The application has no OAuth redirect URI.");
  if (redirectUri.includes("#"))
    return errorPage("MD5110", "The redirect URI contains a fragment.");
  if (!app.redirectUris.includes(redirectUri)) {
    return errorPage(
      "MD5101",
      "The redirect URI is not one of the application's OAuth redirect URIs.",
    );
  }
  const sellerId =
    params.selling_partner_id ?? sb.consent.sellerId ?? [...sb.sellers.keys()][0] ?? null;
  if (!sellerId || !sb.sellers.has(sellerId)) {
    return page(400, "Sign in", "<p>No selling partner is signed in to this sandbox.</p>");
  }
  return {
    applicationId: app.applicationId,
    state: params.state ?? "",
    version,
    redirectUri,
    sellerId,
  };
}

function redirectWithCode(sb: AmazonSandbox, consent: ConsentParams): Reply {
  const code = ids.authCode(sb.random);
  sb.authCodes.set(code, {
    code,
    clientId: sb.app.clientId,
    sellerId: consent.sellerId,
    redirectUri: consent.redirectUri,
    expiresAt: new Date(Date.now() + sb.behaviour.authCodeTtlSeconds * 1000),
    used: false,
  });
  const target = new URL(consent.redirectUri);
  target.searchParams.set("state", consent.state);
  target.searchParams.set("selling_partner_id", consent.sellerId);
  target.searchParams.set("spapi_oauth_code", code);
  return {
    status: 302,
    headers: { Location: target.toString() },
    raw: "",
    contentType: "text/plain",
  };
}

/** `GET /apps/authorize/consent` and `GET|POST /apps/authorize/confirm`. */
export async function handleConsent(
  sb: AmazonSandbox,
  req: IncomingMessage,
  path: string,
  query: URLSearchParams,
  body: Buffer,
): Promise<Reply> {
  const method = req.method ?? "GET";
  const params: Record<string, string> = {};
  for (const [k, v] of query) params[k] = v;
  if (method === "POST") Object.assign(params, parseForm(body.toString("utf8")));
  const reply = consentReply(sb, path, method, params);
  sb.logRequest({
    api: "consent",
    operation: path.endsWith("/confirm") ? "confirm" : "consent",
    method,
    path,
    status: reply.status,
    sellerId: params.selling_partner_id ?? null,
    requestId: sb.random.uuid(),
    outcome: reply.status < 400 ? "ok" : "error",
    rateLimit: null,
  });
  return reply;
}

function consentReply(
  sb: AmazonSandbox,
  path: string,
  method: string,
  params: Record<string, string>,
): Reply {
  const checked = checkConsent(sb, params);
  if ("status" in checked) return checked;
  if (path === "/apps/authorize/confirm") {
    if (method !== "GET" && method !== "POST") return page(405, "Method not allowed", "");
    return redirectWithCode(sb, checked);
  }
  if (method !== "GET") return page(405, "Method not allowed", "");
  if (sb.consent.mode === "auto") return redirectWithCode(sb, checked);
  const hidden = (name: string, value: string | null): string =>
    value === null ? "" : `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
  const link = new URLSearchParams({
    application_id: checked.applicationId,
    state: checked.state,
    redirect_uri: checked.redirectUri,
    selling_partner_id: checked.sellerId,
    ...(checked.version ? { version: checked.version } : {}),
  });
  const inner = [
    `<p><strong>${escapeHtml(sb.app.name)}</strong> asks to access the selling account <strong id="seller">${escapeHtml(checked.sellerId)}</strong>.</p>`,
    `<form id="consent" method="POST" action="/apps/authorize/confirm">`,
    hidden("application_id", checked.applicationId),
    hidden("state", checked.state),
    hidden("redirect_uri", checked.redirectUri),
    hidden("selling_partner_id", checked.sellerId),
    hidden("version", checked.version),
    `<button type="submit" id="authorize">Authorize</button>`,
    `</form>`,
    `<p><a id="authorize-link" href="/apps/authorize/confirm?${escapeHtml(link.toString())}">Authorize</a></p>`,
  ].join("\n");
  return page(200, "Authorize application", inner);
}

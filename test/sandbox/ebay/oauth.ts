/**
 * OAuth 2.0 as eBay runs it (https://developer.ebay.com/api-docs/static/oauth-tokens.html):
 *
 * - `GET /oauth2/authorize?client_id&redirect_uri=<RuName>&response_type=code&scope&state`
 *   (auth.ebay.com in production): the consent page (sign in as a seller, Agree / Disagree), or an
 *   immediate redirect when auto-approve is on. Agree redirects to the RuName's accept URL with
 *   `state`, `code` (URL-encoded, it contains `#` and `^`) and `expires_in=299`.
 * - `POST /oauth2/consent`: the consent page's form (local only).
 * - `POST /identity/v1/oauth2/token` with `Authorization: Basic base64(client_id:client_secret)`
 *   and a form body: `authorization_code` (code + redirect_uri=RuName), `refresh_token`
 *   (refresh_token + optional scope), `client_credentials` (scope).
 */
import type { IncomingMessage } from "node:http";
import { oauthErrorResult } from "./api";
import { ACCESS, ApiError, OAUTH, OAuthError } from "./errors";
import { header, readBody, type EbayResult } from "./http";
import { APPLICATION_SCOPES, USER_SCOPES, type AppRec, type SellerRec } from "./model";
import type { EbaySandbox } from "./sandbox";

const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function htmlPage(status: number, title: string, body: string): EbayResult {
  return {
    status,
    contentType: "text/html; charset=utf-8",
    raw: `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`,
  };
}

function redirect(location: string): EbayResult {
  return { status: 302, headers: { Location: location } };
}

function withQuery(url: string, params: [string, string][]): string {
  const search = params
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
  return `${url}${url.includes("?") ? "&" : "?"}${search}`;
}

type ConsentRequest = {
  app: AppRec;
  scopes: string[];
  state: string | null;
};

/** Validates the parameters shared by the consent page and its form. */
function consentRequest(
  sb: EbaySandbox,
  params: URLSearchParams,
): { ok: true; value: ConsentRequest } | { ok: false; result: EbayResult } {
  const clientId = params.get("client_id") ?? "";
  const app = sb.apps.get(clientId);
  const fail = (message: string): { ok: false; result: EbayResult } => ({
    ok: false,
    result: htmlPage(
      400,
      "eBay - error",
      `<h1>invalid_request</h1><p id="error">${escapeHtml(message)}</p>`,
    ),
  });
  if (!app) return fail(`Unknown client_id ${clientId}`);
  if (params.get("redirect_uri") !== app.ruName) {
    return fail("The redirect_uri must be the application's RuName (eBay Redirect URL name).");
  }
  const state = params.get("state");
  if (params.get("response_type") !== "code") {
    return {
      ok: false,
      result: redirect(
        withQuery(app.declineUrl, [
          ...(state !== null ? ([["state", state]] as [string, string][]) : []),
          ["error", "unsupported_response_type"],
        ]),
      ),
    };
  }
  const scopes = (params.get("scope") ?? "").split(/\s+/).filter((s) => s !== "");
  if (scopes.length === 0 || scopes.some((s) => !USER_SCOPES.includes(s))) {
    return {
      ok: false,
      result: redirect(
        withQuery(app.declineUrl, [
          ...(state !== null ? ([["state", state]] as [string, string][]) : []),
          ["error", "invalid_scope"],
        ]),
      ),
    };
  }
  return { ok: true, value: { app, scopes, state } };
}

function approve(sb: EbaySandbox, request: ConsentRequest, seller: SellerRec): EbayResult {
  const code = sb.tokens.issueCode(
    request.app.clientId,
    seller.userId,
    request.scopes,
    request.app.ruName,
  );
  return redirect(
    withQuery(request.app.acceptUrl, [
      ...(request.state !== null ? ([["state", request.state]] as [string, string][]) : []),
      ["code", code.code],
      ["expires_in", String(sb.tokens.lifetimes.authCodeSeconds)],
    ]),
  );
}

function consentSeller(sb: EbaySandbox, ref: string | null | undefined): SellerRec | null {
  if (!ref) return null;
  for (const s of sb.sellers.values()) {
    if ((s.username === ref || s.userId === ref) && !s.deleted) return s;
  }
  return null;
}

function consentPage(
  sb: EbaySandbox,
  params: URLSearchParams,
  request: ConsentRequest,
): EbayResult {
  const preset =
    sb.consent.seller ?? [...sb.sellers.values()].find((s) => !s.deleted)?.username ?? "";
  const hidden = ["client_id", "redirect_uri", "response_type", "scope", "state"]
    .filter((name) => params.get(name) !== null)
    .map(
      (name) =>
        `<input type="hidden" name="${name}" value="${escapeHtml(params.get(name) ?? "")}">`,
    )
    .join("");
  const scopes = request.scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join("");
  return htmlPage(
    200,
    "eBay - Grant application access",
    `<h1>Grant application access: ${escapeHtml(request.app.clientId)}</h1>
<p>The application is asking for these permissions:</p><ul id="scopes">${scopes}</ul>
<form id="consent" method="post" action="/oauth2/consent">${hidden}
<label>eBay username <input name="username" value="${escapeHtml(preset)}"></label>
<button type="submit" name="decision" value="agree">Agree</button>
<button type="submit" name="decision" value="disagree">Disagree</button>
</form>`,
  );
}

/** `GET /oauth2/authorize` and `POST /oauth2/consent`. */
export async function handleConsent(
  sb: EbaySandbox,
  req: IncomingMessage,
  path: string,
  query: URLSearchParams,
): Promise<EbayResult> {
  const method = req.method ?? "GET";
  if (path === "/oauth2/authorize" && method === "GET") {
    const checked = consentRequest(sb, query);
    if (!checked.ok) return checked.result;
    if (sb.consent.autoApprove) {
      const seller = consentSeller(sb, sb.consent.seller ?? [...sb.sellers.values()][0]?.username);
      if (!seller)
        return htmlPage(400, "eBay - error", '<p id="error">No seller to sign in as.</p>');
      return approve(sb, checked.value, seller);
    }
    return consentPage(sb, query, checked.value);
  }
  if (path === "/oauth2/consent" && method === "POST") {
    const form = new URLSearchParams(await readBody(req));
    const checked = consentRequest(sb, form);
    if (!checked.ok) return checked.result;
    if (form.get("decision") !== "agree") {
      const state = checked.value.state;
      return redirect(
        withQuery(checked.value.app.declineUrl, [
          ...(state !== null ? ([["state", state]] as [string, string][]) : []),
          ["error", "access_denied"],
        ]),
      );
    }
    const seller = consentSeller(sb, form.get("username"));
    if (!seller) {
      return htmlPage(401, "eBay - Sign in", `<p id="error">Unknown eBay username.</p>`);
    }
    return approve(sb, checked.value, seller);
  }
  return htmlPage(404, "eBay - not found", "<p>Not found</p>");
}

function basicCredentials(req: IncomingMessage): { clientId: string; secret: string } | null {
  const value = header(req, "authorization");
  const match = value ? /^Basic\s+(\S+)$/i.exec(value.trim()) : null;
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { clientId: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** `POST /identity/v1/oauth2/token`. */
export async function handleToken(sb: EbaySandbox, req: IncomingMessage): Promise<EbayResult> {
  const log = { method: req.method ?? "POST", path: "/identity/v1/oauth2/token", api: "identity" };
  let clientId: string | null = null;
  let operation = "token";
  try {
    if ((req.method ?? "GET") !== "POST") throw ACCESS.methodNotAllowed();
    const form = new URLSearchParams(await readBody(req));
    const grant = form.get("grant_type");
    operation = grant ? `token:${grant}` : "token";
    const credentials = basicCredentials(req);
    const app = credentials ? sb.apps.get(credentials.clientId) : undefined;
    if (!credentials || !app || app.clientSecret !== credentials.secret)
      throw OAUTH.invalidClient();
    clientId = app.clientId;
    if (!sb.limiter.take(app.clientId, operation, sb.clock.dayKey()))
      throw ACCESS.tooManyRequests();
    const fault = sb.faults.next("token") ?? sb.faults.next(operation);
    if (fault) {
      throw fault.kind === "http429"
        ? ACCESS.tooManyRequests(fault.retryAfterSeconds ?? undefined)
        : ACCESS.internal(fault.kind === "http503" ? 503 : 500);
    }
    const scopeParam = form.get("scope");
    const scopes = scopeParam === null ? null : scopeParam.split(/\s+/).filter((s) => s !== "");
    let body: unknown;
    switch (grant) {
      case "authorization_code": {
        const code = form.get("code");
        const ruName = form.get("redirect_uri");
        if (!code || !ruName) throw OAUTH.invalidRequest();
        body = sb.tokens.exchangeCode(app.clientId, code, ruName);
        break;
      }
      case "refresh_token": {
        const refreshToken = form.get("refresh_token");
        if (!refreshToken) throw OAUTH.invalidRequest();
        const rec = sb.tokens.tokens.get(refreshToken);
        if (rec?.userId && sb.sellers.get(rec.userId)?.deleted) throw OAUTH.invalidGrantRefresh();
        body = sb.tokens.refresh(
          app.clientId,
          refreshToken,
          scopes && scopes.length > 0 ? scopes : null,
        );
        break;
      }
      case "client_credentials": {
        if (!scopes || scopes.length === 0) throw OAUTH.invalidRequest();
        if (scopes.some((s) => !APPLICATION_SCOPES.includes(s))) throw OAUTH.invalidScope();
        body = sb.tokens.clientCredentials(app.clientId, scopes);
        break;
      }
      default:
        throw OAUTH.unsupportedGrant();
    }
    sb.logRequest({
      ...log,
      operation,
      status: 200,
      clientId,
      userId: null,
      tokenKind: null,
      errorIds: [],
      outcome: "ok",
    });
    return { status: 200, body, headers: { "Cache-Control": "no-store", Pragma: "no-cache" } };
  } catch (error) {
    if (error instanceof OAuthError) {
      sb.logRequest({
        ...log,
        operation,
        status: error.status,
        clientId,
        userId: null,
        tokenKind: null,
        errorIds: [],
        outcome: "error",
      });
      return oauthErrorResult(error);
    }
    if (error instanceof ApiError) {
      sb.logRequest({
        ...log,
        operation,
        status: error.status,
        clientId,
        userId: null,
        tokenKind: null,
        errorIds: error.errors.map((e) => e.errorId),
        outcome: "fault",
      });
      return { status: error.status, body: { errors: error.errors }, headers: error.headers };
    }
    throw error;
  }
}

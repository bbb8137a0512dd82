/**
 * What every REST route shares: route matching, `Authorization` parsing (`Bearer` for the REST
 * APIs, `IAF` for Post-Order), token and scope checks with eBay's 1001 / 1002 / 1100 answers,
 * daily call limits, injected faults, and the request log.
 */
import type { IncomingMessage } from "node:http";
import { ACCESS, ApiError, type OAuthError } from "./errors";
import { header, parseJson, readBody, type EbayResult } from "./http";
import type { SellerRec, TokenRec } from "./model";
import type { EbaySandbox } from "./sandbox";

export type AuthRequirement =
  /** a user access token of a seller */
  | "user"
  /** a client-credentials token */
  | "application"
  /** either */
  | "any";

export type ApiRequest = {
  sb: EbaySandbox;
  method: string;
  params: string[];
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  token: TokenRec;
  /** The seller of a user token (null for application tokens). */
  seller: SellerRec | null;
  baseUrl: string;
  /** The raw body (read once). */
  text: () => Promise<string>;
  /** The body parsed as JSON; ApiError 400 when it is not JSON. */
  json: () => Promise<unknown>;
};

export type Route = {
  method: string;
  pattern: RegExp;
  operation: string;
  auth: AuthRequirement;
  /** The token needs one of these scopes (empty: any token of the right kind). */
  scopes: readonly string[];
  handler: (req: ApiRequest) => EbayResult | Promise<EbayResult>;
};

export type ApiModule = {
  name: string;
  /** Path prefix, e.g. `/sell/inventory/v1`. */
  prefix: string;
  routes: Route[];
  /** Authorization schemes accepted (default ["Bearer"]). */
  schemes?: (sb: EbaySandbox) => string[];
  /** Builds the error of a malformed JSON body. */
  invalidJson: () => ApiError;
};

/** Runs a request against one API module (path is below the module prefix). */
export async function handleApi(
  sb: EbaySandbox,
  module: ApiModule,
  req: IncomingMessage,
  subPath: string,
  query: URLSearchParams,
  baseUrl: string,
): Promise<EbayResult> {
  const method = req.method ?? "GET";
  const path = subPath.replace(/\/+$/, "");
  let route: Route | undefined;
  let params: string[] = [];
  let pathMatched = false;
  for (const candidate of module.routes) {
    const match = candidate.pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (candidate.method !== method) continue;
    route = candidate;
    params = match.slice(1).map((p) => decodeURIComponent(p ?? ""));
    break;
  }
  const log = {
    method,
    path: `${module.prefix}${subPath}`,
    api: module.name,
    operation: route?.operation ?? "unknown",
  };
  let token: TokenRec | null = null;
  try {
    if (!route) throw pathMatched ? ACCESS.methodNotAllowed() : ACCESS.resourceNotFound();
    token = authenticate(sb, req, route, module.schemes?.(sb) ?? ["Bearer"]);
    const seller = token.userId ? (sb.sellers.get(token.userId) ?? null) : null;
    if (!sb.limiter.take(token.clientId, route.operation, sb.clock.dayKey())) {
      throw ACCESS.tooManyRequests();
    }
    const fault = sb.faults.next(route.operation);
    if (fault) {
      const error =
        fault.kind === "http429"
          ? ACCESS.tooManyRequests(fault.retryAfterSeconds ?? undefined)
          : ACCESS.internal(fault.kind === "http503" ? 503 : 500);
      sb.logRequest({
        ...log,
        ...who(token),
        status: error.status,
        errorIds: ids(error),
        outcome: "fault",
      });
      return errorResult(error);
    }
    let cached: string | undefined;
    const text = async () => (cached ??= await readBody(req));
    const result = await route.handler({
      sb,
      method,
      params,
      query,
      headers: req.headers,
      token,
      seller,
      baseUrl,
      text,
      json: async () => {
        const parsed = parseJson(await text());
        if (!parsed.ok) throw module.invalidJson();
        return parsed.value;
      },
    });
    const errorIds = Array.isArray((result.body as { errors?: unknown } | undefined)?.errors)
      ? (result.body as { errors: { errorId?: number }[] }).errors.map((e) => e.errorId ?? 0)
      : [];
    sb.logRequest({
      ...log,
      ...who(token),
      status: result.status,
      errorIds,
      outcome: result.status < 400 ? "ok" : "error",
    });
    return result;
  } catch (error) {
    if (error instanceof ApiError) {
      sb.logRequest({
        ...log,
        ...who(token),
        status: error.status,
        errorIds: ids(error),
        outcome: token ? "error" : "rejected",
      });
      return errorResult(error);
    }
    throw error;
  }
}

function who(token: TokenRec | null) {
  return {
    clientId: token?.clientId ?? null,
    userId: token?.userId ?? null,
    tokenKind: token?.kind ?? null,
  };
}

function ids(error: ApiError): number[] {
  return error.errors.map((e) => e.errorId);
}

export function errorResult(error: ApiError): EbayResult {
  return { status: error.status, body: { errors: error.errors }, headers: error.headers };
}

export function oauthErrorResult(error: OAuthError): EbayResult {
  return {
    status: error.status,
    body: { error: error.error, error_description: error.description },
  };
}

function authenticate(
  sb: EbaySandbox,
  req: IncomingMessage,
  route: Route,
  schemes: string[],
): TokenRec {
  const authorization = header(req, "authorization")?.trim();
  if (!authorization) throw ACCESS.missingToken();
  const space = authorization.indexOf(" ");
  const scheme = space < 0 ? authorization : authorization.slice(0, space);
  const value = space < 0 ? "" : authorization.slice(space + 1).trim();
  if (!schemes.some((s) => s.toLowerCase() === scheme.toLowerCase()) || value === "") {
    throw ACCESS.invalidToken();
  }
  const token = sb.tokens.authenticate(value);
  if (!token) throw ACCESS.invalidToken();
  if (token.userId !== null && sb.sellers.get(token.userId)?.deleted) throw ACCESS.invalidToken();
  if (route.auth === "user" && token.kind !== "user") throw ACCESS.insufficientScope();
  if (route.auth === "application" && token.kind !== "application")
    throw ACCESS.insufficientScope();
  if (route.scopes.length > 0 && !route.scopes.some((s) => token.scopes.includes(s))) {
    throw ACCESS.insufficientScope();
  }
  return token;
}

/** Reads a string query parameter. */
export function q(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  return value === null ? undefined : value;
}

/** Parses a non-negative integer query parameter; undefined when absent. */
export function intParam(
  query: URLSearchParams,
  name: string,
  onError: (value: string) => ApiError,
): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  if (!/^\d{1,9}$/.test(raw)) throw onError(raw);
  return Number(raw);
}

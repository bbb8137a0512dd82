/**
 * The Selling Partner API front door: routes each path to its operation, checks the
 * `x-amz-access-token` (403 `Unauthorized` otherwise), applies forced faults and the usage-plan
 * token bucket (429 `QuotaExceeded`), runs the handler, and stamps `x-amzn-RequestId` and
 * `x-amzn-RateLimit-Limit` on the answer. Every call lands in the request log.
 */
import type { IncomingMessage } from "node:http";
import { sleep } from "../shopify/http-util";
import * as feeds from "./feeds";
import { json, spErrors, type Reply } from "./http";
import * as listings from "./listings";
import * as notifications from "./notifications";
import * as orders from "./orders";
import { rateLimitHeader, type OperationName } from "./rate-limits";
import type { AmazonSandbox } from "./sandbox";
import type { SpContext } from "./sp-util";

type Handler = (ctx: SpContext) => Reply | Promise<Reply>;
type Route = {
  method: string;
  pattern: RegExp;
  operation: OperationName;
  auth: "seller" | "grantless";
  handler: Handler;
};

const LISTING = /^\/listings\/2021-08-01\/items\/([^/]+)\/([^/]+)$/;
const SUBSCRIPTION = /^\/notifications\/v1\/subscriptions\/([^/]+)$/;
const SUBSCRIPTION_ID = /^\/notifications\/v1\/subscriptions\/([^/]+)\/([^/]+)$/;
const DESTINATION = /^\/notifications\/v1\/destinations\/([^/]+)$/;

const ROUTES: Route[] = [
  {
    method: "GET",
    pattern: LISTING,
    operation: "getListingsItem",
    auth: "seller",
    handler: listings.getListingsItem,
  },
  {
    method: "PATCH",
    pattern: LISTING,
    operation: "patchListingsItem",
    auth: "seller",
    handler: listings.patchListingsItem,
  },
  {
    method: "PUT",
    pattern: LISTING,
    operation: "putListingsItem",
    auth: "seller",
    handler: listings.putListingsItem,
  },
  {
    method: "DELETE",
    pattern: LISTING,
    operation: "deleteListingsItem",
    auth: "seller",
    handler: listings.deleteListingsItem,
  },
  {
    method: "GET",
    pattern: /^\/listings\/2021-08-01\/items\/([^/]+)$/,
    operation: "searchListingsItems",
    auth: "seller",
    handler: listings.searchListingsItems,
  },
  {
    method: "GET",
    pattern: /^\/orders\/v0\/orders$/,
    operation: "getOrders",
    auth: "seller",
    handler: orders.getOrders,
  },
  {
    method: "GET",
    pattern: /^\/orders\/v0\/orders\/([^/]+)$/,
    operation: "getOrder",
    auth: "seller",
    handler: orders.getOrder,
  },
  {
    method: "GET",
    pattern: /^\/orders\/v0\/orders\/([^/]+)\/orderItems$/,
    operation: "getOrderItems",
    auth: "seller",
    handler: orders.getOrderItems,
  },
  {
    method: "GET",
    pattern: /^\/feeds\/2021-06-30\/feeds$/,
    operation: "getFeeds",
    auth: "seller",
    handler: feeds.getFeeds,
  },
  {
    method: "POST",
    pattern: /^\/feeds\/2021-06-30\/feeds$/,
    operation: "createFeed",
    auth: "seller",
    handler: feeds.createFeed,
  },
  {
    method: "GET",
    pattern: /^\/feeds\/2021-06-30\/feeds\/([^/]+)$/,
    operation: "getFeed",
    auth: "seller",
    handler: feeds.getFeed,
  },
  {
    method: "DELETE",
    pattern: /^\/feeds\/2021-06-30\/feeds\/([^/]+)$/,
    operation: "cancelFeed",
    auth: "seller",
    handler: feeds.cancelFeed,
  },
  {
    method: "POST",
    pattern: /^\/feeds\/2021-06-30\/documents$/,
    operation: "createFeedDocument",
    auth: "seller",
    handler: feeds.createFeedDocument,
  },
  {
    method: "GET",
    pattern: /^\/feeds\/2021-06-30\/documents\/([^/]+)$/,
    operation: "getFeedDocument",
    auth: "seller",
    handler: feeds.getFeedDocument,
  },
  {
    method: "GET",
    pattern: /^\/notifications\/v1\/subscriptions$/,
    operation: "getSubscriptions",
    auth: "seller",
    handler: notifications.getSubscriptions,
  },
  {
    method: "GET",
    pattern: SUBSCRIPTION,
    operation: "getSubscription",
    auth: "seller",
    handler: notifications.getSubscription,
  },
  {
    method: "POST",
    pattern: SUBSCRIPTION,
    operation: "createSubscription",
    auth: "seller",
    handler: notifications.createSubscription,
  },
  {
    method: "GET",
    pattern: SUBSCRIPTION_ID,
    operation: "getSubscriptionById",
    auth: "grantless",
    handler: notifications.getSubscriptionById,
  },
  {
    method: "DELETE",
    pattern: SUBSCRIPTION_ID,
    operation: "deleteSubscriptionById",
    auth: "grantless",
    handler: notifications.deleteSubscriptionById,
  },
  {
    method: "GET",
    pattern: /^\/notifications\/v1\/destinations$/,
    operation: "getDestinations",
    auth: "grantless",
    handler: notifications.getDestinations,
  },
  {
    method: "POST",
    pattern: /^\/notifications\/v1\/destinations$/,
    operation: "createDestination",
    auth: "grantless",
    handler: notifications.createDestination,
  },
  {
    method: "GET",
    pattern: DESTINATION,
    operation: "getDestination",
    auth: "grantless",
    handler: notifications.getDestination,
  },
  {
    method: "DELETE",
    pattern: DESTINATION,
    operation: "deleteDestination",
    auth: "grantless",
    handler: notifications.deleteDestination,
  },
];

export const SP_API_PREFIXES = ["/listings/", "/orders/", "/feeds/", "/notifications/"];

export function isSpApiPath(path: string): boolean {
  return SP_API_PREFIXES.some((prefix) => path.startsWith(prefix));
}

const DENIED = "Access to requested resource is denied.";

/** The answers of the forced faults and of the bucket. */
export function faultBody(status: number): unknown {
  switch (status) {
    case 429:
      return spErrors("QuotaExceeded", "You exceeded your quota for the requested resource.");
    case 503:
      return spErrors("ServiceUnavailable", "Service temporarily unavailable. Please try again.");
    default:
      return spErrors("InternalFailure", "We encountered an internal error. Please try again.");
  }
}

export async function handleSpApi(
  sb: AmazonSandbox,
  req: IncomingMessage,
  path: string,
  query: URLSearchParams,
  body: Buffer,
  baseUrl: string,
): Promise<Reply> {
  const method = req.method ?? "GET";
  const requestId = sb.random.uuid();
  let route: Route | undefined;
  let params: string[] = [];
  for (const candidate of ROUTES) {
    if (candidate.method !== method) continue;
    const match = candidate.pattern.exec(path);
    if (!match) continue;
    route = candidate;
    params = match.slice(1).map((p) => safeDecode(p ?? ""));
    break;
  }
  const finish = (
    reply: Reply,
    outcome: "ok" | "throttled" | "fault" | "denied" | "error",
    sellerId: string | null,
    rateLimit: string | null,
  ): Reply => {
    const headers: Record<string, string> = { "x-amzn-RequestId": requestId, ...reply.headers };
    if (rateLimit !== null) headers["x-amzn-RateLimit-Limit"] = rateLimit;
    sb.logRequest({
      api: "sp-api",
      operation: route?.operation ?? "unknown",
      method,
      path,
      status: reply.status,
      sellerId,
      requestId,
      outcome: outcome === "ok" && reply.status >= 400 ? "error" : outcome,
      rateLimit,
    });
    return { ...reply, headers };
  };

  if (!route) {
    return finish(json(404, spErrors("NotFound", "Resource not found")), "error", null, null);
  }

  // Authentication: the LWA access token.
  const raw = req.headers["x-amz-access-token"];
  const tokenValue = Array.isArray(raw) ? raw[0] : raw;
  if (!tokenValue) return finish(json(403, spErrors("Unauthorized", DENIED)), "denied", null, null);
  const token = sb.accessTokens.get(tokenValue);
  if (!token || token.revoked || token.clientId !== sb.app.clientId) {
    return finish(
      json(
        403,
        spErrors(
          "Unauthorized",
          DENIED,
          "The access token you provided is revoked, malformed or invalid.",
        ),
      ),
      "denied",
      null,
      null,
    );
  }
  if (token.expiresAt.getTime() <= Date.now()) {
    return finish(
      json(403, spErrors("Unauthorized", DENIED, "The access token you provided has expired.")),
      "denied",
      token.sellerId,
      null,
    );
  }
  const needsGrantless = route.auth === "grantless";
  if (
    (needsGrantless &&
      (token.kind !== "grantless" || token.scope !== "sellingpartnerapi::notifications")) ||
    (!needsGrantless && token.kind !== "seller")
  ) {
    return finish(json(403, spErrors("Unauthorized", DENIED)), "denied", token.sellerId, null);
  }
  const sellerId = token.kind === "seller" ? token.sellerId : null;

  const latency = sb.faults.latencyMs();
  if (latency > 0) await sleep(latency);

  const fault = sb.faults.next(route.operation, sellerId);
  if (fault) {
    return finish(json(fault.status, faultBody(fault.status)), "fault", sellerId, null);
  }

  const sellerKey = sellerId ?? `grantless:${token.clientId}`;
  const taken = sb.limiter.take(route.operation, sellerKey);
  if (!taken.ok) return finish(json(429, faultBody(429)), "throttled", sellerId, null);
  const rateLimit = rateLimitHeader(taken.plan.rate);

  const ctx: SpContext = {
    sb,
    operation: route.operation,
    method,
    params,
    query,
    body,
    contentType: req.headers["content-type"],
    token,
    sellerId,
    baseUrl,
  };
  try {
    const reply = await route.handler(ctx);
    const noRateHeader = reply.status === 403 || reply.status === 429 || reply.status >= 500;
    return finish(reply, "ok", sellerId, noRateHeader ? null : rateLimit);
  } catch (error) {
    console.error("local amazon: SP-API handler failed", error);
    return finish(json(500, faultBody(500)), "error", sellerId, null);
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

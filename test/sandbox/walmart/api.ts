/**
 * The /v3 routes: token, items, inventory (single node and per ship node), inventory feeds and
 * feed status, orders, and the Notifications API (webhook subscriptions). Every call but the
 * token call needs WM_SEC.ACCESS_TOKEN, WM_QOS.CORRELATION_ID and WM_SVC.NAME; every answer to an
 * identified seller carries the operation's `x-current-token-count` / `x-next-replenish-time`.
 */
import type { IncomingHttpHeaders } from "node:http";
import {
  ControlError,
  WalmartApiError,
  badClientCredentials,
  badContent,
  badParam,
  contentNotFound,
  malformedContent,
  methodNotAllowed,
  missingHeader,
  missingParam,
  payloadTooLarge,
  systemError,
  throttled,
  unauthorized,
  unsupportedMediaType,
  uriNotFound,
} from "./errors";
import { EVENT_TYPES } from "./events";
import { parseInventoryFeed, parseInventoryXml, parseMultipart } from "./feeds";
import type { HttpResult } from "./http";
import {
  feedStatusPayload,
  feedSummaryPayload,
  itemPayload,
  nodeInventoryPayload,
  orderPayload,
  qty,
} from "./payloads";
import type { Sandbox } from "./sandbox";
import {
  availToSell,
  type OrderRec,
  type SellerState,
  type SubscriptionInput,
  type SubscriptionRec,
} from "./state";
import type { Operation } from "./throttle";

export type ApiRequest = {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: () => Promise<Buffer>;
};

type Ctx = {
  sb: Sandbox;
  seller: SellerState;
  req: ApiRequest;
  params: string[];
  correlationId: string;
};

type Handler = (ctx: Ctx) => unknown;

const DAY = 86_400_000;

const routes: [string, RegExp, Operation, Handler | null][] = [
  ["POST", /^\/v3\/token$/, "token", null],
  ["GET", /^\/v3\/items$/, "items.list", listItems],
  ["GET", /^\/v3\/items\/([^/]+)$/, "items.get", getItem],
  ["GET", /^\/v3\/inventory$/, "inventory.get", getInventory],
  ["PUT", /^\/v3\/inventory$/, "inventory.update", putInventory],
  ["GET", /^\/v3\/inventories$/, "inventories.list", listInventories],
  ["GET", /^\/v3\/inventories\/([^/]+)$/, "inventories.get", getNodeInventory],
  ["PUT", /^\/v3\/inventories\/([^/]+)$/, "inventories.update", putNodeInventory],
  ["POST", /^\/v3\/feeds$/, "feeds.submit", submitFeed],
  ["GET", /^\/v3\/feeds$/, "feeds.list", listFeeds],
  ["GET", /^\/v3\/feeds\/([^/]+)$/, "feeds.status", feedStatus],
  ["GET", /^\/v3\/orders$/, "orders.list", listOrders],
  ["GET", /^\/v3\/orders\/([^/]+)$/, "orders.get", getOrder],
  ["POST", /^\/v3\/webhooks\/subscriptions$/, "webhooks.create", createSubscriptions],
  ["GET", /^\/v3\/webhooks\/subscriptions$/, "webhooks.list", listSubscriptions],
  ["PATCH", /^\/v3\/webhooks\/subscriptions\/([^/]+)$/, "webhooks.update", updateSubscription],
  ["DELETE", /^\/v3\/webhooks\/subscriptions\/([^/]+)$/, "webhooks.delete", deleteSubscription],
  ["POST", /^\/v3\/webhooks\/test$/, "webhooks.test", testNotification],
  [
    "GET",
    /^\/v3\/webhooks\/eventTypes$/,
    "webhooks.eventTypes",
    () => ({ events: EVENT_TYPES.map((e) => ({ ...e })) }),
  ],
];

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first.trim() === "" ? undefined : first.trim();
}

/** Dispatches one /v3 request; never throws. */
export async function handleApi(sb: Sandbox, req: ApiRequest): Promise<HttpResult> {
  let operation: Operation | null = null;
  let seller: SellerState | null = null;
  let throttleHeaders: Record<string, string> = {};
  let outcome: "ok" | "error" | "throttled" | "fault" | "unauthorized" = "ok";
  const correlationId = header(req.headers, "WM_QOS.CORRELATION_ID") ?? null;
  let result: HttpResult;
  try {
    let handler: Handler | null = null;
    let params: string[] = [];
    let pathMatched = false;
    for (const [method, pattern, op, h] of routes) {
      const match = pattern.exec(req.path);
      if (!match) continue;
      pathMatched = true;
      if (method !== req.method) continue;
      operation = op;
      handler = h;
      params = match.slice(1).map((p) => decodeURIComponent(p ?? ""));
      break;
    }
    if (!operation) throw pathMatched ? methodNotAllowed(req.method) : uriNotFound(req.path);
    if (!correlationId) throw missingHeader("WM_QOS.CORRELATION_ID");
    if (!header(req.headers, "WM_SVC.NAME")) throw missingHeader("WM_SVC.NAME");

    if (operation === "token") {
      const body = await handleToken(sb, req, (found) => {
        seller = found;
        const take = found.bucket("token").take(sb.now());
        throttleHeaders = tokenHeaders(take.tokens, take.nextReplenishAt);
        if (!take.ok) {
          outcome = "throttled";
          throw throttled(Math.max(1, Math.ceil(take.retryAfterMs / 1000)), throttleHeaders);
        }
      });
      result = { status: 200, body, headers: throttleHeaders };
    } else {
      const token = header(req.headers, "WM_SEC.ACCESS_TOKEN");
      seller = token ? sb.sellerForToken(token) : null;
      if (!seller) {
        outcome = "unauthorized";
        throw unauthorized();
      }
      const now = sb.now();
      const fault = sb.faults.next(operation, seller.partnerId, now);
      const bucket = seller.bucket(operation);
      if (fault) {
        outcome = "fault";
        const status = bucket.status(now);
        throttleHeaders = tokenHeaders(status.tokens, status.nextReplenishAt);
        if (fault.kind === "http429")
          throw throttled(fault.retryAfterSeconds ?? 1, throttleHeaders);
        const error = systemError(fault.kind === "http503" ? 503 : 500);
        throw new WalmartApiError(error.status, error.entries, {
          ...throttleHeaders,
          ...(fault.retryAfterSeconds === null
            ? {}
            : { "Retry-After": String(fault.retryAfterSeconds) }),
        });
      }
      const take = bucket.take(now);
      throttleHeaders = tokenHeaders(take.tokens, take.nextReplenishAt);
      if (!take.ok) {
        outcome = "throttled";
        throw throttled(Math.max(1, Math.ceil(take.retryAfterMs / 1000)), throttleHeaders);
      }
      const body = await (handler as Handler)({ sb, seller, req, params, correlationId });
      result = { status: 200, body, headers: throttleHeaders };
    }
  } catch (error) {
    if (outcome === "ok") outcome = "error";
    if (error instanceof WalmartApiError) {
      result = {
        status: error.status,
        body: error.body(sb.options.errorEnvelope),
        headers: { ...throttleHeaders, ...error.headers },
      };
    } else if (error instanceof ControlError) {
      // A sandbox check that has no Walmart counterpart: answer it as INVALID_REQUEST_CONTENT.
      const e = badContent("GMP_GATEWAY_API", String(error.extra.field ?? "body"), error.message);
      result = { status: 400, body: e.body(sb.options.errorEnvelope), headers: throttleHeaders };
    } else {
      console.error("local walmart: unhandled error", error);
      const e = systemError(500);
      result = { status: 500, body: e.body(sb.options.errorEnvelope), headers: throttleHeaders };
    }
  }
  const errorBody =
    result.status >= 400 ? (result.body as Record<string, { code?: string }[]>) : null;
  sb.logRequest({
    method: req.method,
    path: req.path,
    operation,
    partnerId: seller?.partnerId ?? null,
    correlationId,
    status: result.status,
    outcome,
    errorCode: errorBody ? (Object.values(errorBody)[0]?.[0]?.code ?? null) : null,
    tokenCount:
      throttleHeaders["x-current-token-count"] === undefined
        ? null
        : Number(throttleHeaders["x-current-token-count"]),
  });
  return result;
}

function tokenHeaders(tokens: number, nextReplenishAt: number): Record<string, string> {
  return {
    "x-current-token-count": String(tokens),
    "x-next-replenish-time": String(nextReplenishAt),
  };
}

// --- token -------------------------------------------------------------------------------------

/** `admit` runs once the seller is known (its token bucket); it throws to refuse. */
async function handleToken(sb: Sandbox, req: ApiRequest, admit: (seller: SellerState) => void) {
  const authorization = header(req.headers, "Authorization");
  if (!authorization) throw badClientCredentials("Authorization set blank or null");
  const match = /^Basic\s+(\S+)$/i.exec(authorization);
  const decoded = match?.[1] ? Buffer.from(match[1], "base64").toString("utf8") : "";
  const colon = decoded.indexOf(":");
  if (colon <= 0) throw badClientCredentials("Incorrect Authorization header");
  const fault = sb.faults.next("token", null, sb.now());
  if (fault) {
    if (fault.kind === "http429") throw throttled(fault.retryAfterSeconds ?? 1, {});
    throw systemError(fault.kind === "http503" ? 503 : 500);
  }
  const form = new URLSearchParams((await req.body()).toString("utf8"));
  const grantType = form.get("grant_type");
  if (!grantType) throw missingParam("GMP_GATEWAY_API", "grant_type");
  if (grantType !== "client_credentials") {
    throw badParam(
      "GMP_GATEWAY_API",
      "grant_type",
      `grant_type ${grantType} is not supported by the local sandbox`,
    );
  }
  const seller = sb.sellerForCredentials(decoded.slice(0, colon), decoded.slice(colon + 1));
  if (!seller) throw badClientCredentials("Incorrect Authorization header");
  admit(seller);
  const issued = sb.issueToken(seller.partnerId);
  return { access_token: issued.token, token_type: "Bearer", expires_in: issued.expiresIn };
}

// --- helpers -----------------------------------------------------------------------------------

function intParam(
  query: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
  service: string,
) {
  const raw = query.get(name);
  if (raw === null || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) throw badParam(service, name, `${name} must be an integer`);
  const value = Number(raw);
  if (value < min || value > max)
    throw badParam(service, name, `${name} must be between ${min} and ${max}`);
  return value;
}

function encodeCursor(value: object): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64");
}

function decodeCursor(raw: string, service: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(raw, "base64").toString("utf8")) as unknown;
    if (typeof value === "object" && value !== null) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw badParam(service, "nextCursor", "nextCursor is invalid");
}

async function jsonBody(ctx: Ctx, service: string): Promise<unknown> {
  const text = (await ctx.req.body()).toString("utf8");
  if (text.trim() === "") throw malformedContent(service, "The request body is empty");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformedContent(service, "The request body is not valid JSON");
  }
}

function contentType(req: ApiRequest): string {
  return (header(req.headers, "Content-Type") ?? "").toLowerCase();
}

// --- items -------------------------------------------------------------------------------------

function listItems(ctx: Ctx) {
  const { query } = ctx.req;
  const service = "GMP_ITEM_QUERY_API";
  const limit = intParam(query, "limit", 20, 1, 200, service);
  const filters = {
    sku: query.get("sku") ?? undefined,
    lifecycleStatus: query.get("lifecycleStatus") ?? undefined,
    publishedStatus: query.get("publishedStatus") ?? undefined,
  };
  const items = [...ctx.seller.items.values()]
    .filter((i) => !filters.sku || i.sku === filters.sku)
    .filter((i) => !filters.lifecycleStatus || i.lifecycleStatus === filters.lifecycleStatus)
    .filter((i) => !filters.publishedStatus || i.publishedStatus === filters.publishedStatus);
  const cursor = query.get("nextCursor");
  let offset = intParam(query, "offset", 0, 0, Number.MAX_SAFE_INTEGER, service);
  if (cursor && cursor !== "*") offset = Number(decodeCursor(cursor, service).offset ?? 0);
  const page = items.slice(offset, offset + limit);
  const next =
    offset + limit < items.length
      ? encodeCursor({ offset: offset + limit, partnerId: ctx.seller.partnerId })
      : null;
  return {
    ItemResponse: page.map(itemPayload),
    totalItems: items.length,
    ...(next ? { nextCursor: next } : {}),
  };
}

function getItem(ctx: Ctx) {
  const [id = ""] = ctx.params;
  const type = (ctx.req.query.get("productIdType") ?? "SKU").toUpperCase();
  const items = [...ctx.seller.items.values()];
  const item = items.find((i) => {
    switch (type) {
      case "SKU":
        return i.sku === id;
      case "GTIN":
        return i.gtin === id;
      case "UPC":
        return i.upc === id;
      case "ITEM_ID":
        return i.itemId === id;
      default:
        return false;
    }
  });
  if (!item) throw contentNotFound("GMP_ITEM_QUERY_API", `Item not found for ${type} ${id}`);
  return { ItemResponse: [itemPayload(item)], totalItems: 1 };
}

// --- inventory ---------------------------------------------------------------------------------

function shipNodeParam(ctx: Ctx, service: string): string {
  const node = ctx.req.query.get("shipNode");
  if (node === null || node === "") return ctx.seller.defaultShipNode;
  if (!ctx.seller.hasShipNode(node))
    throw badParam(service, "shipNode", `shipNode ${node} is invalid for this seller`);
  return node;
}

function getInventory(ctx: Ctx) {
  const service = "GMP_INVENTORY_API";
  const sku = ctx.req.query.get("sku");
  if (!sku) throw missingParam(service, "sku");
  const node = shipNodeParam(ctx, service);
  const item = ctx.seller.items.get(sku);
  if (!item) throw contentNotFound(service, `Item not found for SKU ${sku}`);
  const stock = item.stock.get(node) ?? { inputQty: 0, reservedQty: 0, reserves: true };
  return { sku: item.sku, quantity: qty(availToSell(stock)) };
}

function validateQuantity(value: unknown, field: string, service: string): number {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badContent(service, field, `${field} is required`);
  }
  const q = value as Record<string, unknown>;
  if (q.unit !== "EACH") throw badContent(service, `${field}.unit`, `${field}.unit must be EACH`);
  const amount = q.amount;
  if (typeof amount !== "number" || !Number.isInteger(amount) || amount < 0) {
    throw badContent(service, `${field}.amount`, `${field}.amount must be an integer >= 0`);
  }
  return amount;
}

async function putInventory(ctx: Ctx) {
  const service = "GMP_INVENTORY_API";
  const sku = ctx.req.query.get("sku");
  if (!sku) throw missingParam(service, "sku");
  const node = shipNodeParam(ctx, service);
  const type = contentType(ctx.req);
  let body: unknown;
  if (type.includes("xml")) {
    body = parseInventoryXml((await ctx.req.body()).toString("utf8"));
    if (body === null)
      throw malformedContent(service, "The request body is not an inventory XML document");
  } else if (type.includes("json")) {
    body = await jsonBody(ctx, service);
  } else {
    throw unsupportedMediaType(type);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badContent(service, "inventory", "The body must be an inventory object");
  }
  const b = body as Record<string, unknown>;
  if (typeof b.sku !== "string" || b.sku === "")
    throw badContent(service, "sku", "sku is required");
  if (b.sku !== sku)
    throw badContent(
      service,
      "sku",
      `sku ${b.sku} in the body does not match the sku parameter ${sku}`,
    );
  const amount = validateQuantity(b.quantity, "quantity", service);
  if (!ctx.seller.items.has(sku)) throw contentNotFound(service, `Item not found for SKU ${sku}`);
  ctx.sb.setInventory(ctx.seller.partnerId, {
    sku,
    shipNode: node,
    quantity: amount,
    source: "PUT /v3/inventory",
    correlationId: ctx.correlationId,
  });
  return { sku, quantity: qty(amount) };
}

function getNodeInventory(ctx: Ctx) {
  const service = "GMP_INVENTORY_API";
  const [sku = ""] = ctx.params;
  const item = ctx.seller.items.get(sku);
  if (!item) throw contentNotFound(service, `Item not found for SKU ${sku}`);
  const only = ctx.req.query.get("shipNode");
  if (only && !ctx.seller.hasShipNode(only))
    throw badParam(service, "shipNode", `shipNode ${only} is invalid for this seller`);
  const nodes = ctx.seller.shipNodes.map((n) => n.shipNode).filter((n) => !only || n === only);
  return { sku: item.sku, nodes: nodes.map((n) => nodeInventoryPayload(item, n)) };
}

async function putNodeInventory(ctx: Ctx) {
  const service = "GMP_INVENTORY_API";
  const [sku = ""] = ctx.params;
  if (!contentType(ctx.req).includes("json")) throw unsupportedMediaType(contentType(ctx.req));
  const body = await jsonBody(ctx, service);
  const nodes = (body as { inventories?: { nodes?: unknown } } | null)?.inventories?.nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw badContent(service, "inventories.nodes", "inventories.nodes must be a non-empty array");
  }
  const parsed = nodes.map((n: unknown, i: number) => {
    const node = (typeof n === "object" && n !== null ? n : {}) as Record<string, unknown>;
    if (typeof node.shipNode !== "string" || node.shipNode === "") {
      throw badContent(service, `inventories.nodes[${i}].shipNode`, "shipNode is required");
    }
    return {
      shipNode: node.shipNode,
      amount: validateQuantity(node.inputQty, `inventories.nodes[${i}].inputQty`, service),
    };
  });
  if (!ctx.seller.items.has(sku)) throw contentNotFound(service, `Item not found for SKU ${sku}`);
  return {
    sku,
    nodes: parsed.map(({ shipNode, amount }) => {
      if (!ctx.seller.hasShipNode(shipNode)) {
        return {
          shipNode,
          status: "Failure",
          errors: badParam(service, "shipNode", `shipNode ${shipNode} is invalid for this seller`)
            .entries,
        };
      }
      ctx.sb.setInventory(ctx.seller.partnerId, {
        sku,
        shipNode,
        quantity: amount,
        source: "PUT /v3/inventories",
        correlationId: ctx.correlationId,
      });
      return { shipNode, status: "Success" };
    }),
  };
}

function listInventories(ctx: Ctx) {
  const service = "GMP_INVENTORY_API";
  const limit = intParam(ctx.req.query, "limit", 10, 1, 50, service);
  const cursor = ctx.req.query.get("nextCursor");
  const offset = cursor ? Number(decodeCursor(cursor, service).offset ?? 0) : 0;
  const items = [...ctx.seller.items.values()];
  const page = items.slice(offset, offset + limit);
  const next = offset + limit < items.length ? encodeCursor({ offset: offset + limit }) : null;
  return {
    meta: { totalCount: items.length, ...(next ? { nextCursor: next } : {}) },
    elements: {
      inventories: page.map((item) => ({
        sku: item.sku,
        nodes: ctx.seller.shipNodes.map((n) => nodeInventoryPayload(item, n.shipNode)),
      })),
    },
  };
}

// --- feeds -------------------------------------------------------------------------------------

async function submitFeed(ctx: Ctx) {
  const service = "GMP_FEED_API";
  const feedType = ctx.req.query.get("feedType");
  if (!feedType) throw missingParam(service, "feedType");
  if (feedType !== "inventory" && feedType !== "MP_INVENTORY") {
    throw badParam(
      service,
      "feedType",
      `feedType ${feedType} is not supported by the local sandbox (inventory, MP_INVENTORY)`,
    );
  }
  const shipNode = ctx.req.query.get("shipNode") || null;
  const type = contentType(ctx.req);
  const raw = await ctx.req.body();
  if (raw.length > ctx.sb.options.feedMaxBytes + 64 * 1024)
    throw payloadTooLarge(ctx.sb.options.feedMaxBytes);
  let file: Buffer;
  let fileName: string | null = null;
  if (type.startsWith("multipart/form-data")) {
    const parts = parseMultipart(raw, header(ctx.req.headers, "Content-Type") ?? "");
    if (parts === null) throw malformedContent(service, "multipart/form-data without a boundary");
    const part = parts.find((p) => p.name === "file");
    if (!part) throw missingParam(service, "file");
    file = part.data;
    fileName = part.filename || null;
  } else if (ctx.sb.options.feedAcceptRawBody && (type.includes("json") || type.includes("xml"))) {
    file = raw;
  } else {
    throw unsupportedMediaType(type);
  }
  if (file.length > ctx.sb.options.feedMaxBytes) throw payloadTooLarge(ctx.sb.options.feedMaxBytes);
  const parsed = parseInventoryFeed(file, shipNode, ctx.seller.defaultShipNode);
  const feed = ctx.sb.submitFeed(ctx.seller.partnerId, {
    feedType,
    fileName,
    format: parsed.format,
    specVersion: parsed.specVersion,
    items: parsed.items,
    fileError: parsed.fileError,
    correlationId: ctx.correlationId,
  });
  return { feedId: feed.feedId };
}

function listFeeds(ctx: Ctx) {
  const service = "GMP_FEED_API";
  const offset = intParam(ctx.req.query, "offset", 0, 0, Number.MAX_SAFE_INTEGER, service);
  const limit = intParam(ctx.req.query, "limit", 50, 1, 50, service);
  const feedId = ctx.req.query.get("feedId");
  const feeds = [...ctx.seller.feeds.values()]
    .filter((f) => !feedId || f.feedId === feedId)
    .sort((a, b) => b.submittedAt - a.submittedAt);
  return {
    totalResults: feeds.length,
    offset,
    limit,
    results: { feed: feeds.slice(offset, offset + limit).map(feedSummaryPayload) },
  };
}

function feedStatus(ctx: Ctx) {
  const service = "GMP_FEED_API";
  const [feedId = ""] = ctx.params;
  const feed = ctx.seller.feeds.get(feedId);
  if (!feed) throw contentNotFound(service, `Feed not found for feedId ${feedId}`);
  return feedStatusPayload(ctx.seller, feed, {
    includeDetails: ctx.req.query.get("includeDetails") === "true",
    offset: intParam(ctx.req.query, "offset", 0, 0, Number.MAX_SAFE_INTEGER, service),
    limit: intParam(ctx.req.query, "limit", 50, 1, 1000, service),
  });
}

// --- orders ------------------------------------------------------------------------------------

function dateParam(query: URLSearchParams, name: string): number | null {
  const raw = query.get(name);
  if (raw === null || raw === "") return null;
  const ms = /^\d{10,}$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) {
    throw badParam(
      "GMP_ORDER_API",
      name,
      `${name} must be a date (yyyy-MM-dd) or an ISO 8601 timestamp`,
    );
  }
  return ms;
}

const ORDER_FILTER_PARAMS = [
  "sku",
  "customerOrderId",
  "purchaseOrderId",
  "status",
  "createdStartDate",
  "createdEndDate",
  "fromExpectedShipDate",
  "toExpectedShipDate",
  "lastModifiedStartDate",
  "lastModifiedEndDate",
  "shipNodeType",
];

function lineHasStatus(order: OrderRec, status: string): boolean {
  return order.lines.some((l) => {
    switch (status) {
      case "Created":
        return l.quantity - l.acknowledged - l.shipped - l.cancelled > 0;
      case "Acknowledged":
        return l.acknowledged > 0;
      case "Shipped":
        return l.shipped > 0;
      case "Cancelled":
        return l.cancelled > 0;
      default:
        return false;
    }
  });
}

function listOrders(ctx: Ctx) {
  const service = "GMP_ORDER_API";
  let query = ctx.req.query;
  const cursorParam = query.get("nextCursor");
  if (cursorParam) query = new URLSearchParams(cursorParam.replace(/^\?/, ""));
  const limit = intParam(query, "limit", 100, 1, 200, service);
  const offset =
    query.get("hasMoreElements") === "true"
      ? intParam(query, "poIndex", 0, 0, Number.MAX_SAFE_INTEGER, service)
      : 0;
  const status = query.get("status");
  if (
    status &&
    !["Created", "Acknowledged", "Shipped", "Delivered", "Cancelled"].includes(status)
  ) {
    throw badParam(
      service,
      "status",
      "status must be one of Created, Acknowledged, Shipped, Delivered, Cancelled",
    );
  }
  const shipNodeType = query.get("shipNodeType");
  let createdStart = dateParam(query, "createdStartDate");
  const createdEnd = dateParam(query, "createdEndDate");
  const modifiedStart = dateParam(query, "lastModifiedStartDate");
  const modifiedEnd = dateParam(query, "lastModifiedEndDate");
  const shipFrom = dateParam(query, "fromExpectedShipDate");
  const shipTo = dateParam(query, "toExpectedShipDate");
  const sku = query.get("sku");
  const customerOrderId = query.get("customerOrderId");
  const purchaseOrderId = query.get("purchaseOrderId");
  if (createdStart === null && modifiedStart === null && !customerOrderId && !purchaseOrderId) {
    createdStart = ctx.sb.now() - 7 * DAY; // "Default is current date - 7 days"
  }
  const orders = [...ctx.seller.orders.values()]
    .filter((o) => createdStart === null || o.orderDate >= createdStart)
    .filter((o) => createdEnd === null || o.orderDate <= createdEnd)
    .filter((o) => modifiedStart === null || o.lastModified >= modifiedStart)
    .filter((o) => modifiedEnd === null || o.lastModified <= modifiedEnd)
    .filter((o) => shipFrom === null || o.estimatedShipDate >= shipFrom)
    .filter((o) => shipTo === null || o.estimatedShipDate <= shipTo)
    .filter((o) => !sku || o.lines.some((l) => l.sku === sku))
    .filter((o) => !customerOrderId || o.customerOrderId === customerOrderId)
    .filter((o) => !purchaseOrderId || o.purchaseOrderId === purchaseOrderId)
    .filter((o) => !status || lineHasStatus(o, status))
    .filter(() => !shipNodeType || shipNodeType === "SellerFulfilled")
    .sort((a, b) => b.orderDate - a.orderDate || (a.purchaseOrderId < b.purchaseOrderId ? 1 : -1));
  if (orders.length === 0 && ctx.sb.options.emptyOrdersAs404) {
    throw contentNotFound(
      service,
      "Failed when called getAllOrders. Orders not found for given search parameters",
    );
  }
  const page = orders.slice(offset, offset + limit);
  let nextCursor: string | null = null;
  if (offset + limit < orders.length) {
    const next = new URLSearchParams({
      limit: String(limit),
      hasMoreElements: "true",
      soIndex: String(orders.length),
      poIndex: String(offset + limit),
      partnerId: ctx.seller.partnerId,
      sellerId: ctx.seller.sellerId,
    });
    for (const name of ORDER_FILTER_PARAMS) {
      const value = query.get(name);
      if (value !== null && value !== "") next.set(name, value);
    }
    nextCursor = `?${next.toString()}`;
  }
  return {
    list: {
      meta: { totalCount: orders.length, limit, nextCursor },
      elements: { order: page.map(orderPayload) },
    },
  };
}

function getOrder(ctx: Ctx) {
  const [purchaseOrderId = ""] = ctx.params;
  const order = ctx.seller.orders.get(purchaseOrderId);
  if (!order)
    throw contentNotFound(
      "GMP_ORDER_API",
      `Order not found for purchaseOrderId ${purchaseOrderId}`,
    );
  return { order: orderPayload(order) };
}

// --- webhooks ----------------------------------------------------------------------------------

const NOTIFICATION_SERVICE = "GMP_NOTIFICATION_API";

function subscriptionPayload(rec: SubscriptionRec) {
  return {
    eventType: rec.eventType,
    subscriptionId: rec.subscriptionId,
    partnerId: rec.partnerId,
    eventVersion: rec.eventVersion,
    resourceName: rec.resourceName,
    eventUrl: rec.eventUrl,
    ...(rec.headers ? { headers: { ...rec.headers } } : {}),
    ...(rec.authDetails ? { authDetails: { ...rec.authDetails } } : {}),
    status: rec.status,
  };
}

function asWalmart<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ControlError) {
      if (error.status === 404) throw contentNotFound(NOTIFICATION_SERVICE, error.message);
      throw badContent(NOTIFICATION_SERVICE, String(error.extra.field ?? "events"), error.message);
    }
    throw error;
  }
}

async function createSubscriptions(ctx: Ctx) {
  const body = (await jsonBody(ctx, NOTIFICATION_SERVICE)) as { events?: unknown } | null;
  const events = body?.events;
  const created = asWalmart(() =>
    ctx.sb.createSubscriptions(ctx.seller.partnerId, events as SubscriptionInput[]),
  );
  return {
    events: created.map((s) => ({
      eventType: s.eventType,
      subscriptionId: s.subscriptionId,
      partnerId: s.partnerId,
      eventVersion: s.eventVersion,
      resourceName: s.resourceName,
      status: s.status,
    })),
  };
}

function listSubscriptions(ctx: Ctx) {
  const q = ctx.req.query;
  const list = ctx.sb.subscriptions(ctx.seller.partnerId, {
    ...(q.get("subscriptionId") ? { subscriptionId: q.get("subscriptionId") as string } : {}),
    ...(q.get("eventType") ? { eventType: q.get("eventType") as string } : {}),
    ...(q.get("resourceName") ? { resourceName: q.get("resourceName") as string } : {}),
    ...(q.get("status") ? { status: q.get("status") as string } : {}),
  });
  return { events: list.map(subscriptionPayload) };
}

async function updateSubscription(ctx: Ctx) {
  const [id = ""] = ctx.params;
  const body = await jsonBody(ctx, NOTIFICATION_SERVICE);
  const rec = asWalmart(() =>
    ctx.sb.updateSubscription(ctx.seller.partnerId, id, body as SubscriptionInput),
  );
  return subscriptionPayload(rec);
}

function deleteSubscription(ctx: Ctx) {
  const [id = ""] = ctx.params;
  asWalmart(() => ctx.sb.deleteSubscription(ctx.seller.partnerId, id));
  return { subscriptionId: id, message: "Successfully deleted subscription" };
}

async function testNotification(ctx: Ctx) {
  const body = await jsonBody(ctx, NOTIFICATION_SERVICE);
  const input = (typeof body === "object" && body !== null ? body : {}) as SubscriptionInput;
  let outcome: Awaited<ReturnType<Sandbox["testNotification"]>>;
  try {
    outcome = await ctx.sb.testNotification(ctx.seller.partnerId, input);
  } catch (error) {
    if (error instanceof ControlError) {
      throw badContent(
        NOTIFICATION_SERVICE,
        String(error.extra.field ?? "events").replace(/^events\[0\]\./, ""),
        error.message,
      );
    }
    throw error;
  }
  if (!outcome.ok) {
    throw badContent(
      NOTIFICATION_SERVICE,
      "eventUrl",
      `Eventurl validation failed: ${outcome.attempt.error ?? `HTTP ${outcome.attempt.status ?? "?"}`}`,
    );
  }
  return { message: "Eventurl successfully validated" };
}

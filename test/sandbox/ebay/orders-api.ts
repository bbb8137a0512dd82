/**
 * Sell Fulfillment API v1 (`/sell/fulfillment/v1`, sell_fulfillment_v1_oas3.json v1.20.7):
 * getOrder and getOrders (filter `creationdate`, `lastmodifieddate`, `orderfulfillmentstatus`,
 * `orderIds`, limit/offset); and the Post-Order cancellation search
 * (`/post-order/v2/cancellation/search`, `Authorization: IAF <token>`).
 */
import { intParam, type ApiModule, type ApiRequest } from "./api";
import { ACCESS, FULFILLMENT, POST_ORDER } from "./errors";
import type { EbayResult } from "./http";
import { SCOPES, type OrderRec } from "./model";
import { cancelSummaryPayload, orderPayload } from "./payloads";

const READ = [SCOPES.fulfillment, SCOPES.fulfillmentReadonly];
const PREFIX = "/sell/fulfillment/v1";
const DAY = 86_400_000;

function sellerOf(req: ApiRequest) {
  if (!req.seller) throw ACCESS.insufficientScope();
  return req.seller;
}

function getOrder(req: ApiRequest): EbayResult {
  const seller = sellerOf(req);
  const orderId = req.params[0] ?? "";
  const order = req.sb.orders.get(orderId);
  if (!order || order.sellerId !== seller.userId) throw FULFILLMENT.invalidOrderId(orderId);
  return { status: 200, body: orderPayload(order, seller, true) };
}

type Range = { from: number; to: number };

function parseRange(name: string, value: string): Range {
  const match = /^\[(.*?)\.\.([^\]]*)\]$/.exec(value);
  if (!match) throw FULFILLMENT.invalidFilter(`${name}:${value}`);
  const from = Date.parse(match[1] ?? "");
  const to = match[2] === "" ? Infinity : Date.parse(match[2] ?? "");
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
  if (
    !iso.test(match[1] ?? "") ||
    (match[2] !== "" && !iso.test(match[2] ?? "")) ||
    Number.isNaN(from) ||
    Number.isNaN(to)
  ) {
    throw FULFILLMENT.invalidFilter(
      `${name}:${value} (timestamps are ISO 8601 UTC, e.g. 2016-02-21T08:25:43.511Z)`,
    );
  }
  if (to < from) throw FULFILLMENT.invalidFilter(`${name}:${value} (end before start)`);
  return { from, to };
}

const SUPPORTED_STATUS_SETS = [
  ["IN_PROGRESS", "NOT_STARTED"],
  ["FULFILLED", "IN_PROGRESS"],
];

type OrderFilter = {
  creation: Range | null;
  modified: Range | null;
  statuses: string[] | null;
};

function parseFilter(raw: string | null): OrderFilter {
  const filter: OrderFilter = { creation: null, modified: null, statuses: null };
  if (raw === null || raw.trim() === "") return filter;
  for (const part of raw
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")) {
    const colon = part.indexOf(":");
    if (colon < 0) throw FULFILLMENT.invalidFilter(part);
    const name = part.slice(0, colon).trim();
    const value = part.slice(colon + 1).trim();
    switch (name) {
      case "creationdate":
        filter.creation = parseRange(name, value);
        break;
      case "lastmodifieddate":
        filter.modified = parseRange(name, value);
        break;
      case "orderfulfillmentstatus": {
        const match = /^\{([A-Z_|]+)\}$/.exec(value);
        const statuses = match?.[1]?.split("|").sort() ?? [];
        if (!SUPPORTED_STATUS_SETS.some((set) => set.join() === statuses.join())) {
          throw FULFILLMENT.invalidFilter(
            `${part} (supported: {NOT_STARTED|IN_PROGRESS} and {FULFILLED|IN_PROGRESS})`,
          );
        }
        filter.statuses = statuses;
        break;
      }
      default:
        throw FULFILLMENT.invalidFilter(`unknown filter field ${name}`);
    }
  }
  return filter;
}

function inRange(iso: string, range: Range): boolean {
  const t = Date.parse(iso);
  return t >= range.from && t <= range.to;
}

function getOrders(req: ApiRequest): EbayResult {
  const seller = sellerOf(req);
  const limit = intParam(req.query, "limit", (v) => FULFILLMENT.invalidParameter("limit", v)) ?? 50;
  if (limit < 1 || limit > 200) throw FULFILLMENT.invalidParameter("limit", String(limit));
  const offset =
    intParam(req.query, "offset", (v) => FULFILLMENT.invalidParameter("offset", v)) ?? 0;
  const mine = [...req.sb.orders.values()].filter((o) => o.sellerId === seller.userId);
  let selected: OrderRec[];
  const orderIds = req.query.get("orderIds");
  if (orderIds !== null) {
    const ids = orderIds
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    if (ids.length === 0 || ids.length > 50) {
      throw FULFILLMENT.invalidParameter("orderIds", "between 1 and 50 order ids");
    }
    selected = ids
      .map((id) => mine.find((o) => o.orderId === id))
      .filter((o): o is OrderRec => o !== undefined);
  } else {
    const filter = parseFilter(req.query.get("filter"));
    const now = req.sb.clock.nowMs();
    // creationdate wins over lastmodifieddate; neither: orders created within the last 90 days.
    const creation =
      filter.creation ?? (filter.modified ? null : { from: now - 90 * DAY, to: Infinity });
    selected = mine.filter(
      (o) =>
        (creation === null || inRange(o.creationDate, creation)) &&
        (filter.creation !== null ||
          filter.modified === null ||
          inRange(o.lastModifiedDate, filter.modified)) &&
        (filter.statuses === null || filter.statuses.includes(o.fulfillmentStatus)),
    );
    selected.sort((a, b) => b.creationDate.localeCompare(a.creationDate));
  }
  const total = selected.length;
  const page = orderIds !== null ? selected : selected.slice(offset, offset + limit);
  const base = `${req.baseUrl}${PREFIX}/order`;
  const keep = new URLSearchParams(req.query);
  const url = (o: number) => {
    keep.set("limit", String(limit));
    keep.set("offset", String(o));
    return `${base}?${keep.toString()}`;
  };
  return {
    status: 200,
    body: {
      href: url(offset),
      total,
      limit,
      offset,
      ...(orderIds === null && offset + limit < total ? { next: url(offset + limit) } : {}),
      ...(orderIds === null && offset > 0 ? { prev: url(Math.max(0, offset - limit)) } : {}),
      orders: page.map((o) => orderPayload(o, seller, false)),
    },
  };
}

export const fulfillmentApi: ApiModule = {
  name: "sell.fulfillment",
  prefix: PREFIX,
  invalidJson: () => ACCESS.invalidRequest(),
  routes: [
    {
      method: "GET",
      pattern: /^\/order$/,
      operation: "getOrders",
      auth: "user",
      scopes: READ,
      handler: getOrders,
    },
    {
      method: "GET",
      pattern: /^\/order\/([^/]+)$/,
      operation: "getOrder",
      auth: "user",
      scopes: READ,
      handler: getOrder,
    },
  ],
};

// --- Post-Order ----------------------------------------------------------------------------

function searchCancellations(req: ApiRequest): EbayResult {
  const seller = sellerOf(req);
  const date = (name: string): number | null => {
    const raw = req.query.get(name);
    if (raw === null) return null;
    const t = Date.parse(raw);
    if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(raw))
      throw POST_ORDER.invalidParameter(name, raw);
    return t;
  };
  const from = date("creation_date_range_from");
  const to = date("creation_date_range_to");
  const limit = intParam(req.query, "limit", (v) => POST_ORDER.invalidParameter("limit", v)) ?? 25;
  if (limit < 1 || limit > 200) throw POST_ORDER.invalidParameter("limit", String(limit));
  const page = intParam(req.query, "offset", (v) => POST_ORDER.invalidParameter("offset", v)) ?? 1;
  if (page < 1) throw POST_ORDER.invalidParameter("offset", String(page));
  const role = req.query.get("role") ?? "SELLER";
  if (role !== "SELLER" && role !== "BUYER") throw POST_ORDER.invalidParameter("role", role);
  const legacyOrderId = req.query.get("legacy_order_id");
  const cancelId = req.query.get("cancel_id");
  const rows = [...req.sb.orders.values()]
    .filter((o) => o.cancel !== null && role === "SELLER" && o.sellerId === seller.userId)
    .filter((o) => {
      const cancel = o.cancel;
      if (!cancel) return false;
      const t = Date.parse(cancel.requestedAt);
      return (
        (from === null || t >= from) &&
        (to === null || t <= to) &&
        (legacyOrderId === null || o.orderId === legacyOrderId) &&
        (cancelId === null || cancel.cancelId === cancelId)
      );
    })
    .sort((a, b) => (b.cancel?.requestedAt ?? "").localeCompare(a.cancel?.requestedAt ?? ""));
  const total = rows.length;
  const slice = rows.slice((page - 1) * limit, page * limit);
  return {
    status: 200,
    body: {
      cancellations: slice.map((o) => cancelSummaryPayload(o, o.cancel!, seller)),
      paginationOutput: {
        limit,
        offset: page,
        totalEntries: total,
        totalPages: Math.ceil(total / limit),
      },
      total,
    },
  };
}

export const postOrderApi: ApiModule = {
  name: "post-order",
  prefix: "/post-order/v2",
  schemes: (sb) => sb.settings.postOrderAuthSchemes,
  invalidJson: () => ACCESS.invalidRequest(),
  routes: [
    {
      method: "GET",
      pattern: /^\/cancellation\/search$/,
      operation: "searchCancellations",
      auth: "user",
      scopes: [],
      handler: searchCancellations,
    },
  ],
};

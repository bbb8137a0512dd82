/**
 * Orders: the buyer and seller actions of the marketplace (purchase → Pending, payment confirmed →
 * Unshipped, buyer-requested cancel, seller cancel, ship) and the Orders API v0 that reads them
 * (getOrders with CreatedAfter/LastUpdatedAfter and NextToken paging, getOrder, getOrderItems).
 * A purchase sells only what the live quantity allows and reserves it at once.
 */
import { ControlError, badRequest, notFound } from "../shopify/errors";
import { json, objectBody, spErrors, type Reply } from "./http";
import * as ids from "./ids";
import { adjustAvailable, isFbaChannel } from "./listings";
import {
  MFN_CHANNEL,
  isoSeconds,
  type OrderItemRec,
  type OrderRec,
  type OrderStatus,
  type SellerRec,
} from "./model";
import { emitOrderChange } from "./notifications";
import type { AmazonSandbox } from "./sandbox";
import { invalidInput, isReply, listParam, marketplaces, type SpContext } from "./sp-util";

const STATUSES: OrderStatus[] = ["Pending", "Unshipped", "PartiallyShipped", "Shipped", "Canceled"];
const ALL_STATUSES = [...STATUSES, "Unfulfillable", "InvoiceUnconfirmed", "PendingAvailability"];

const unprocessable = (message: string): ControlError =>
  new ControlError(422, "invalid_state", message);

// --- marketplace actions -----------------------------------------------------------------------

type PurchaseLine = { sku: string; quantity: number };

/**
 * `{ sku, quantity }` or `{ items: [{ sku, quantity }] }`, plus `channel` ("MFN" default, or "AFN"),
 * `status` ("Pending" default, or "Unshipped"), `postalCode`, `buyerEmail`.
 */
export function purchase(sb: AmazonSandbox, seller: SellerRec, input: unknown): OrderRec {
  const body = objectBody(input);
  const lines: PurchaseLine[] = Array.isArray(body.items)
    ? (body.items as Record<string, unknown>[]).map(line)
    : [line(body)];
  if (lines.length === 0) throw badRequest("a purchase needs at least one item");
  const channel = body.channel === "AFN" ? "AFN" : "MFN";
  if (body.channel !== undefined && body.channel !== "MFN" && body.channel !== "AFN") {
    throw badRequest("channel is MFN or AFN");
  }
  const status = body.status ?? "Pending";
  if (status !== "Pending" && status !== "Unshipped") {
    throw badRequest("status is Pending or Unshipped");
  }
  // Check every line before reserving anything (a storefront refuses the whole cart).
  const wanted = new Map<string, number>();
  const shortages: { sku: string; requested: number; available: number }[] = [];
  const channels = new Map<string, string>();
  for (const l of lines) {
    const listing = seller.listings.get(l.sku);
    if (!listing) throw new ControlError(404, "unknown_sku", `listing ${l.sku} not found`);
    const code =
      channel === "MFN" ? MFN_CHANNEL : Object.keys(listing.available).find((c) => isFbaChannel(c));
    const available = code === undefined ? undefined : listing.available[code];
    const total = (wanted.get(l.sku) ?? 0) + l.quantity;
    wanted.set(l.sku, total);
    if (code === undefined || available === undefined || available < total) {
      shortages.push({ sku: l.sku, requested: total, available: available ?? 0 });
    } else {
      channels.set(l.sku, code);
    }
  }
  if (shortages.length > 0) {
    throw new ControlError(409, "out_of_stock", "not enough sellable quantity", {
      lines: shortages,
    });
  }
  const now = new Date();
  let amazonOrderId = ids.orderId(sb.random);
  while (sb.orders.has(amazonOrderId)) amazonOrderId = ids.orderId(sb.random);
  const items: OrderItemRec[] = lines.map((l) => {
    const listing = seller.listings.get(l.sku);
    const price = listing?.price;
    return {
      orderItemId: ids.orderItemId(sb.random),
      sku: l.sku,
      asin: listing?.asin ?? "",
      title: listing?.itemName ?? l.sku,
      quantityOrdered: l.quantity,
      quantityShipped: 0,
      unitPrice: { CurrencyCode: price?.currencyCode ?? "USD", Amount: price?.amount ?? "0.00" },
      channelCode: channels.get(l.sku) ?? MFN_CHANNEL,
      buyerRequestedCancel: false,
      buyerCancelReason: null,
      restocked: 0,
    };
  });
  const order: OrderRec = {
    amazonOrderId,
    sellerId: seller.sellerId,
    marketplaceId:
      typeof body.marketplaceId === "string"
        ? body.marketplaceId
        : (seller.marketplaceIds[0] ?? "ATVPDKIKX0DER"),
    purchaseDate: now,
    lastUpdateDate: now,
    status,
    fulfillmentChannel: channel,
    items,
    destinationPostalCode: typeof body.postalCode === "string" ? body.postalCode : "98101",
    buyerEmail:
      typeof body.buyerEmail === "string"
        ? body.buyerEmail
        : `${ids.alnum(sb.random, 16).toLowerCase()}@marketplace.amazon.com`,
    history: [],
    cancelTimer: null,
  };
  sb.orders.set(order.amazonOrderId, order);
  record(sb, order, "OrderStatusChange", "Order Status Change", items, now);
  for (const item of items) {
    const listing = seller.listings.get(item.sku);
    if (listing) adjustAvailable(sb, listing, item.channelCode, -item.quantityOrdered);
  }
  if (status === "Pending" && sb.behaviour.pendingOrderMs !== null) {
    order.cancelTimer = sb.scheduler.after(
      sb.scaled(sb.behaviour.pendingOrderMs),
      () => {
        order.cancelTimer = null;
        if (order.status === "Pending") confirm(sb, order);
      },
      false,
    );
  }
  return order;
}

function line(raw: Record<string, unknown>): PurchaseLine {
  if (typeof raw.sku !== "string") throw badRequest("each item needs a sku");
  const quantity = raw.quantity ?? 1;
  if (typeof quantity !== "number" || !Number.isInteger(quantity) || quantity <= 0) {
    throw badRequest("quantity must be a positive integer");
  }
  return { sku: raw.sku, quantity };
}

function record(
  sb: AmazonSandbox,
  order: OrderRec,
  changeType: "OrderStatusChange" | "BuyerRequestedChange",
  reason: string,
  items: OrderItemRec[],
  at = new Date(),
): void {
  order.lastUpdateDate = at;
  order.history.push({ at, changeType, reason, status: order.status });
  emitOrderChange(sb, order, { at, changeType, reason }, items);
}

/** Payment authorised: Pending → Unshipped. */
export function confirm(sb: AmazonSandbox, order: OrderRec): OrderRec {
  if (order.status !== "Pending") throw unprocessable(`order is ${order.status}, not Pending`);
  order.cancelTimer?.();
  order.cancelTimer = null;
  order.status = "Unshipped";
  record(sb, order, "OrderStatusChange", "Order Status Change", order.items);
  return order;
}

function restock(sb: AmazonSandbox, order: OrderRec): void {
  const seller = sb.sellers.get(order.sellerId);
  for (const item of order.items) {
    const units = item.quantityOrdered - item.quantityShipped - item.restocked;
    const listing = seller?.listings.get(item.sku);
    if (units > 0 && listing) {
      item.restocked += units;
      adjustAvailable(sb, listing, item.channelCode, units);
    }
  }
}

/**
 * The buyer cancels. A Pending order is canceled at once (units go back to the listing); an
 * Unshipped one only gets `IsBuyerRequestedCancel` (a BuyerRequestedChange) and waits for the seller.
 */
export function buyerCancel(sb: AmazonSandbox, order: OrderRec, input: unknown): OrderRec {
  const body = objectBody(input);
  const reason = typeof body.reason === "string" ? body.reason : "No longer needed";
  const open = order.items.filter((i) => i.quantityShipped < i.quantityOrdered);
  for (const item of open) {
    item.buyerRequestedCancel = true;
    item.buyerCancelReason = reason;
  }
  if (order.status === "Pending") {
    order.cancelTimer?.();
    order.cancelTimer = null;
    order.status = "Canceled";
    record(sb, order, "OrderStatusChange", "Order Status Change", order.items);
    restock(sb, order);
    return order;
  }
  if (order.status === "Unshipped" || order.status === "PartiallyShipped") {
    record(sb, order, "BuyerRequestedChange", "Buyer Requested Cancel", open);
    return order;
  }
  throw unprocessable(`a ${order.status} order cannot be canceled by the buyer`);
}

/** The seller cancels a Pending or Unshipped order; `restock: false` keeps the units away. */
export function sellerCancel(sb: AmazonSandbox, order: OrderRec, input: unknown): OrderRec {
  const body = objectBody(input);
  if (order.status !== "Pending" && order.status !== "Unshipped") {
    throw unprocessable(`a ${order.status} order cannot be canceled`);
  }
  order.cancelTimer?.();
  order.cancelTimer = null;
  order.status = "Canceled";
  record(sb, order, "OrderStatusChange", "Order Status Change", order.items);
  if (body.restock !== false) restock(sb, order);
  return order;
}

/** `{ items?: [{ sku | orderItemId, quantity? }] }` (default: everything unshipped). */
export function ship(sb: AmazonSandbox, order: OrderRec, input: unknown): OrderRec {
  const body = objectBody(input);
  if (order.status !== "Unshipped" && order.status !== "PartiallyShipped") {
    throw unprocessable(`a ${order.status} order cannot be shipped`);
  }
  const shipped: OrderItemRec[] = [];
  if (Array.isArray(body.items)) {
    for (const raw of body.items as Record<string, unknown>[]) {
      const item = order.items.find((i) => i.orderItemId === raw.orderItemId || i.sku === raw.sku);
      if (!item) throw notFound(`order item ${String(raw.orderItemId ?? raw.sku)}`);
      const remaining = item.quantityOrdered - item.quantityShipped;
      const quantity = raw.quantity ?? remaining;
      if (
        typeof quantity !== "number" ||
        !Number.isInteger(quantity) ||
        quantity <= 0 ||
        quantity > remaining
      ) {
        throw badRequest(`quantity must be between 1 and ${remaining}`);
      }
      item.quantityShipped += quantity;
      shipped.push(item);
    }
  } else {
    for (const item of order.items) {
      if (item.quantityShipped < item.quantityOrdered) {
        item.quantityShipped = item.quantityOrdered;
        shipped.push(item);
      }
    }
  }
  order.status = order.items.every((i) => i.quantityShipped >= i.quantityOrdered)
    ? "Shipped"
    : "PartiallyShipped";
  record(sb, order, "OrderStatusChange", "Order Status Change", shipped);
  return order;
}

export function orderSnapshot(order: OrderRec) {
  return {
    amazonOrderId: order.amazonOrderId,
    sellerId: order.sellerId,
    marketplaceId: order.marketplaceId,
    status: order.status,
    fulfillmentChannel: order.fulfillmentChannel,
    purchaseDate: order.purchaseDate.toISOString(),
    lastUpdateDate: order.lastUpdateDate.toISOString(),
    items: order.items.map((i) => ({ ...i })),
    history: order.history.map((h) => ({ ...h, at: h.at.toISOString() })),
  };
}

// --- Orders API payloads -----------------------------------------------------------------------

function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}

export function orderPayload(order: OrderRec): Record<string, unknown> {
  const pending = order.status === "Pending";
  const shipped = order.items.reduce((n, i) => n + i.quantityShipped, 0);
  const unshipped =
    pending || order.status === "Canceled"
      ? 0
      : order.items.reduce((n, i) => n + i.quantityOrdered - i.quantityShipped, 0);
  const total = order.items.reduce((n, i) => n + Number(i.unitPrice.Amount) * i.quantityOrdered, 0);
  const out: Record<string, unknown> = {
    AmazonOrderId: order.amazonOrderId,
    PurchaseDate: isoSeconds(order.purchaseDate),
    LastUpdateDate: isoSeconds(order.lastUpdateDate),
    OrderStatus: order.status,
    FulfillmentChannel: order.fulfillmentChannel,
  };
  if (!pending) {
    out.SalesChannel = "Amazon.com";
    out.ShipServiceLevel = "Std US D2D Dom";
    out.OrderTotal = {
      CurrencyCode: order.items[0]?.unitPrice.CurrencyCode ?? "USD",
      Amount: total.toFixed(2),
    };
  }
  Object.assign(out, {
    NumberOfItemsShipped: shipped,
    NumberOfItemsUnshipped: unshipped,
    PaymentMethod: "Other",
    PaymentMethodDetails: ["Standard"],
    IsReplacementOrder: false,
    MarketplaceId: order.marketplaceId,
    ShipmentServiceLevelCategory: "Standard",
    OrderType: "StandardOrder",
    EarliestShipDate: isoSeconds(order.purchaseDate),
    LatestShipDate: isoSeconds(addDays(order.purchaseDate, 2)),
    EarliestDeliveryDate: isoSeconds(addDays(order.purchaseDate, 3)),
    LatestDeliveryDate: isoSeconds(addDays(order.purchaseDate, 7)),
    IsBusinessOrder: false,
    IsPrime: false,
    IsGlobalExpressEnabled: false,
    IsPremiumOrder: false,
    IsSoldByAB: false,
    IsIBA: false,
    IsISPU: false,
    IsAccessPointOrder: false,
    AutomatedShippingSettings: { HasAutomatedShippingSettings: false },
    ElectronicInvoiceStatus: "NotRequired",
  });
  return out;
}

export function orderItemPayload(order: OrderRec, item: OrderItemRec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ASIN: item.asin,
    OrderItemId: item.orderItemId,
    SellerSKU: item.sku,
    Title: item.title,
    QuantityOrdered: item.quantityOrdered,
    QuantityShipped: item.quantityShipped,
    ProductInfo: { NumberOfItems: "1" },
  };
  // While Pending, no pricing, taxes, gift status or promotions (getOrderItems description).
  if (order.status !== "Pending") {
    const currency = item.unitPrice.CurrencyCode;
    out.ItemPrice = {
      CurrencyCode: currency,
      Amount: (Number(item.unitPrice.Amount) * item.quantityOrdered).toFixed(2),
    };
    out.ItemTax = { CurrencyCode: currency, Amount: "0.00" };
    out.PromotionDiscount = { CurrencyCode: currency, Amount: "0.00" };
    out.IsGift = "false";
  }
  Object.assign(out, {
    ConditionId: "New",
    ConditionSubtypeId: "New",
    IsTransparency: false,
    SerialNumberRequired: false,
  });
  if (item.buyerRequestedCancel) {
    out.BuyerRequestedCancel = {
      IsBuyerRequestedCancel: "true",
      BuyerCancelReason: item.buyerCancelReason ?? "",
    };
  }
  return out;
}

// --- Orders API handlers -----------------------------------------------------------------------

type OrdersQuery = {
  field: "created" | "updated";
  after: number;
  before: number;
  statuses: string[] | null;
  channels: string[] | null;
  orderIds: string[] | null;
  buyerEmail: string | null;
  max: number;
};

function dateParam(query: URLSearchParams, name: string): number | null | Reply {
  const value = query.get(name);
  if (value === null || value === "") return null;
  const t = Date.parse(value);
  if (Number.isNaN(t))
    return invalidInput(`Invalid ${name} provided.`, `${name} must be in ISO 8601 format.`);
  return t;
}

export function getOrders(ctx: SpContext): Reply {
  const marketplaceIds = marketplaces(ctx, "MarketplaceIds");
  if (isReply(marketplaceIds)) return marketplaceIds;
  if (marketplaceIds.length > 50) return invalidInput("MarketplaceIds accepts at most 50 values.");
  const sb = ctx.sb;
  let q: OrdersQuery;
  let offset = 0;
  const nextToken = ctx.query.get("NextToken");
  if (nextToken) {
    try {
      const decoded = JSON.parse(Buffer.from(nextToken, "base64url").toString("utf8")) as {
        o: number;
        q: OrdersQuery;
      };
      if (!Number.isInteger(decoded.o) || typeof decoded.q !== "object") throw new Error("bad");
      offset = decoded.o;
      q = decoded.q;
    } catch {
      return invalidInput("Invalid NextToken provided.");
    }
  } else {
    const createdAfter = dateParam(ctx.query, "CreatedAfter");
    const createdBefore = dateParam(ctx.query, "CreatedBefore");
    const updatedAfter = dateParam(ctx.query, "LastUpdatedAfter");
    const updatedBefore = dateParam(ctx.query, "LastUpdatedBefore");
    for (const d of [createdAfter, createdBefore, updatedAfter, updatedBefore]) {
      if (isReply(d)) return d;
    }
    const ca = createdAfter as number | null;
    const cb = createdBefore as number | null;
    const ua = updatedAfter as number | null;
    const ub = updatedBefore as number | null;
    if (ca === null && ua === null) {
      return invalidInput("Either CreatedAfter or LastUpdatedAfter must be specified.");
    }
    if (ca !== null && (ua !== null || ub !== null)) {
      return invalidInput(
        "LastUpdatedAfter and LastUpdatedBefore cannot be set when CreatedAfter is set.",
      );
    }
    if (ua !== null && cb !== null) {
      return invalidInput("CreatedBefore cannot be set when LastUpdatedAfter is set.");
    }
    const latest = Date.now() - sb.scaled(sb.behaviour.ordersApiLagMs);
    const field = ca !== null ? "created" : "updated";
    const after = (ca ?? ua) as number;
    const givenBefore = field === "created" ? cb : ub;
    const beforeName = field === "created" ? "CreatedBefore" : "LastUpdatedBefore";
    if (givenBefore !== null && givenBefore > latest) {
      return invalidInput(`${beforeName} must be at least two minutes before the current time.`);
    }
    const before = givenBefore ?? latest;
    if (before < after) {
      return invalidInput(
        `${beforeName} must be equal to or after ${field === "created" ? "CreatedAfter" : "LastUpdatedAfter"}.`,
      );
    }
    const statuses = listParam(ctx.query, "OrderStatuses");
    if (statuses && statuses.some((s) => !ALL_STATUSES.includes(s))) {
      return invalidInput("Invalid OrderStatuses provided.");
    }
    const channels = listParam(ctx.query, "FulfillmentChannels");
    if (channels && channels.some((c) => c !== "MFN" && c !== "AFN")) {
      return invalidInput("Invalid FulfillmentChannels provided.");
    }
    const orderIds = listParam(ctx.query, "AmazonOrderIds");
    if (orderIds && orderIds.length > 50)
      return invalidInput("AmazonOrderIds accepts at most 50 values.");
    const maxRaw = ctx.query.get("MaxResultsPerPage");
    const max = maxRaw === null ? 100 : Number(maxRaw);
    if (!Number.isInteger(max) || max < 1 || max > 100) {
      return invalidInput("MaxResultsPerPage must be between 1 and 100.");
    }
    q = {
      field,
      after,
      before,
      statuses,
      channels,
      orderIds,
      buyerEmail: ctx.query.get("BuyerEmail"),
      max,
    };
  }
  const dateOf = (o: OrderRec): number =>
    (q.field === "created" ? o.purchaseDate : o.lastUpdateDate).getTime();
  const matches = [...sb.orders.values()]
    .filter((o) => o.sellerId === ctx.sellerId && marketplaceIds.includes(o.marketplaceId))
    .filter((o) => dateOf(o) >= q.after && dateOf(o) <= q.before)
    .filter((o) => !q.statuses || q.statuses.includes(o.status))
    .filter((o) => !q.channels || q.channels.includes(o.fulfillmentChannel))
    .filter((o) => !q.orderIds || q.orderIds.includes(o.amazonOrderId))
    .filter((o) => !q.buyerEmail || q.buyerEmail === o.buyerEmail)
    .sort((a, b) => dateOf(a) - dateOf(b) || (a.amazonOrderId < b.amazonOrderId ? -1 : 1));
  const page = matches.slice(offset, offset + q.max);
  const payload: Record<string, unknown> = { Orders: page.map(orderPayload) };
  if (offset + q.max < matches.length) {
    payload.NextToken = Buffer.from(JSON.stringify({ o: offset + q.max, q })).toString("base64url");
  }
  payload[q.field === "created" ? "CreatedBefore" : "LastUpdatedBefore"] = new Date(
    q.before,
  ).toISOString();
  return json(200, { payload });
}

function findOrder(ctx: SpContext): OrderRec | Reply {
  const [orderId = ""] = ctx.params;
  if (!ids.ORDER_ID_PATTERN.test(orderId))
    return json(400, spErrors("InvalidInput", "Invalid Input"));
  const order = ctx.sb.orders.get(orderId);
  if (!order || order.sellerId !== ctx.sellerId) {
    return json(404, spErrors("NotFound", `Order ${orderId} not found.`));
  }
  return order;
}

export function getOrder(ctx: SpContext): Reply {
  const order = findOrder(ctx);
  if (isReply(order)) return order;
  return json(200, { payload: orderPayload(order) });
}

export function getOrderItems(ctx: SpContext): Reply {
  const order = findOrder(ctx);
  if (isReply(order)) return order;
  return json(200, {
    payload: {
      AmazonOrderId: order.amazonOrderId,
      OrderItems: order.items.map((i) => orderItemPayload(order, i)),
    },
  });
}

export { STATUSES };

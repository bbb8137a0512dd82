/**
 * Buyers and orders: checkout against listing quantities (one order per checkout, one line item
 * per SKU, one ORDER_CONFIRMATION per line item), seller and buyer cancellations (visible in
 * getOrder(s) and the Post-Order search, never pushed), shipping.
 */
import { DAY_MS } from "./clock";
import { ControlError, badRequest } from "./errors";
import type { CancelRec, ListingView, OrderRec } from "./model";
import { itemQuantity, orderPayload } from "./payloads";
import type { EbaySandbox } from "./sandbox";

function int(value: unknown, name: string, min = 0): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw badRequest(`${name} must be an integer >= ${min}`);
  }
  return value;
}

function objectBody(input: unknown): Record<string, unknown> {
  if (input === undefined || input === null) return {};
  if (typeof input !== "object" || Array.isArray(input)) throw badRequest("expected a JSON object");
  return input as Record<string, unknown>;
}

/**
 * A buyer checks out `lines` from one seller: one order with one line item per SKU. Sells only
 * what each listing's quantity allows (all or nothing), decrements the listing, and publishes
 * one ORDER_CONFIRMATION per line item to the seller's subscriptions.
 */
export function checkout(
  sb: EbaySandbox,
  sellerRef: string,
  input: unknown,
): { order: Record<string, unknown>; notificationIds: string[] } {
  const seller = sb.seller(sellerRef);
  if (seller.deleted)
    throw new ControlError(422, "seller_deleted", `seller ${seller.username} was deleted`);
  const body = objectBody(input);
  if (!Array.isArray(body.lines) || body.lines.length === 0)
    throw badRequest("lines must be a non-empty array");
  const wanted = new Map<string, number>();
  for (const [i, raw] of body.lines.entries()) {
    const line = objectBody(raw);
    if (typeof line.sku !== "string") throw badRequest(`lines[${i}].sku is required`);
    const quantity = int(line.quantity ?? 1, `lines[${i}].quantity`, 1);
    wanted.set(line.sku, (wanted.get(line.sku) ?? 0) + quantity);
  }
  const resolved = [...wanted].map(([sku, quantity]) => {
    let view: ListingView;
    try {
      view = sb.listing(seller.userId, sku);
    } catch {
      throw new ControlError(
        404,
        "unknown_listing",
        `${seller.username} has no live listing for ${sku}`,
      );
    }
    return { sku, quantity, view };
  });
  const short = resolved.filter((r) => r.view.quantity < r.quantity);
  if (short.length > 0) {
    throw new ControlError(
      409,
      "insufficient_quantity",
      "the listing quantity does not cover the order",
      {
        lines: short.map((r) => ({
          sku: r.sku,
          listingId: r.view.listingId,
          requested: r.quantity,
          available: r.view.quantity,
        })),
      },
    );
  }
  const now = sb.nextModified();
  const order: OrderRec = {
    orderId: sb.ids.orderId(),
    sellerId: seller.userId,
    buyerUsername:
      typeof body.buyer === "string" ? body.buyer : `buyer_${sb.random.between(1000, 9999)}`,
    marketplaceId: seller.marketplaceId,
    currency: seller.currency,
    creationDate: now,
    lastModifiedDate: now,
    lines: [],
    fulfillmentStatus: "NOT_STARTED",
    paymentStatus: "PAID",
    salesRecordReference: sb.ids.salesRecordReference(),
    shippedAt: null,
    cancel: null,
  };
  for (const { sku, quantity, view } of resolved) {
    adjustListing(sb, seller.userId, view, -quantity);
    order.lines.push({
      lineItemId: sb.ids.lineItemId(),
      transactionId: sb.ids.transactionId(),
      listingId: view.listingId,
      offerId: view.offerId,
      sku,
      title: view.title,
      quantity,
      unitPrice: view.price.value,
      source: view.source,
    });
  }
  sb.orders.set(order.orderId, order);
  const notificationIds: string[] = [];
  // One ORDER_CONFIRMATION per line item (AsyncAPI order_confirmation.yaml).
  for (let i = 0; i < order.lines.length; i++) {
    notificationIds.push(...sb.publishOrderConfirmation(order));
  }
  return { order: orderPayload(order, seller, true), notificationIds };
}

/** Sale (negative delta) or restock (positive) of a listing's quantity. */
function adjustListing(sb: EbaySandbox, sellerId: string, view: ListingView, delta: number): void {
  if (view.source === "trading_api") {
    const listing = sb.tradingListings.get(view.listingId);
    if (!listing) return;
    listing.quantity = Math.max(0, listing.quantity + delta);
    listing.soldQuantity = Math.max(0, listing.soldQuantity - delta);
    return;
  }
  const offer = view.offerId ? sb.offers.get(view.offerId) : undefined;
  const item = sb.item(sellerId, view.sku);
  if (!offer || !item) return;
  const current = itemQuantity(item);
  const availability = (item.body.availability ?? {}) as Record<string, unknown>;
  const shipTo = (availability.shipToLocationAvailability ?? {}) as Record<string, unknown>;
  item.body.availability = {
    ...availability,
    shipToLocationAvailability: { ...shipTo, quantity: Math.max(0, current + delta) },
  };
  if (offer.availableQuantity !== null)
    offer.availableQuantity = Math.max(0, offer.availableQuantity + delta);
  offer.soldQuantity = Math.max(0, offer.soldQuantity - delta);
  sb.refreshListingStatus(offer);
}

/**
 * Cancels an order. `initiator` SELLER (default) completes at once; BUYER opens a request the
 * seller approves or rejects (`approve: true` completes it at once). Completed cancellations
 * refund the order and, with `restockOnCancel`, put the quantity back on the listings.
 * Visible through getOrder(s) `cancelStatus` and the Post-Order search; no notification.
 */
export function cancelOrder(
  sb: EbaySandbox,
  orderId: string,
  input: unknown = {},
): Record<string, unknown> {
  const order = sb.order(orderId);
  const body = objectBody(input);
  const initiator = body.initiator === undefined ? "SELLER" : body.initiator;
  if (initiator !== "SELLER" && initiator !== "BUYER")
    throw badRequest("initiator is SELLER or BUYER");
  if (order.fulfillmentStatus === "FULFILLED") {
    throw new ControlError(422, "not_cancellable", `order ${orderId} has shipped`);
  }
  if (order.cancel && order.cancel.state !== "REJECTED") {
    throw new ControlError(
      422,
      "not_cancellable",
      `order ${orderId} already has a cancellation (${order.cancel.state})`,
    );
  }
  if (body.reason !== undefined && typeof body.reason !== "string")
    throw badRequest("reason must be a string");
  const now = sb.nextModified();
  order.cancel = {
    cancelId: sb.ids.cancelId(),
    cancelRequestId: sb.ids.cancelRequestId(),
    initiator,
    reason:
      (body.reason as string | undefined) ??
      (initiator === "SELLER" ? "OUT_OF_STOCK_OR_CANNOT_FULFILL" : "ORDER_MISTAKE"),
    requestedAt: now,
    state: "REQUESTED",
    closedAt: null,
    sellerResponseDueDate:
      initiator === "BUYER" ? new Date(Date.parse(now) + 3 * DAY_MS).toISOString() : null,
    restocked: false,
  };
  order.lastModifiedDate = now;
  if (initiator === "SELLER" || body.approve === true) completeCancel(sb, order, order.cancel);
  return orderPayload(order, sb.sellerById(order.sellerId), true);
}

export function approveCancellation(sb: EbaySandbox, orderId: string): Record<string, unknown> {
  const order = sb.order(orderId);
  if (order.cancel?.state !== "REQUESTED") {
    throw new ControlError(
      422,
      "no_cancel_request",
      `order ${orderId} has no open cancellation request`,
    );
  }
  completeCancel(sb, order, order.cancel);
  return orderPayload(order, sb.sellerById(order.sellerId), true);
}

export function rejectCancellation(sb: EbaySandbox, orderId: string): Record<string, unknown> {
  const order = sb.order(orderId);
  if (order.cancel?.state !== "REQUESTED") {
    throw new ControlError(
      422,
      "no_cancel_request",
      `order ${orderId} has no open cancellation request`,
    );
  }
  const now = sb.nextModified();
  order.cancel.state = "REJECTED";
  order.cancel.closedAt = now;
  order.lastModifiedDate = now;
  return orderPayload(order, sb.sellerById(order.sellerId), true);
}

function completeCancel(sb: EbaySandbox, order: OrderRec, cancel: CancelRec): void {
  const now = sb.nextModified();
  cancel.state = "COMPLETED";
  cancel.closedAt = now;
  order.paymentStatus = "FULLY_REFUNDED";
  order.lastModifiedDate = now;
  if (sb.settings.restockOnCancel && !cancel.restocked) {
    cancel.restocked = true;
    for (const line of order.lines) {
      const trading = sb.tradingListings.get(line.listingId);
      const offer = line.offerId ? sb.offers.get(line.offerId) : undefined;
      const view =
        line.source === "trading_api"
          ? trading && sb.tradingView(trading)
          : offer && sb.offerView(offer);
      if (view) adjustListing(sb, order.sellerId, view, line.quantity);
    }
  }
}

/** The seller marks the order shipped: orderFulfillmentStatus FULFILLED. */
export function shipOrder(sb: EbaySandbox, orderId: string): Record<string, unknown> {
  const order = sb.order(orderId);
  if (order.cancel?.state === "COMPLETED") {
    throw new ControlError(422, "cancelled", `order ${orderId} is cancelled`);
  }
  if (order.fulfillmentStatus !== "FULFILLED") {
    const now = sb.nextModified();
    order.fulfillmentStatus = "FULFILLED";
    order.shippedAt = now;
    order.lastModifiedDate = now;
  }
  return orderPayload(order, sb.sellerById(order.sellerId), true);
}

/**
 * JSON shapes of the /v3 answers and of the webhook events, following Walmart's OpenAPI files
 * and documented samples (README "Sources"): ItemResponse records, inventory quantities, the
 * `list.meta` / `list.elements.order[]` order list, PartnerFeedResponse, and the
 * `{ source: { eventType, eventTime, eventId }, payload }` event envelope.
 */
import {
  availToSell,
  createdQuantity,
  type FeedItemRec,
  type FeedRec,
  type ItemRec,
  type OrderLineRec,
  type OrderRec,
  type SellerState,
} from "./state";

export const qty = (amount: number) => ({ unit: "EACH" as const, amount });

export function itemPayload(item: ItemRec) {
  return {
    mart: "WALMART_US",
    sku: item.sku,
    wpid: item.wpid,
    upc: item.upc,
    gtin: item.gtin,
    productName: item.productName,
    shelf: item.shelf,
    productType: item.productType,
    price: { ...item.price },
    publishedStatus: item.publishedStatus,
    ...(item.publishedStatus === "UNPUBLISHED" && item.unpublishedReasons.length > 0
      ? { unpublishedReasons: { reason: [...item.unpublishedReasons] } }
      : {}),
    lifecycleStatus: item.lifecycleStatus,
  };
}

/** GET /v3/inventories/{sku} node entry. */
export function nodeInventoryPayload(item: ItemRec, shipNode: string) {
  const stock = item.stock.get(shipNode) ?? { inputQty: 0, reservedQty: 0, reserves: true };
  return {
    shipNode,
    inputQty: qty(stock.inputQty),
    availToSellQty: qty(availToSell(stock)),
    reservedQty: qty(stock.reservedQty),
  };
}

// --- orders ----------------------------------------------------------------------------------

const eachQty = (n: number) => ({ unitOfMeasurement: "EACH", amount: String(n) });
const round2 = (n: number) => Math.round(n * 100) / 100;

function lineStatuses(line: OrderLineRec) {
  const out: Record<string, unknown>[] = [];
  const created = createdQuantity(line);
  if (created > 0) out.push({ status: "Created", statusQuantity: eachQty(created) });
  if (line.acknowledged > 0)
    out.push({ status: "Acknowledged", statusQuantity: eachQty(line.acknowledged) });
  if (line.shipped > 0) {
    out.push({
      status: "Shipped",
      statusQuantity: eachQty(line.shipped),
      ...(line.tracking
        ? {
            trackingInfo: {
              shipDateTime: line.tracking.shipDateTime,
              carrierName: { carrier: line.tracking.carrier },
              methodCode: "Value",
              trackingNumber: line.tracking.trackingNumber,
            },
          }
        : {}),
    });
  }
  if (line.cancelled > 0) {
    out.push({
      status: "Cancelled",
      ...(line.cancellationReason ? { cancellationReason: line.cancellationReason } : {}),
      statusQuantity: eachQty(line.cancelled),
    });
  }
  return out;
}

/** One element of `list.elements.order[]` (and `order` of GET /v3/orders/{id}). */
export function orderPayload(order: OrderRec) {
  return {
    purchaseOrderId: order.purchaseOrderId,
    customerOrderId: order.customerOrderId,
    customerEmailId: order.customerEmailId,
    orderDate: order.orderDate,
    shippingInfo: {
      phone: order.buyer.phone,
      estimatedDeliveryDate: order.estimatedDeliveryDate,
      estimatedShipDate: order.estimatedShipDate,
      methodCode: "Value",
      postalAddress: {
        name: order.buyer.name,
        address1: order.buyer.address1,
        city: order.buyer.city,
        state: order.buyer.state,
        postalCode: order.buyer.postalCode,
        country: "USA",
        addressType: "RESIDENTIAL",
      },
    },
    orderLines: {
      orderLine: order.lines.map((line) => ({
        lineNumber: line.lineNumber,
        item: { productName: line.productName, sku: line.sku },
        charges: {
          charge: [
            {
              chargeType: "PRODUCT",
              chargeName: "ItemPrice",
              chargeAmount: { currency: "USD", amount: round2(line.unitPrice * line.quantity) },
              tax: {
                taxName: "Tax1",
                taxAmount: {
                  currency: "USD",
                  amount: round2(line.unitPrice * line.quantity * 0.08),
                },
              },
            },
          ],
        },
        orderLineQuantity: eachQty(line.quantity),
        statusDate: line.statusDate,
        orderLineStatuses: { orderLineStatus: lineStatuses(line) },
        ...(line.intentToCancel ? { intentToCancel: "Y" } : {}),
        fulfillment: {
          fulfillmentOption: "S2H",
          shipMethod: "VALUE",
          pickUpDateTime: order.estimatedDeliveryDate,
        },
      })),
    },
    shipNode: { type: "SellerFulfilled" },
  };
}

// --- feeds -----------------------------------------------------------------------------------

function counts(feed: FeedRec) {
  const done = feed.status === "PROCESSED";
  const received = feed.status === "RECEIVED" || feed.status === "ERROR" ? 0 : feed.items.length;
  const ok = done ? feed.items.filter((i) => i.status === "SUCCESS").length : 0;
  const dataErrors = done ? feed.items.filter((i) => i.status === "DATA_ERROR").length : 0;
  const systemErrors = done ? feed.items.filter((i) => i.status === "SYSTEM_ERROR").length : 0;
  const timeoutErrors = done ? feed.items.filter((i) => i.status === "TIMEOUT_ERROR").length : 0;
  return {
    itemsReceived: received,
    itemsSucceeded: ok,
    itemsFailed: dataErrors + systemErrors + timeoutErrors,
    itemsProcessing: feed.status === "INPROGRESS" ? feed.items.length : 0,
    itemDataErrorCount: dataErrors,
    itemSystemErrorCount: systemErrors,
    itemTimeoutErrorCount: timeoutErrors,
  };
}

/** An element of GET /v3/feeds `results.feed[]`. */
export function feedSummaryPayload(feed: FeedRec) {
  const c = counts(feed);
  return {
    feedId: feed.feedId,
    feedSource: "SELLER",
    feedType: feed.feedType,
    partnerId: feed.partnerId,
    itemsReceived: c.itemsReceived,
    itemsSucceeded: c.itemsSucceeded,
    itemsFailed: c.itemsFailed,
    itemsProcessing: c.itemsProcessing,
    feedStatus: feed.status,
    feedDate: feed.submittedAt,
    modifiedDtm: feed.modifiedAt,
    ...(feed.fileName ? { fileName: feed.fileName } : {}),
    itemDataErrorCount: c.itemDataErrorCount,
    itemSystemErrorCount: c.itemSystemErrorCount,
    itemTimeoutErrorCount: c.itemTimeoutErrorCount,
  };
}

function itemStatusPayload(seller: SellerState, feed: FeedRec, item: FeedItemRec) {
  const rec = seller.items.get(item.sku);
  const status = feed.status === "PROCESSED" ? item.status : "INPROGRESS";
  return {
    martId: 0,
    sku: item.sku,
    ...(rec ? { wpid: rec.wpid } : {}),
    index: item.index,
    ...(rec ? { itemid: rec.itemId } : {}),
    ...(rec
      ? {
          productIdentifiers: {
            productIdentifier: [
              { productIdType: "GTIN", productId: rec.gtin },
              { productIdType: "UPC", productId: rec.upc },
            ],
          },
        }
      : {}),
    ingestionStatus: status,
    ingestionErrors:
      status === "DATA_ERROR" || status === "SYSTEM_ERROR" || status === "TIMEOUT_ERROR"
        ? { ingestionError: item.errors.map((e) => ({ ...e })) }
        : null,
  };
}

/** GET /v3/feeds/{feedId} (PartnerFeedResponse). */
export function feedStatusPayload(
  seller: SellerState,
  feed: FeedRec,
  options: { includeDetails: boolean; offset: number; limit: number },
) {
  const c = counts(feed);
  const details =
    options.includeDetails && feed.status !== "RECEIVED" && feed.status !== "ERROR"
      ? feed.items.slice(options.offset, options.offset + options.limit)
      : [];
  return {
    feedId: feed.feedId,
    feedStatus: feed.status,
    feedSubmissionDate: feed.submittedAt,
    ingestionErrors:
      feed.ingestionErrors.length > 0
        ? { ingestionError: feed.ingestionErrors.map((e) => ({ ...e })) }
        : null,
    itemsReceived: c.itemsReceived,
    itemsSucceeded: c.itemsSucceeded,
    itemsFailed: c.itemsFailed,
    itemsProcessing: c.itemsProcessing,
    offset: options.offset,
    limit: options.limit,
    itemDetails: {
      itemIngestionStatus: details.map((item) => itemStatusPayload(seller, feed, item)),
    },
  };
}

// --- events ----------------------------------------------------------------------------------

export type EventLineStatus = "CREATED" | "ACKNOWLEDGED" | "SHIPPED" | "CANCELLED";

/**
 * The payload of PO_CREATED / PO_LINE_AUTOCANCELLED / INTENT_TO_CANCEL (V1), field list of the
 * documented event pages; `lines` picks the lines (and per-line quantity/status) to report.
 */
export function orderEventPayload(
  order: OrderRec,
  lines: {
    line: OrderLineRec;
    quantity: number;
    status: EventLineStatus;
    cancellationReason?: string;
    cancelSubReasonCodeDescription?: string;
  }[],
) {
  return {
    partnerId: order.partnerId,
    purchaseOrderId: order.purchaseOrderId,
    customerOrderId: order.customerOrderId,
    orderDate: new Date(order.orderDate).toISOString(),
    estimatedDeliveryDate: new Date(order.estimatedDeliveryDate).toISOString(),
    estimatedShipDate: new Date(order.estimatedShipDate).toISOString(),
    orderLines: lines.map(
      ({ line, quantity, status, cancellationReason, cancelSubReasonCodeDescription }) => ({
        lineNumber: line.lineNumber,
        sku: line.sku,
        productName: line.productName,
        quantity: { unitOfMeasure: "EACH", measurementValue: String(quantity) },
        status,
        statusDate: new Date(line.statusDate).toISOString(),
        shippingMethod: "Value",
        shipNodeType: "SellerFulfilled",
        ...(cancellationReason ? { cancellationReason } : {}),
        ...(cancelSubReasonCodeDescription ? { cancelSubReasonCodeDescription } : {}),
      }),
    ),
  };
}

export function envelope(
  eventType: string,
  eventId: string,
  eventTime: Date,
  payload: unknown,
  options: { eventFilters?: boolean } = {},
) {
  return {
    source: {
      eventType,
      ...(options.eventFilters ? { eventFilters: null } : {}),
      eventTime: eventTime.toISOString(),
      eventId,
    },
    payload,
  };
}

/**
 * JSON shapes of the APIs, built from the records: InventoryItemWithSkuLocaleGroupid and
 * EbayOfferDetailsWithAll (sell_inventory_v1_oas3), Order / LineItem / CancelStatus
 * (sell_fulfillment_v1_oas3), CancelSummary (Post-Order cancellation search), Destination,
 * Subscription, Topic, PublicKey (commerce_notification_v1_oas3).
 */
import type {
  CancelRec,
  DestinationRec,
  InventoryItemRec,
  LineRec,
  OfferRec,
  OrderRec,
  SellerRec,
  SubscriptionRec,
  TopicDef,
} from "./model";
import type { SigningKey } from "./signing";

const money = (value: number, currency: string) => ({ value: value.toFixed(2), currency });

export function itemQuantity(item: InventoryItemRec | undefined): number {
  const availability = item?.body.availability as
    { shipToLocationAvailability?: { quantity?: unknown } } | undefined;
  const quantity = availability?.shipToLocationAvailability?.quantity;
  return typeof quantity === "number" && Number.isFinite(quantity) ? quantity : 0;
}

export function inventoryItemPayload(item: InventoryItemRec): Record<string, unknown> {
  return { sku: item.sku, locale: item.locale, ...structuredClone(item.body) };
}

export function offerPayload(offer: OfferRec): Record<string, unknown> {
  return {
    offerId: offer.offerId,
    sku: offer.sku,
    marketplaceId: offer.marketplaceId,
    format: offer.format,
    ...(offer.availableQuantity === null ? {} : { availableQuantity: offer.availableQuantity }),
    categoryId: offer.categoryId,
    listingDescription: offer.listingDescription,
    listingDuration: "GTC",
    listingPolicies: structuredClone(offer.listingPolicies),
    merchantLocationKey: offer.merchantLocationKey,
    pricingSummary: { price: { ...offer.price } },
    hideBuyerDetails: false,
    includeCatalogProductDetails: true,
    status: offer.status,
    ...(offer.status === "PUBLISHED" && offer.listingId
      ? {
          listing: {
            listingId: offer.listingId,
            listingStatus: offer.listingStatus,
            soldQuantity: offer.soldQuantity,
          },
        }
      : {}),
  };
}

function cancelRequest(cancel: CancelRec) {
  return {
    cancelInitiator: cancel.initiator === "BUYER" ? "Buyer" : "Seller",
    cancelReason: cancel.reason,
    cancelRequestedDate: cancel.requestedAt,
    cancelRequestId: cancel.cancelRequestId,
    cancelRequestState: cancel.state,
    ...(cancel.state === "COMPLETED" && cancel.closedAt
      ? { cancelCompletedDate: cancel.closedAt }
      : {}),
  };
}

/** CancelStatus: `cancelRequests` is always empty in getOrders (spec), populated in getOrder. */
export function cancelStatusPayload(order: OrderRec, withRequests: boolean) {
  const cancel = order.cancel;
  const cancelState =
    cancel === null || cancel.state === "REJECTED"
      ? "NONE_REQUESTED"
      : cancel.state === "REQUESTED"
        ? "IN_PROGRESS"
        : "CANCELED";
  return {
    cancelState,
    ...(cancel?.state === "COMPLETED" && cancel.closedAt ? { cancelledDate: cancel.closedAt } : {}),
    cancelRequests: withRequests && cancel ? [cancelRequest(cancel)] : [],
  };
}

function lineTotal(line: LineRec): number {
  return Number(line.unitPrice) * line.quantity;
}

const BUYER_ADDRESS = {
  addressLine1: "2145 Hamilton Ave",
  city: "San Jose",
  stateOrProvince: "CA",
  postalCode: "95125",
  countryCode: "US",
};

function plusDays(iso: string, days: number): string {
  return new Date(Date.parse(iso) + days * 86_400_000).toISOString();
}

export function orderPayload(
  order: OrderRec,
  seller: SellerRec,
  withCancelRequests: boolean,
): Record<string, unknown> {
  const currency = order.currency;
  const subtotal = order.lines.reduce((sum, l) => sum + lineTotal(l), 0);
  const cancelled = order.cancel?.state === "COMPLETED";
  const lineStatus = order.fulfillmentStatus === "FULFILLED" ? "FULFILLED" : "NOT_STARTED";
  const minDelivery = plusDays(order.creationDate, 3);
  const maxDelivery = plusDays(order.creationDate, 7);
  return {
    orderId: order.orderId,
    creationDate: order.creationDate,
    lastModifiedDate: order.lastModifiedDate,
    orderFulfillmentStatus: order.fulfillmentStatus,
    orderPaymentStatus: order.paymentStatus,
    sellerId: seller.username,
    buyer: {
      username: order.buyerUsername,
      taxAddress: {
        stateOrProvince: BUYER_ADDRESS.stateOrProvince,
        postalCode: BUYER_ADDRESS.postalCode,
        countryCode: BUYER_ADDRESS.countryCode,
      },
    },
    pricingSummary: {
      priceSubtotal: money(subtotal, currency),
      deliveryCost: money(0, currency),
      total: money(subtotal, currency),
    },
    cancelStatus: cancelStatusPayload(order, withCancelRequests),
    paymentSummary: {
      totalDueSeller: money(cancelled ? 0 : subtotal, currency),
      refunds: cancelled
        ? [
            {
              refundDate: order.cancel?.closedAt ?? order.lastModifiedDate,
              amount: money(subtotal, currency),
              refundStatus: "REFUNDED",
            },
          ]
        : [],
      payments: [
        {
          paymentMethod: "EBAY",
          paymentDate: order.creationDate,
          amount: money(subtotal, currency),
          paymentStatus: "PAID",
        },
      ],
    },
    fulfillmentStartInstructions: [
      {
        fulfillmentInstructionsType: "SHIP_TO",
        minEstimatedDeliveryDate: minDelivery,
        maxEstimatedDeliveryDate: maxDelivery,
        ebaySupportedFulfillment: false,
        shippingStep: {
          shipTo: {
            fullName: "Sandbox Buyer",
            contactAddress: BUYER_ADDRESS,
            primaryPhone: { phoneNumber: "4085550100" },
            email: `${order.buyerUsername}@buyer.example`,
          },
          shippingCarrierCode: "USPS",
          shippingServiceCode: "USPSPriority",
        },
      },
    ],
    fulfillmentHrefs:
      order.fulfillmentStatus === "FULFILLED"
        ? [`/sell/fulfillment/v1/order/${order.orderId}/shipping_fulfillment/1`]
        : [],
    lineItems: order.lines.map((line) => ({
      lineItemId: line.lineItemId,
      legacyItemId: line.listingId,
      sku: line.sku,
      title: line.title,
      lineItemCost: money(lineTotal(line), currency),
      quantity: line.quantity,
      soldFormat: "FIXED_PRICE",
      listingMarketplaceId: order.marketplaceId,
      purchaseMarketplaceId: order.marketplaceId,
      lineItemFulfillmentStatus: lineStatus,
      total: money(lineTotal(line), currency),
      deliveryCost: { shippingCost: money(0, currency) },
      appliedPromotions: [],
      taxes: [],
      properties: { buyerProtection: true },
      lineItemFulfillmentInstructions: {
        minEstimatedDeliveryDate: minDelivery,
        maxEstimatedDeliveryDate: maxDelivery,
        shipByDate: plusDays(order.creationDate, 2),
        guaranteedDelivery: false,
      },
      itemLocation: { location: "San Jose", countryCode: "US", postalCode: "95125" },
      refunds: [],
    })),
    salesRecordReference: order.salesRecordReference,
    totalFeeBasisAmount: money(subtotal, currency),
    totalMarketplaceFee: money(Math.round(subtotal * 13.25) / 100, currency),
  };
}

const dateTime = (value: string) => ({ value });

/** Post-Order CancelSummary. */
export function cancelSummaryPayload(
  order: OrderRec,
  cancel: CancelRec,
  seller: SellerRec,
): Record<string, unknown> {
  const amount = order.lines.reduce((sum, l) => sum + lineTotal(l), 0);
  const [cancelState, cancelStatus, closeReason] =
    cancel.state === "REQUESTED"
      ? ["APPROVAL_PENDING", "CANCEL_REQUESTED", null]
      : cancel.state === "REJECTED"
        ? ["CLOSED", "CANCEL_REJECTED", "SELLER_DECLINE"]
        : ["CLOSED", "CANCEL_CLOSED_WITH_REFUND", "FULL_REFUNDED"];
  return {
    cancelId: cancel.cancelId,
    marketplaceId: order.marketplaceId,
    legacyOrderId: order.orderId,
    requestorType: cancel.initiator,
    cancelReason: cancel.reason,
    cancelState,
    cancelStatus,
    ...(closeReason ? { cancelCloseReason: closeReason } : {}),
    sellerLoginName: seller.username,
    buyerLoginName: order.buyerUsername,
    cancelRequestDate: dateTime(cancel.requestedAt),
    ...(cancel.closedAt ? { cancelCloseDate: dateTime(cancel.closedAt) } : {}),
    ...(cancel.sellerResponseDueDate && cancel.state === "REQUESTED"
      ? { sellerResponseDueDate: dateTime(cancel.sellerResponseDueDate) }
      : {}),
    paymentStatus: "PAID",
    requestRefundAmount: { value: Math.round(amount * 100) / 100, currency: order.currency },
    lineItems: order.lines.map((line) => ({
      itemId: line.listingId,
      transactionId: line.transactionId,
      itemTitle: line.title,
      cancelQuantity: line.quantity,
    })),
  };
}

export function topicPayload(topic: TopicDef): Record<string, unknown> {
  return {
    topicId: topic.topicId,
    description: topic.description,
    authorizationScopes: [...topic.authorizationScopes],
    status: topic.status,
    context: topic.context,
    scope: topic.scope,
    supportedPayloads: [
      {
        schemaVersion: topic.schemaVersion,
        format: ["JSON"],
        deliveryProtocol: "HTTPS",
        deprecated: false,
      },
    ],
  };
}

export function destinationPayload(d: DestinationRec): Record<string, unknown> {
  return {
    destinationId: d.destinationId,
    name: d.name,
    status: d.status,
    deliveryConfig: { endpoint: d.endpoint, verificationToken: d.verificationToken },
  };
}

export function subscriptionPayload(s: SubscriptionRec): Record<string, unknown> {
  return {
    subscriptionId: s.subscriptionId,
    topicId: s.topicId,
    status: s.status,
    creationDate: s.creationDate,
    payload: { ...s.payload },
    destinationId: s.destinationId,
  };
}

export function publicKeyPayload(key: SigningKey): Record<string, unknown> {
  return { algorithm: "ECDSA", digest: "SHA1", key: key.publicKeyField };
}

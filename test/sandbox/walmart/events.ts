/**
 * The Notifications API event catalog served by GET /v3/webhooks/eventTypes and accepted by
 * createSubscription. Resource names and versions from Walmart's event pages and samples:
 * PO_CREATED / PO_LINE_AUTOCANCELLED / INTENT_TO_CANCEL / ORDER_UPDATES (ORDER, V1),
 * OFFER_UNPUBLISHED (ITEM, V1), INVENTORY_OOS (INVENTORY, V1), BUY_BOX_CHANGED (PRICE, V1),
 * REPORT_STATUS (REPORTS, V1). The sandbox emits all but the last two.
 */

export type EventTypeRec = {
  resourceName: string;
  eventType: string;
  eventVersion: string;
  description: string;
};

export const EVENT_TYPES: readonly EventTypeRec[] = [
  {
    resourceName: "ITEM",
    eventType: "OFFER_UNPUBLISHED",
    eventVersion: "V1",
    description: "Notification for unpublished offers",
  },
  {
    resourceName: "PRICE",
    eventType: "BUY_BOX_CHANGED",
    eventVersion: "V1",
    description: "Notification for change in buy box",
  },
  {
    resourceName: "ORDER",
    eventType: "PO_CREATED",
    eventVersion: "V1",
    description: "Notification for new purchase order created",
  },
  {
    resourceName: "ORDER",
    eventType: "PO_LINE_AUTOCANCELLED",
    eventVersion: "V1",
    description: "Notification for purchase order line auto-cancelled",
  },
  {
    resourceName: "ORDER",
    eventType: "INTENT_TO_CANCEL",
    eventVersion: "V1",
    description: "Notification for order created with intent to cancel",
  },
  {
    resourceName: "ORDER",
    eventType: "ORDER_UPDATES",
    eventVersion: "V1",
    description:
      "Notification for order lifecycle updates (subEventType PO_CREATED, PO_LINE_AUTOCANCELLED, INTENT_TO_CANCEL, FRAUD_CANCEL)",
  },
  {
    resourceName: "INVENTORY",
    eventType: "INVENTORY_OOS",
    eventVersion: "V1",
    description: "Notification for item out of stock",
  },
  {
    resourceName: "REPORTS",
    eventType: "REPORT_STATUS",
    eventVersion: "V1",
    description: "Notification for report status",
  },
];

export const ORDER_SUB_EVENT_TYPES = [
  "PO_CREATED",
  "PO_LINE_AUTOCANCELLED",
  "INTENT_TO_CANCEL",
  "FRAUD_CANCEL",
] as const;
export type OrderSubEventType = (typeof ORDER_SUB_EVENT_TYPES)[number];

export function findEventType(eventType: string): EventTypeRec | undefined {
  return EVENT_TYPES.find((e) => e.eventType === eventType);
}

/**
 * The webhooks a store needs, as `shopify.app.toml` declares them for installed stores: each
 * topic (GraphQL enum form) and the route that handles it. A store connected with a token never
 * installs the app, so StockGuard creates these subscriptions on it itself
 * (`webhookSubscriptionCreate`), checks them on every reconciliation and recreates missing ones.
 * test/unit/shopify-subscriptions.test.ts keeps this list equal to shopify.app.toml.
 */
export const STORE_SUBSCRIPTIONS: { topic: string; path: string }[] = [
  { topic: "ORDERS_CREATE", path: "/webhooks/orders" },
  { topic: "ORDERS_UPDATED", path: "/webhooks/orders" },
  { topic: "ORDERS_EDITED", path: "/webhooks/orders" },
  { topic: "ORDERS_CANCELLED", path: "/webhooks/orders" },
  { topic: "REFUNDS_CREATE", path: "/webhooks/refunds" },
  { topic: "FULFILLMENTS_CREATE", path: "/webhooks/fulfillments" },
  { topic: "FULFILLMENTS_UPDATE", path: "/webhooks/fulfillments" },
  { topic: "INVENTORY_LEVELS_UPDATE", path: "/webhooks/inventory_levels/update" },
  { topic: "PRODUCTS_UPDATE", path: "/webhooks/catalog" },
  { topic: "INVENTORY_ITEMS_CREATE", path: "/webhooks/catalog" },
  { topic: "INVENTORY_ITEMS_DELETE", path: "/webhooks/catalog" },
];

/** `orders/create` (the toml and REST form) → `ORDERS_CREATE`. */
export function enumTopic(topic: string): string {
  return topic.replace(/[/.]/g, "_").toUpperCase();
}

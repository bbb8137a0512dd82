/**
 * Webhook topic vocabulary: the REST / `X-Shopify-Topic` name (`orders/create`), its GraphQL
 * `WebhookSubscriptionTopic` enum value (`ORDERS_CREATE`: upper case, `/` and `.` → `_`, the same
 * mapping as `topicForStorage` in @shopify/shopify-api), and the access scope an app needs to
 * subscribe to it (any one of the listed scopes; a `write_` scope implies its `read_`).
 *
 * A subset of Shopify's topics: every topic this server emits, plus the few around them an app
 * may reasonably ask for. A value outside the enum is refused by GraphQL itself, as on Shopify.
 */

/** REST topic → the scopes that allow a subscription to it (null: none needed). */
export const WEBHOOK_TOPICS: Readonly<Record<string, readonly string[] | null>> = {
  "app/uninstalled": null,
  "app/scopes_update": null,
  "shop/update": null,
  "bulk_operations/finish": null,
  "orders/create": ["read_orders"],
  "orders/updated": ["read_orders"],
  "orders/cancelled": ["read_orders"],
  "orders/edited": ["read_orders"],
  "orders/fulfilled": ["read_orders"],
  "orders/partially_fulfilled": ["read_orders"],
  "orders/paid": ["read_orders"],
  "orders/delete": ["read_orders"],
  "refunds/create": ["read_orders"],
  "fulfillments/create": ["read_fulfillments", "read_orders"],
  "fulfillments/update": ["read_fulfillments", "read_orders"],
  "inventory_levels/update": ["read_inventory"],
  "inventory_levels/connect": ["read_inventory"],
  "inventory_levels/disconnect": ["read_inventory"],
  "inventory_items/create": ["read_inventory", "read_products"],
  "inventory_items/update": ["read_inventory", "read_products"],
  "inventory_items/delete": ["read_inventory", "read_products"],
  "products/create": ["read_products"],
  "products/update": ["read_products"],
  "products/delete": ["read_products"],
  "locations/create": ["read_locations"],
  "locations/update": ["read_locations"],
  "locations/delete": ["read_locations"],
  "locations/activate": ["read_locations"],
  "locations/deactivate": ["read_locations"],
};

/** `orders/create` → `ORDERS_CREATE`. */
export function graphqlTopic(restTopic: string): string {
  return restTopic.toUpperCase().replace(/[/.]/g, "_");
}

const REST_BY_ENUM = new Map(Object.keys(WEBHOOK_TOPICS).map((t) => [graphqlTopic(t), t]));

/** `ORDERS_CREATE` → `orders/create`; null for a value outside the enum. */
export function restTopic(enumValue: string): string | null {
  return REST_BY_ENUM.get(enumValue) ?? null;
}

/** The GraphQL enum values, in table order. */
export function topicEnumValues(): string[] {
  return [...REST_BY_ENUM.keys()];
}

/** True when `scopes` holds `needed` or the `write_` scope that implies it. */
export function hasScope(scopes: readonly string[], needed: string): boolean {
  return (
    scopes.includes(needed) ||
    (needed.startsWith("read_") && scopes.includes(`write_${needed.slice(5)}`))
  );
}

/** The scope missing for a subscription to `restTopic`, or null when allowed. */
export function missingTopicScope(topic: string, scopes: readonly string[]): string | null {
  const needed = WEBHOOK_TOPICS[topic];
  if (!needed) return null;
  return needed.some((scope) => hasScope(scopes, scope)) ? null : (needed[0] ?? null);
}

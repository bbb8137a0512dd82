/**
 * `/webhooks/catalog` (shopify.app.toml): product and inventory-item changes, through the shared
 * Shopify inbound edge.
 */
import type { ActionFunctionArgs } from "@remix-run/node";
import { handleShopifyWebhook } from "../webhooks/shopify-inbound.server";

// Handled here: products/update, inventory_items/create, inventory_items/delete.
// Verify → validate → durable receipt → enqueue → 200; the ingest worker applies it.
export const action = ({ request }: ActionFunctionArgs) =>
  handleShopifyWebhook(request, [
    "products/update",
    "inventory_items/create",
    "inventory_items/delete",
  ]);

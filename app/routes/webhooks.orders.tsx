/** `/webhooks/orders` (shopify.app.toml): the order topics, through the shared Shopify inbound edge. */
import type { ActionFunctionArgs } from "@remix-run/node";
import { handleShopifyWebhook } from "../webhooks/shopify-inbound.server";

// Handled here: orders/create, orders/updated, orders/edited, orders/cancelled.
// Verify → validate → durable receipt → enqueue → 200; the ingest worker applies it.
export const action = ({ request }: ActionFunctionArgs) =>
  handleShopifyWebhook(request, [
    "orders/create",
    "orders/updated",
    "orders/edited",
    "orders/cancelled",
  ]);

/** `/webhooks/refunds` (shopify.app.toml): refunds, through the shared Shopify inbound edge. */
import type { ActionFunctionArgs } from "@remix-run/node";
import { handleShopifyWebhook } from "../webhooks/shopify-inbound.server";

// Handled here: refunds/create.
// Verify → validate → durable receipt → enqueue → 200; the ingest worker applies it.
export const action = ({ request }: ActionFunctionArgs) =>
  handleShopifyWebhook(request, ["refunds/create"]);

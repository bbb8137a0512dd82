/**
 * `/webhooks/inventory_levels/update` (shopify.app.toml): level observations, which the shared
 * Shopify inbound edge settles in the request rather than through the ingest worker (decision 0004).
 */
import type { ActionFunctionArgs } from "@remix-run/node";
import { handleShopifyWebhook } from "../webhooks/shopify-inbound.server";

export const action = ({ request }: ActionFunctionArgs) =>
  handleShopifyWebhook(request, ["inventory_levels/update"]);

/**
 * `/webhooks/<amazon|ebay|walmart>/<connection id>`: a marketplace's pushed notifications for one
 * connection (POST), and its endpoint handshakes (eBay's GET challenge). Verified the way that
 * marketplace signs; see app/webhooks/marketplace-inbound.server.ts.
 */
import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { handleMarketplaceDelivery } from "../webhooks/marketplace-inbound.server";

export const action = ({ request, params }: ActionFunctionArgs) =>
  handleMarketplaceDelivery(request, params);

export const loader = ({ request, params }: LoaderFunctionArgs) =>
  handleMarketplaceDelivery(request, params);

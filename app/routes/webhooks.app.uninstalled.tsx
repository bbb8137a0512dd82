import type { ActionFunctionArgs } from "@remix-run/node";
import { recordUninstall } from "../services/shops.server";
import { authenticateWebhook } from "../webhooks/authenticate.server";
import { log } from "../logger.server";

// Handled here: app/uninstalled. It may arrive more than once, and after shop/redact erased the
// shop; recordUninstall is idempotent and does nothing for an unknown shop.
export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop, webhookId } = await authenticateWebhook(request);
  const result = await recordUninstall(shop);
  log({ shop, webhookId, ...result }).info("app uninstalled");
  return new Response(null, { status: 200 });
};

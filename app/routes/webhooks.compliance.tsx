import type { ActionFunctionArgs } from "@remix-run/node";
import {
  handleCustomersDataRequest,
  handleCustomersRedact,
  handleShopRedact,
  ZCustomersDataRequest,
  ZCustomersRedact,
  ZShopRedact,
} from "../services/compliance.server";
import { log } from "../logger.server";
import { authenticateWebhook, badPayload } from "../webhooks/authenticate.server";

// Handled here: customers/data_request, customers/redact, shop/redact (compliance_topics in
// shopify.app.toml). HMAC-verified by authenticateWebhook; invalid signatures get 401.
export const action = async ({ request }: ActionFunctionArgs) => {
  const { topic, shop, webhookId, payload } = await authenticateWebhook(request);
  const logger = log({ shop, webhookId, topic });
  switch (topic) {
    case "CUSTOMERS_DATA_REQUEST": {
      const parsed = ZCustomersDataRequest.safeParse(payload);
      if (!parsed.success) return badPayload(parsed.error.issues[0]?.message ?? "invalid");
      const result = await handleCustomersDataRequest(shop, webhookId, parsed.data);
      logger.info(result, "customer data request handled");
      break;
    }
    case "CUSTOMERS_REDACT": {
      const parsed = ZCustomersRedact.safeParse(payload);
      if (!parsed.success) return badPayload(parsed.error.issues[0]?.message ?? "invalid");
      const result = await handleCustomersRedact(shop, webhookId, parsed.data);
      logger.info(result, "customer redaction handled");
      break;
    }
    case "SHOP_REDACT": {
      const parsed = ZShopRedact.safeParse(payload);
      if (!parsed.success) return badPayload(parsed.error.issues[0]?.message ?? "invalid");
      const result = await handleShopRedact(shop, webhookId, parsed.data);
      logger.info(result, "shop redaction handled");
      break;
    }
    default:
      return badPayload(`unexpected topic ${topic} on the compliance route`);
  }
  return new Response(null, { status: 200 });
};

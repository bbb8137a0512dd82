/**
 * The compliance topics (customers/data_request, customers/redact, shop/redact; compliance_topics
 * in shopify.app.toml). HMAC-verified by authenticateWebhook (401 otherwise). The payload names
 * its shop: it must be the header's, or a replayed body could erase another shop's data.
 */
import type { ActionFunctionArgs } from "@remix-run/node";
import { log } from "../logger.server";
import {
  handleCustomersDataRequest,
  handleCustomersRedact,
  handleShopRedact,
  ZCustomersDataRequest,
  ZCustomersRedact,
  ZShopRedact,
} from "../services/compliance.server";
import { authenticateWebhook, badPayload, sameShop } from "../webhooks/authenticate.server";

const mismatch = () =>
  new Response(null, { status: 401, statusText: "shop header does not match payload" });

export const action = async ({ request }: ActionFunctionArgs) => {
  const { topic, shop, webhookId, payload } = await authenticateWebhook(request);
  const logger = log({ shop, webhookId, topic });
  switch (topic) {
    case "CUSTOMERS_DATA_REQUEST": {
      const parsed = ZCustomersDataRequest.safeParse(payload);
      if (!parsed.success) return badPayload(parsed.error.issues[0]?.message ?? "invalid");
      if (!sameShop(shop, parsed.data.shop_domain)) return mismatch();
      const result = await handleCustomersDataRequest(shop, webhookId, parsed.data);
      logger.info(result, "customer data request handled");
      break;
    }
    case "CUSTOMERS_REDACT": {
      const parsed = ZCustomersRedact.safeParse(payload);
      if (!parsed.success) return badPayload(parsed.error.issues[0]?.message ?? "invalid");
      if (!sameShop(shop, parsed.data.shop_domain)) return mismatch();
      const result = await handleCustomersRedact(shop, webhookId, parsed.data);
      logger.info(result, "customer redaction handled");
      break;
    }
    case "SHOP_REDACT": {
      const parsed = ZShopRedact.safeParse(payload);
      if (!parsed.success) return badPayload(parsed.error.issues[0]?.message ?? "invalid");
      if (!sameShop(shop, parsed.data.shop_domain)) return mismatch();
      const result = await handleShopRedact(shop, webhookId, parsed.data);
      logger.info(result, "shop redaction handled");
      break;
    }
    default:
      return badPayload(`unexpected topic ${topic} on the compliance route`);
  }
  return new Response(null, { status: 200 });
};

/**
 * `app/uninstalled` (shopify.app.toml). It may arrive more than once, and after shop/redact erased
 * the shop; recordUninstall is idempotent and does nothing for an unknown shop. The payload is
 * the shop: its domain must be the header's (the HMAC covers the body only).
 */
import type { ActionFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { log } from "../logger.server";
import { recordUninstall } from "../services/shops.server";
import { authenticateWebhook, badPayload, sameShop } from "../webhooks/authenticate.server";

const ZUninstalled = z
  .object({ myshopify_domain: z.string().optional(), domain: z.string().optional() })
  .loose();

export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop, webhookId, payload } = await authenticateWebhook(request);
  const parsed = ZUninstalled.safeParse(payload);
  if (!parsed.success) return badPayload("the payload is not a shop");
  const named = parsed.data.myshopify_domain ?? parsed.data.domain;
  if (named !== undefined && !sameShop(shop, named))
    return new Response(null, { status: 401, statusText: "shop header does not match payload" });
  const result = await recordUninstall(shop);
  log({ shop, webhookId, ...result }).info("app uninstalled");
  return new Response(null, { status: 200 });
};

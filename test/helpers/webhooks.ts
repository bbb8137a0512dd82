import { createHmac, randomUUID } from "node:crypto";

export type WebhookOptions = {
  topic: string;
  shop: string;
  body: unknown;
  secret?: string;
  eventId?: string;
  webhookId?: string;
  apiVersion?: string;
  /** Sign with this secret instead (a wrong signature). */
  signWith?: string;
  unsigned?: boolean;
  rawBody?: string;
  url?: string;
};

export function hmac(body: string, secret: string): string {
  return createHmac("sha256", secret).update(body, "utf8").digest("base64");
}

/** A webhook request exactly as Shopify sends it: raw JSON body and every standard header. */
export function shopifyWebhookRequest(options: WebhookOptions): Request {
  const secret = options.secret ?? process.env.SHOPIFY_API_SECRET ?? "test-api-secret";
  const raw = options.rawBody ?? JSON.stringify(options.body);
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "X-Shopify-Topic": options.topic,
    "X-Shopify-Shop-Domain": options.shop,
    "X-Shopify-API-Version": options.apiVersion ?? "2026-10",
    "X-Shopify-Webhook-Id": options.webhookId ?? randomUUID(),
    "X-Shopify-Event-Id": options.eventId ?? randomUUID(),
    "X-Shopify-Triggered-At": new Date().toISOString(),
  };
  if (!options.unsigned) headers["X-Shopify-Hmac-Sha256"] = hmac(raw, options.signWith ?? secret);
  return new Request(options.url ?? "https://stockguard.test/webhooks", {
    method: "POST",
    headers,
    body: raw,
  });
}

import { env, shopifyEnv } from "../env.server";

/**
 * The sandbox (the demo on a machine with no Shopify) signs in to the embedded admin without
 * Shopify's admin around it. Only when BOTH are set: STOCKGUARD_SANDBOX=1 and
 * SHOPIFY_ADMIN_API_ORIGIN (every Admin API call goes to a local Shopify). A production
 * deployment sets neither, and these routes answer 404 there.
 */
export function sandboxEnabled(): boolean {
  return process.env.STOCKGUARD_SANDBOX === "1" && Boolean(env().SHOPIFY_ADMIN_API_ORIGIN);
}

export function requireSandbox(): void {
  if (!sandboxEnabled()) throw new Response("Not Found", { status: 404 });
}

export function sandboxCredentials() {
  const config = shopifyEnv();
  return { apiKey: config.SHOPIFY_API_KEY, apiSecret: config.SHOPIFY_API_SECRET };
}

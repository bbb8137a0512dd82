/**
 * The sandbox (the demo on a machine with no Shopify) signs in to the embedded admin without
 * Shopify's admin around it. Only when ALL hold: STOCKGUARD_SANDBOX=1, not production (the
 * process refuses to start with both), and SHOPIFY_ADMIN_API_ORIGIN on this machine (every Admin
 * API call goes to a local Shopify). Otherwise the sandbox routes answer 404 (`requireSandbox`).
 */
import { env, shopifyEnv } from "../env.server";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

export function sandboxEnabled(): boolean {
  const config = env();
  if (config.STOCKGUARD_SANDBOX !== "1" || config.NODE_ENV === "production") return false;
  const origin = config.SHOPIFY_ADMIN_API_ORIGIN;
  return origin !== undefined && LOOPBACK.has(new URL(origin).hostname);
}

export function requireSandbox(): void {
  if (!sandboxEnabled()) throw new Response("Not Found", { status: 404 });
}

export function sandboxCredentials() {
  const config = shopifyEnv();
  return { apiKey: config.SHOPIFY_API_KEY, apiSecret: config.SHOPIFY_API_SECRET };
}

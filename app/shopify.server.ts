/**
 * The one composition root for Shopify (template shape). Web routes and workers import the
 * same instance, so session storage and token refresh behave alike in both processes.
 */
import "@shopify/shopify-app-remix/adapters/node";
import { ApiVersion, AppDistribution, shopifyApp } from "@shopify/shopify-app-remix/server";
import {
  installAdminApiOriginRewrite,
  SHOPIFY_API_VERSION,
} from "./channels/shopify/admin-url.server";
import { env, shopifyEnv } from "./env.server";
import { log } from "./logger.server";
import { SealedSessionStorage } from "./repositories/sessions.server";
import { installFromShopify } from "./services/shops.server";

const config = shopifyEnv();
installAdminApiOriginRewrite(env().SHOPIFY_ADMIN_API_ORIGIN);

if (ApiVersion.October26 !== SHOPIFY_API_VERSION) {
  throw new Error(`Admin API version mismatch: ${ApiVersion.October26} vs ${SHOPIFY_API_VERSION}`);
}

const shopify = shopifyApp({
  apiKey: config.SHOPIFY_API_KEY,
  apiSecretKey: config.SHOPIFY_API_SECRET,
  apiVersion: ApiVersion.October26,
  scopes: config.SCOPES,
  appUrl: config.SHOPIFY_APP_URL,
  authPathPrefix: "/auth",
  // Admin API tokens are sealed at rest (AES-256-GCM, STOCKGUARD_ENCRYPTION_KEY).
  sessionStorage: new SealedSessionStorage(),
  distribution: AppDistribution.AppStore,
  useOnlineTokens: false,
  future: {
    unstable_newEmbeddedAuthStrategy: true,
    expiringOfflineAccessTokens: true,
  },
  hooks: {
    afterAuth: async ({ session }) => {
      await installFromShopify(session.shop);
      log({ shop: session.shop }).info("shop authenticated");
    },
  },
  logger: { level: env().LOG_LEVEL === "debug" || env().LOG_LEVEL === "trace" ? 3 : 0 },
});

export default shopify;
export const apiVersion = ApiVersion.October26;
export const addDocumentResponseHeaders = shopify.addDocumentResponseHeaders;
export const authenticate = shopify.authenticate;
export const unauthenticated = shopify.unauthenticated;
export const login = shopify.login;
export const registerWebhooks = shopify.registerWebhooks;
export const sessionStorage = shopify.sessionStorage;

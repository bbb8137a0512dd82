/**
 * Environment every test starts from. Secrets here are test-only values; tests that need other
 * values set them and call resetEnvCache().
 */
process.env.NODE_ENV = "test";
process.env.LOG_LEVEL ??= "silent";
process.env.SHOPIFY_API_KEY ??= "test-api-key";
process.env.SHOPIFY_API_SECRET ??= "test-api-secret";
process.env.SHOPIFY_APP_URL ??= "https://stockguard.test";
process.env.SCOPES ??= "read_inventory,write_inventory,read_locations,read_orders,read_products";
process.env.STOCKGUARD_ENCRYPTION_KEY ??= Buffer.alloc(32, 7).toString("base64");

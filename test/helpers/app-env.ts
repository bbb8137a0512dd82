import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");

/**
 * The environment of a StockGuard process (web, worker, CLI) started by a test: production mode
 * (development for the sandbox sign-in),
 * the given database, Redis, queue prefix and Shopify app credentials, Node 22 from node_modules
 * first on PATH, and none of vitest's own variables (the process must not think it is a test).
 */
export function appProcessEnv(settings: {
  port: number;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  apiKey: string;
  apiSecret: string;
  encryptionKey: string;
  /** `development` for the sandbox (its sign-in is refused in production). */
  nodeEnv?: "production" | "development";
  extra?: Record<string, string | undefined>;
}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: settings.nodeEnv ?? "production",
    PORT: String(settings.port),
    DATABASE_URL: settings.databaseUrl,
    REDIS_URL: settings.redisUrl,
    QUEUE_PREFIX: settings.queuePrefix,
    SHOPIFY_API_KEY: settings.apiKey,
    SHOPIFY_API_SECRET: settings.apiSecret,
    SHOPIFY_APP_URL: `http://127.0.0.1:${settings.port}`,
    SCOPES: "read_inventory,write_inventory,read_locations,read_orders,read_products",
    STOCKGUARD_ENCRYPTION_KEY: settings.encryptionKey,
    LOG_LEVEL: "warn",
    PATH: `${path.join(ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
    ...settings.extra,
  };
  delete env.VITEST;
  delete env.VITEST_POOL_ID;
  delete env.VITEST_WORKER_ID;
  return env;
}

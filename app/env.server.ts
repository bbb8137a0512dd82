/**
 * Configuration, parsed once from `process.env` and shared by web, worker and CLI.
 *
 * Names are a public contract (`../shared/docs/SANDBOX.md`); keep them stable and documented in
 * the README's configuration table. A missing or malformed variable stops the process at start
 * with a message that names it, instead of a stack trace on the first request.
 */
import { z } from "zod";

const urlString = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${protocols.join(" or ")})` },
  );

const intString = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const ZBaseEnv = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: urlString(["postgresql:", "postgres:"]).default(
    "postgresql://postgres:postgres@127.0.0.1:5432/stockguard",
  ),
  REDIS_URL: urlString(["redis:", "rediss:"]).default("redis://127.0.0.1:6379"),
  PORT: intString(1, 65535).default(3000),
  /**
   * Web processes sharing PORT (node:cluster). One Node process acknowledges a few hundred
   * webhooks a second; a flood needs more than one core's worth. 1: no cluster.
   */
  WEB_CONCURRENCY: intString(1, 32).default(1),
  /**
   * Stored receipts a web process applies itself, at once, instead of enqueuing them (its fast
   * lane; one shop takes all but two of them, decision 0026). 0: every receipt goes through the
   * ingest queue.
   */
  WEB_INGEST_SLOTS: intString(0, 64).default(8),
  /**
   * Flood-topic webhooks (orders, levels, refunds, fulfillments) a web process handles at once;
   * the rest wait, orders, refunds and fulfillments before level updates (decision 0025). Shopify
   * reuses kept-alive connections and sends on many at once: unbounded, a burst is all inside the
   * process together, every delivery slower and the creation an orders/updated waits for
   * (decision 0017) not applied in time.
   */
  WEB_WEBHOOK_CONCURRENCY: intString(1, 1024).default(8),
  /**
   * Synthetic orders a new web process applies, in transactions it rolls back, before it listens,
   * so its first real ones are not applied cold (decision 0022). 0: no warm-up.
   */
  WEB_WARM_UP_ORDERS: intString(0, 100_000).default(600),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Prefix of every BullMQ key; use a hash tag such as `{sg}` on Redis Cluster. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_{}-]+$/, "letters, digits, _ - { } only")
    .default("stockguard"),
  /** 32 bytes, base64 or hex; encrypts channel credentials at rest. Required in production. */
  STOCKGUARD_ENCRYPTION_KEY: z.string().optional(),
  /** Rewrites `https://{shop}/admin/…` to `{origin}/{shop}/admin/…` (sandbox). */
  SHOPIFY_ADMIN_API_ORIGIN: urlString(["http:", "https:"]).optional(),
  /** How long a burst of changes is collected before one write per listing (ms). */
  PUSH_COALESCE_MS: intString(0, 60_000).default(200),
  /**
   * How long an unexplained drop on a channel (seen by webhook or read, not caused by us) waits
   * for the order that explains it before StockGuard raises the channel back (ms).
   */
  PUSH_SETTLE_MS: intString(0, 3_600_000).default(10_000),
  /**
   * How a store that sells is written where the channel allows both: `relative` (a change from
   * what StockGuard believes it shows; a sale it makes meanwhile is kept, and the answer says
   * what it shows after) or `compare_and_set` (an absolute number, refused if the store moved
   * meanwhile, then read and planned again).
   */
  PUSH_WRITES: z.enum(["relative", "compare_and_set"]).default("relative"),
  /** Concurrency of each worker process, per queue. */
  WORKER_CONCURRENCY: intString(1, 256).default(8),
  /** Port of the worker's own /metrics and /healthz (0 disables). */
  WORKER_METRICS_PORT: intString(0, 65535).default(9464),
  /** Interface the worker's metrics server listens on (loopback unless told otherwise). */
  WORKER_METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  /**
   * Bearer token a scraper sends to `/metrics` (web, and the worker's port when set). Without
   * it the web's `/metrics` answers 404: metrics name shops and connections.
   */
  STOCKGUARD_METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /** Largest inbound webhook body accepted (bytes); larger ones get 413 before being read. */
  WEBHOOK_MAX_BYTES: intString(1_024, 64 * 1024 * 1024).default(1024 * 1024),
  /** `1` enables the sandbox sign-in (demo); refused in production and for non-local origins. */
  STOCKGUARD_SANDBOX: z.enum(["0", "1"]).optional(),
  /** Interval of the scheduled reconciliation per connection (ms). */
  RECONCILE_INTERVAL_MS: intString(1_000, 86_400_000).default(900_000),
  /**
   * How long an item must be quiet (no movement, nothing of its shop pending) before a shortfall
   * seen on it is confirmed as an oversell incident or explained away (ms).
   */
  INCIDENT_SETTLE_MS: intString(0, 3_600_000).default(5_000),
  /** Low stock across channels: what is left lasts this many days or fewer (0: never low). */
  LOW_STOCK_COVER_DAYS: intString(0, 365).default(7),
  /** SMTP server alerts are e-mailed through (smtp:// or smtps://, credentials in the URL). */
  SMTP_URL: urlString(["smtp:", "smtps:"]).optional(),
  /** Sender address of alert e-mails. */
  ALERT_FROM: z.string().min(3).default("StockGuard <alerts@stockguard.invalid>"),
});

const ZShopifyEnv = z.object({
  SHOPIFY_API_KEY: z.string().min(1),
  SHOPIFY_API_SECRET: z.string().min(1),
  SHOPIFY_APP_URL: urlString(["http:", "https:"]),
  SCOPES: z
    .string()
    .min(1)
    .transform((s) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    ),
});

export type BaseEnv = z.infer<typeof ZBaseEnv>;
export type ShopifyEnv = z.infer<typeof ZShopifyEnv>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function emptyToUndefined(
  source: Record<string, string | undefined>,
): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(source).map(([k, v]) => [k, v === "" ? undefined : v]));
}

function parse<T extends z.ZodType>(
  schema: T,
  source: Record<string, string | undefined>,
): z.infer<T> {
  const result = schema.safeParse(emptyToUndefined(source));
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const name = issue.path.join(".") || "(environment)";
    const missing = issue.code === "invalid_type" && issue.input === undefined;
    return missing ? `${name} is required but not set` : `${name} ${issue.message}`;
  });
  throw new ConfigError(issues);
}

export function parseBaseEnv(source: Record<string, string | undefined> = process.env): BaseEnv {
  const env = parse(ZBaseEnv, source);
  if (env.NODE_ENV === "production" && !env.STOCKGUARD_ENCRYPTION_KEY) {
    throw new ConfigError([
      "STOCKGUARD_ENCRYPTION_KEY is required in production (32 bytes, base64 or hex)",
    ]);
  }
  if (env.NODE_ENV === "production" && env.STOCKGUARD_SANDBOX === "1") {
    throw new ConfigError([
      "STOCKGUARD_SANDBOX=1 is refused in production: the sandbox signs anyone in to any shop",
    ]);
  }
  return env;
}

export function parseShopifyEnv(
  source: Record<string, string | undefined> = process.env,
): ShopifyEnv {
  return parse(ZShopifyEnv, source);
}

/**
 * Turns a configuration error into a one-paragraph message and exit code 1. Used by process
 * entry points (web, worker, CLI) so a bad deployment fails at start with a readable reason.
 */
export function exitOnConfigError<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError && process.env.VITEST === undefined) {
      process.stderr.write(`StockGuard cannot start. ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

let cachedBase: BaseEnv | undefined;
let cachedShopify: ShopifyEnv | undefined;

export function env(): BaseEnv {
  cachedBase ??= exitOnConfigError(() => parseBaseEnv());
  return cachedBase;
}

export function shopifyEnv(): ShopifyEnv {
  cachedShopify ??= exitOnConfigError(() => parseShopifyEnv());
  return cachedShopify;
}

/** Tests change `process.env` between cases; this forgets the parsed values. */
export function resetEnvCache(): void {
  cachedBase = undefined;
  cachedShopify = undefined;
}

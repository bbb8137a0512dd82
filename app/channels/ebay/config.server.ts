/**
 * The eBay application's configuration (one eBay developer application serves every seller):
 * read with zod from `process.env` the first time the channel is used, so a deployment without
 * eBay never needs these variables, and one that uses eBay without them fails with a message
 * naming each missing variable.
 */
import { z } from "zod";
import { ChannelPermanentError } from "../errors";

/** Scopes StockGuard asks a seller to grant (consent page). */
export const DEFAULT_SCOPES = [
  "https://api.ebay.com/oauth/api_scope",
  "https://api.ebay.com/oauth/api_scope/sell.inventory",
  "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
  "https://api.ebay.com/oauth/api_scope/commerce.notification.subscription",
  "https://api.ebay.com/oauth/api_scope/commerce.identity.readonly",
];

/** The API families StockGuard calls, each with its own daily call limit. */
export const API_GROUPS = ["inventory", "fulfillment", "notification", "identity"] as const;
export type ApiGroup = (typeof API_GROUPS)[number];

/**
 * Daily calls per seller account and API family. eBay publishes per-application daily limits
 * (Notification API 10,000 [V]; the Sell rows are not confirmed, historically 5,000 before the
 * Application Growth Check and far more after): these defaults are a guess, set
 * `EBAY_DAILY_CALL_LIMITS` to the application's real quota.
 */
export const DEFAULT_DAILY_LIMITS: Record<ApiGroup, number> = {
  inventory: 100_000,
  fulfillment: 100_000,
  notification: 10_000,
  identity: 5_000,
};

const intString = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const ZEbayEnv = z.object({
  /** App ID (client id) of the eBay developer application. */
  EBAY_CLIENT_ID: z.string().min(1),
  /** Cert ID (client secret). */
  EBAY_CLIENT_SECRET: z.string().min(1),
  /** RuName ("eBay Redirect URL name"): its accept URL must be `<app>/connect/ebay/callback`. */
  EBAY_RU_NAME: z.string().min(1),
  /** Verification token of notification destinations (eBay: 32–80 of A–Z a–z 0–9 _ -). */
  EBAY_VERIFICATION_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9_-]{32,80}$/, "must be 32 to 80 letters, digits, _ or -"),
  /** Alert email eBay requires before the first notification destination (Notification config). */
  EBAY_ALERT_EMAIL: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+$/, "must be an email address")
    .optional(),
  /** `production` (api.ebay.com) or `sandbox` (api.sandbox.ebay.com); `--api-base-url` wins. */
  EBAY_ENVIRONMENT: z.enum(["production", "sandbox"]).default("production"),
  /** Space-separated OAuth scopes to request (default: DEFAULT_SCOPES). */
  EBAY_SCOPES: z
    .string()
    .transform((s) => s.split(/\s+/).filter(Boolean))
    .optional(),
  /** How often each connection's orders are polled for cancellations and missed events. */
  EBAY_POLL_INTERVAL_MS: intString(500, 86_400_000).default(60_000),
  /** `inventory=N,fulfillment=N,notification=N,identity=N`: daily calls per seller and API. */
  EBAY_DAILY_CALL_LIMITS: z
    .string()
    .transform((value, ctx) => {
      const limits: Partial<Record<ApiGroup, number>> = {};
      for (const part of value
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean)) {
        const [name, count] = part.split("=").map((s) => s.trim());
        if (!API_GROUPS.includes(name as ApiGroup) || !/^\d+$/.test(count ?? "")) {
          ctx.addIssue({
            code: "custom",
            message: `must be ${API_GROUPS.map((g) => `${g}=N`).join(",")} (got ${part})`,
          });
          return z.NEVER;
        }
        limits[name as ApiGroup] = Math.max(1, Number(count));
      }
      return limits;
    })
    .optional(),
});

export type EbayConfig = {
  clientId: string;
  clientSecret: string;
  ruName: string;
  verificationToken: string;
  alertEmail: string | null;
  environment: "production" | "sandbox";
  scopes: string[];
  pollIntervalMs: number;
  dailyLimits: Record<ApiGroup, number>;
};

let cached: EbayConfig | undefined;

/** Parses the eBay variables of `source`; throws naming every missing or malformed one. */
export function parseEbayConfig(
  source: Record<string, string | undefined> = process.env,
): EbayConfig {
  const input = Object.fromEntries(
    Object.entries(source)
      .filter(([key]) => key.startsWith("EBAY_"))
      .map(([key, value]) => [key, value === "" ? undefined : value]),
  );
  const parsed = ZEbayEnv.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const name = issue.path.join(".") || "(environment)";
      return issue.code === "invalid_type" && issue.input === undefined
        ? `${name} is required but not set`
        : `${name} ${issue.message}`;
    });
    throw new ChannelPermanentError(`the eBay channel is not configured: ${issues.join("; ")}`, {
      variables: parsed.error.issues.map((i) => i.path.join(".")),
    });
  }
  const e = parsed.data;
  return {
    clientId: e.EBAY_CLIENT_ID,
    clientSecret: e.EBAY_CLIENT_SECRET,
    ruName: e.EBAY_RU_NAME,
    verificationToken: e.EBAY_VERIFICATION_TOKEN,
    alertEmail: e.EBAY_ALERT_EMAIL ?? null,
    environment: e.EBAY_ENVIRONMENT,
    scopes: e.EBAY_SCOPES && e.EBAY_SCOPES.length > 0 ? e.EBAY_SCOPES : DEFAULT_SCOPES,
    pollIntervalMs: e.EBAY_POLL_INTERVAL_MS,
    dailyLimits: { ...DEFAULT_DAILY_LIMITS, ...e.EBAY_DAILY_CALL_LIMITS },
  };
}

/** The eBay configuration of this process (parsed once). */
export function ebayConfig(): EbayConfig {
  cached ??= parseEbayConfig();
  return cached;
}

/** Tests change `process.env` between cases. */
export function resetEbayConfig(): void {
  cached = undefined;
}

/** eBay's hosts; a connection's `apiBaseUrl` (the local eBay) replaces all of them. */
export type EbayHosts = { api: string; apiz: string; auth: string };

export function ebayHosts(apiBaseUrl: string | null, environment = ebayConfig().environment) {
  if (apiBaseUrl) {
    const origin = apiBaseUrl.replace(/\/+$/, "");
    return { api: origin, apiz: origin, auth: origin } satisfies EbayHosts;
  }
  return environment === "sandbox"
    ? {
        api: "https://api.sandbox.ebay.com",
        apiz: "https://apiz.sandbox.ebay.com",
        auth: "https://auth.sandbox.ebay.com",
      }
    : { api: "https://api.ebay.com", apiz: "https://apiz.ebay.com", auth: "https://auth.ebay.com" };
}

/**
 * The Amazon channel's app-level configuration (one Login with Amazon application and one AWS
 * notification queue serve every seller), read with zod from `process.env` the first time the
 * channel is used — processes that never touch Amazon need none of it. A missing or malformed
 * variable fails with a message naming it. The LWA client secret expires 180 days after it was
 * issued: its age (`AMAZON_LWA_SECRET_ROTATED_AT`) is checked and a warning logged when the
 * rotation is due; the secret itself is never logged.
 */
import { z } from "zod";
import { log } from "../../logger.server";
import { ChannelPermanentError } from "../errors";

/** LWA refuses a client secret this long after it was issued (rotate before). */
export const SECRET_MAX_AGE_DAYS = 180;
/** Warn this many days before the secret expires. */
export const SECRET_WARN_DAYS = 30;

const boolString = z.enum(["0", "1", "true", "false"]).transform((v) => v === "1" || v === "true");

const optionalUrl = z.preprocess(
  (v) => (v === "" ? undefined : v),
  z.url({ message: "must be a URL" }).optional(),
);

const ZAmazonEnv = z.object({
  /** LWA client identifier of the SP-API application (Developer Central, "LWA credentials"). */
  AMAZON_LWA_CLIENT_ID: z.string().min(1, "is required (the LWA client id of the SP-API app)"),
  /** LWA client secret; rotates every 180 days. */
  AMAZON_LWA_CLIENT_SECRET: z
    .string()
    .min(1, "is required (the LWA client secret of the SP-API app)"),
  /** When the current client secret was issued (ISO date); its age is checked and reported. */
  AMAZON_LWA_SECRET_ROTATED_AT: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === "" || !Number.isNaN(Date.parse(v)), {
      message: "must be an ISO date (when the LWA client secret was issued)",
    }),
  /** The SP-API application id (`amzn1.sp.solution.…`), the consent URL's `application_id`. */
  AMAZON_APPLICATION_ID: z
    .string()
    .min(1, "is required (the SP-API application id, amzn1.sp.solution.…)"),
  /** Draft applications must add `version=beta` to the consent URL (default: draft). */
  AMAZON_APPLICATION_DRAFT: boolString.default(true),
  /**
   * Seller Central origin of the consent page (default https://sellercentral.amazon.com; EU
   * sellers https://sellercentral-europe.amazon.com, Japan https://sellercentral.amazon.co.jp …).
   */
  AMAZON_SELLER_CENTRAL_URL: optionalUrl,
  /** LWA token endpoint (default https://api.amazon.com/auth/o2/token). */
  AMAZON_LWA_TOKEN_URL: optionalUrl,
  /** The shared SQS queue ORDER_CHANGE notifications are sent to. */
  AMAZON_SQS_QUEUE_URL: optionalUrl,
  /** A second queue, when the EventBridge rule (MFN quantity changes) targets another one. */
  AMAZON_SQS_EVENTBRIDGE_QUEUE_URL: optionalUrl,
  AMAZON_SQS_REGION: z.string().min(1).default("us-east-1"),
  /** SQS endpoint override (the local SQS-compatible server in tests). */
  AMAZON_SQS_ENDPOINT: optionalUrl,
  /** Long-poll wait of each ReceiveMessage, seconds (short: a notification is seen within ~1 s). */
  AMAZON_SQS_WAIT_SECONDS: z
    .string()
    .regex(/^\d+$/, "must be a whole number of seconds")
    .transform(Number)
    .pipe(z.number().int().min(0).max(20))
    .default(1),
  /**
   * AWS credentials that may receive from and delete on the queue; without them the AWS SDK's
   * default chain (AWS_ACCESS_KEY_ID, instance roles, …) is used.
   */
  AMAZON_AWS_ACCESS_KEY_ID: z.string().optional(),
  AMAZON_AWS_SECRET_ACCESS_KEY: z.string().optional(),
  AMAZON_AWS_SESSION_TOKEN: z.string().optional(),
  /**
   * Comma-separated SQS `SenderId`s accepted (the principal SP-API notifications are sent by);
   * messages from any other sender are deleted unstored. Unset: the queue policy alone decides.
   */
  AMAZON_SQS_ALLOWED_SENDER_IDS: z
    .string()
    .optional()
    .transform((v) =>
      v
        ? v
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean)
        : null,
    ),
  /**
   * The AWS account (and region) whose EventBridge partner bus receives
   * LISTINGS_ITEM_MFN_QUANTITY_CHANGE; when set, connecting a seller subscribes it too.
   */
  AMAZON_EVENTBRIDGE_ACCOUNT_ID: z
    .string()
    .regex(/^\d{12}$/, "must be a 12-digit AWS account id")
    .optional(),
  AMAZON_EVENTBRIDGE_REGION: z.string().min(1).optional(),
});

export type AmazonConfig = Omit<z.infer<typeof ZAmazonEnv>, "AMAZON_LWA_SECRET_ROTATED_AT"> & {
  AMAZON_LWA_SECRET_ROTATED_AT: Date | null;
};

let cached: AmazonConfig | undefined;

/** The configuration, parsed once; throws a message naming every bad variable. */
export function amazonConfig(source: NodeJS.ProcessEnv = process.env): AmazonConfig {
  if (cached && source === process.env) return cached;
  const parsed = ZAmazonEnv.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ");
    throw new ChannelPermanentError(`the Amazon channel is not configured: ${problems}`);
  }
  const rotated = parsed.data.AMAZON_LWA_SECRET_ROTATED_AT;
  const config: AmazonConfig = {
    ...parsed.data,
    AMAZON_LWA_SECRET_ROTATED_AT: rotated ? new Date(rotated) : null,
  };
  if (source === process.env) {
    cached = config;
    reportSecretAge(config);
  }
  return config;
}

/** Tests change the environment between cases. */
export function resetAmazonConfig(): void {
  cached = undefined;
}

export type SecretAge = {
  rotatedAt: Date | null;
  ageDays: number | null;
  expiresAt: Date | null;
  /** `unknown` without AMAZON_LWA_SECRET_ROTATED_AT. */
  state: "ok" | "rotate_soon" | "expired" | "unknown";
};

/** How old the LWA client secret is, and whether it must be rotated. */
export function secretAge(config: AmazonConfig, now = new Date()): SecretAge {
  const rotatedAt = config.AMAZON_LWA_SECRET_ROTATED_AT;
  if (!rotatedAt) return { rotatedAt: null, ageDays: null, expiresAt: null, state: "unknown" };
  const ageDays = Math.floor((now.getTime() - rotatedAt.getTime()) / 86_400_000);
  const expiresAt = new Date(rotatedAt.getTime() + SECRET_MAX_AGE_DAYS * 86_400_000);
  const state =
    ageDays >= SECRET_MAX_AGE_DAYS
      ? "expired"
      : ageDays >= SECRET_MAX_AGE_DAYS - SECRET_WARN_DAYS
        ? "rotate_soon"
        : "ok";
  return { rotatedAt, ageDays, expiresAt, state };
}

function reportSecretAge(config: AmazonConfig): void {
  const age = secretAge(config);
  const logger = log({ channel: "amazon" });
  const facts = {
    secretRotatedAt: age.rotatedAt?.toISOString() ?? null,
    secretAgeDays: age.ageDays,
    secretExpiresAt: age.expiresAt?.toISOString() ?? null,
  };
  if (age.state === "expired")
    logger.error(
      facts,
      "the Amazon LWA client secret is older than 180 days: LWA refuses it; rotate it and update AMAZON_LWA_CLIENT_SECRET and AMAZON_LWA_SECRET_ROTATED_AT",
    );
  else if (age.state === "rotate_soon")
    logger.warn(
      facts,
      "the Amazon LWA client secret expires soon: rotate it and update AMAZON_LWA_CLIENT_SECRET and AMAZON_LWA_SECRET_ROTATED_AT",
    );
  else if (age.state === "unknown")
    logger.warn(
      facts,
      "AMAZON_LWA_SECRET_ROTATED_AT is not set: the age of the LWA client secret (rotated every 180 days) is unknown",
    );
}

/** The SP-API host of a region (NA, EU, FE). */
export const SP_API_HOSTS: Record<string, string> = {
  na: "https://sellingpartnerapi-na.amazon.com",
  eu: "https://sellingpartnerapi-eu.amazon.com",
  fe: "https://sellingpartnerapi-fe.amazon.com",
};

/** Seller Central hosts of the consent page, per marketplace id (defaults to NA's). */
const SELLER_CENTRAL: Record<string, string> = {
  ATVPDKIKX0DER: "https://sellercentral.amazon.com",
  A2EUQ1WTGCTBG2: "https://sellercentral.amazon.ca",
  A1AM78C64UM0Y8: "https://sellercentral.amazon.com.mx",
  A2Q3Y263D00KWC: "https://sellercentral.amazon.com.br",
  A1F83G8C2ARO7P: "https://sellercentral-europe.amazon.com",
  A1PA6795UKMFR9: "https://sellercentral-europe.amazon.com",
  A13V1IB3VIYZZH: "https://sellercentral-europe.amazon.com",
  APJ6JRA9NG5V4: "https://sellercentral-europe.amazon.com",
  A1RKKUPIHCS9HS: "https://sellercentral-europe.amazon.com",
  A1VC38T7YXB528: "https://sellercentral.amazon.co.jp",
  A39IBJ37TRP1C6: "https://sellercentral.amazon.com.au",
};

const REGION_OF: Record<string, "na" | "eu" | "fe"> = {
  ATVPDKIKX0DER: "na",
  A2EUQ1WTGCTBG2: "na",
  A1AM78C64UM0Y8: "na",
  A2Q3Y263D00KWC: "na",
  A1F83G8C2ARO7P: "eu",
  A1PA6795UKMFR9: "eu",
  A13V1IB3VIYZZH: "eu",
  APJ6JRA9NG5V4: "eu",
  A1RKKUPIHCS9HS: "eu",
  A1VC38T7YXB528: "fe",
  A39IBJ37TRP1C6: "fe",
};

export const DEFAULT_MARKETPLACE_ID = "ATVPDKIKX0DER";
export const DEFAULT_LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token";

export function sellerCentralOrigin(marketplaceId: string): string {
  return SELLER_CENTRAL[marketplaceId] ?? SELLER_CENTRAL[DEFAULT_MARKETPLACE_ID]!;
}

export function regionOf(marketplaceId: string): "na" | "eu" | "fe" {
  return REGION_OF[marketplaceId] ?? "na";
}

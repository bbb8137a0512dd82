/**
 * The Walmart channel's app-level configuration, read once from `process.env` with zod. Walmart
 * needs no app secret (each seller's own client id and secret are sealed with its connection),
 * so every variable has a default; a malformed one stops the channel with a message naming it.
 */
import { z } from "zod";

const intString = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const ZWalmartEnv = z.object({
  /** Walmart Marketplace API origin (a connection's own `apiBaseUrl` wins). */
  WALMART_API_BASE_URL: z
    .string()
    .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), "must be an http(s) URL")
    .default("https://marketplace.walmartapis.com"),
  /** `WM_SVC.NAME` sent with every call (Walmart requires a non-blank value). */
  WALMART_SVC_NAME: z.string().trim().min(1).max(100).default("Walmart Marketplace"),
  /** `WM_CONSUMER.CHANNEL.TYPE`, the channel type id Walmart issues to solution providers. */
  WALMART_CHANNEL_TYPE: z.string().trim().min(1).max(100).optional(),
  /** `PUT /v3/inventory` calls per minute per seller (third-party figure: 200). */
  WALMART_INVENTORY_WRITES_PER_MINUTE: intString(1, 100_000).default(200),
  /** `GET /v3/inventories` calls per minute per seller (not published; same as writes). */
  WALMART_INVENTORY_READS_PER_MINUTE: intString(1, 100_000).default(200),
  /**
   * How often each connection's orders are polled by last-modified time (ms): seller and buyer
   * cancellations and shipments (which Walmart does not push) arrive this late at most.
   */
  WALMART_POLL_INTERVAL_MS: intString(500, 3_600_000).default(15_000),
  /** Per-request timeout (ms). */
  WALMART_REQUEST_TIMEOUT_MS: intString(100, 120_000).default(15_000),
});

export type WalmartConfig = z.infer<typeof ZWalmartEnv>;

let cached: WalmartConfig | undefined;

export function walmartConfig(source: NodeJS.ProcessEnv = process.env): WalmartConfig {
  if (cached && source === process.env) return cached;
  const parsed = ZWalmartEnv.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`Walmart channel configuration: ${String(issue.path[0])} ${issue.message}`);
  }
  if (source === process.env) cached = parsed.data;
  return parsed.data;
}

/** Tests change the environment between cases. */
export function resetWalmartConfig(): void {
  cached = undefined;
}

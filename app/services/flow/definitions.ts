/**
 * The Flow triggers and actions StockGuard declares in extensions/<handle>/shopify.extension.toml,
 * as zod schemas: a trigger's payload (field keys exactly as declared; `product_id` for a
 * product_reference field, filled at delivery from the variant) and an action's properties.
 * test/unit/flow-extensions.test.ts keeps these equal to the TOML files.
 */
import { z } from "zod";

const text = z.string().min(1).max(255);
const decimal = z.number().finite();

/** Trigger handle → payload schema (without product_id) and whether it has a product reference. */
export const FLOW_TRIGGERS = {
  "oversell-incident-confirmed": {
    productReference: true,
    payload: z.strictObject({
      "variant id": text,
      sku: text,
      channel: text,
      units: decimal,
      cause: text,
      "incident url": z.url(),
    }),
  },
  "channel-sync-failed": {
    productReference: false,
    payload: z.strictObject({
      channel: text,
      "channel kind": text,
      since: z.iso.datetime(),
      reason: text,
    }),
  },
  "stock-drift-found": {
    productReference: true,
    payload: z.strictObject({
      "variant id": text,
      sku: text,
      channel: text,
      expected: decimal,
      found: decimal,
      cause: text,
    }),
  },
  "cycle-count-variance-approved": {
    productReference: false,
    payload: z.strictObject({
      location: text,
      units: decimal,
      value: decimal,
      "approved by": text,
    }),
  },
  "stock-ran-low": {
    productReference: true,
    payload: z.strictObject({
      "variant id": text,
      sku: text,
      "available to sell": decimal,
      "days of cover": decimal,
    }),
  },
} as const;

export type FlowTriggerHandle = keyof typeof FLOW_TRIGGERS;
export type FlowTriggerPayload<H extends FlowTriggerHandle> = z.input<
  (typeof FLOW_TRIGGERS)[H]["payload"]
>;

/** Shopify's limit on a trigger payload ("must be under 50000 bytes"). */
export const MAX_TRIGGER_PAYLOAD_BYTES = 50_000;

// --- actions ----------------------------------------------------------------------------------

/** A commerce object id as Flow may send it: a number, a numeric string or a GID. */
const commerceId = (kind: string) =>
  z
    .union([z.number().int().positive(), z.string().trim().min(1).max(100)])
    .transform((value, ctx) => {
      const text = String(value);
      if (/^\d+$/.test(text)) return `gid://shopify/${kind}/${text}`;
      if (new RegExp(`^gid://shopify/${kind}/\\d+$`).test(text)) return text;
      ctx.addIssue({ code: "custom", message: `must be a ${kind} id` });
      return z.NEVER;
    });

const optionalText = z
  .string()
  .trim()
  .max(255)
  .optional()
  .transform((s) => (s ? s : undefined));

/** The request Flow POSTs to an action's runtime_url (unknown top-level fields are ignored). */
export const ZFlowActionRequest = z.object({
  shop_id: z.union([z.number(), z.string()]).optional(),
  shopify_domain: z.string().regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/i, "not a shop domain"),
  action_run_id: z.string().min(1).max(200),
  handle: z.string().min(1).max(100),
  properties: z.record(z.string(), z.unknown()),
});

export const FLOW_ACTIONS = {
  "set-stockguard-buffer": z.object({
    product_id: commerceId("Product").optional(),
    variant_id: commerceId("ProductVariant")
      .optional()
      .or(z.literal("").transform(() => undefined)),
    sku: optionalText,
    channel: optionalText,
    kind: z.enum(["reserve_units", "percent_of_ats", "max_shown", "zero_at_or_below"], {
      error: "must be reserve_units, percent_of_ats, max_shown or zero_at_or_below",
    }),
    value: z.coerce
      .number({ error: "must be a number" })
      .int("must be a whole number")
      .min(0, "must be 0 or more")
      .max(1_000_000, "must be at most 1000000"),
  }),
  "pause-channel-sync": z.object({
    channel: z.string().trim().min(1, "is required").max(255),
    reason: optionalText,
  }),
} as const;

export type FlowActionHandle = keyof typeof FLOW_ACTIONS;

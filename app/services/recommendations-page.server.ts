/**
 * The Recommended buffers page of the embedded admin: its read model (recommendations with
 * their explanations, the channels' measured delays, the latest applied changes) and its
 * actions (accept selected or all — only with the values shown and an explicit confirmation —,
 * settings, lead times, backtest), validated here and carried out by
 * `services/recommendations.server.ts`.
 */
import { z } from "zod";
import { normalizeSku } from "../domain/sku";
import { parseForm, STALE_PAGE, storable, type FormFailure } from "./admin/forms.server";
import { requireShop } from "./admin/shop.server";
import {
  applyRecommendations,
  backtestShop,
  computeRecommendations,
  RecommendationChangedError,
  recentChanges,
  setLeadTime,
  UnknownSkuError,
  updateSettings,
  type BacktestSummary,
  type ChannelSummary,
  type RecommendationRow,
} from "./recommendations.server";
import { SERVICE_LEVELS } from "./recommendations-vocabulary";

/** Rows the page lists (the biggest expected oversells avoided first). */
const PAGE_ROWS = 200;
/** Recommendations one accept may carry. */
const MAX_ACCEPT = 2_000;

export { SERVICE_LEVELS };

export type RecommendationsPage = {
  generatedAt: string;
  settings: { serviceLevel: string; tailOwner: boolean; keepApplied: boolean };
  channels: ChannelSummary[];
  rows: RecommendationRow[];
  /** All rows (the page lists at most PAGE_ROWS) and those not applied yet. */
  total: number;
  pending: number;
  skus: number;
  orders: number;
  changes: {
    sku: string;
    channelName: string;
    kind: string;
    value: number;
    previousValue: number | null;
    explanation: string;
    actor: string;
    appliedAt: string;
  }[];
};

export async function loadRecommendationsPage(shopDomain: string): Promise<RecommendationsPage> {
  const shop = await requireShop(shopDomain);
  const [rec, changes] = await Promise.all([
    computeRecommendations(shop.id),
    recentChanges(shop.id, 10),
  ]);
  const level = rec.settings.serviceLevel;
  return {
    generatedAt: rec.generatedAt,
    settings: {
      serviceLevel: SERVICE_LEVELS.find((l) => Math.abs(Number(l) - level) < 1e-9) ?? String(level),
      tailOwner: rec.settings.tailOwner,
      keepApplied: rec.settings.keepApplied,
    },
    channels: rec.channels,
    rows: rec.rows.slice(0, PAGE_ROWS),
    total: rec.rows.length,
    pending: rec.rows.filter((r) => r.status !== "applied").length,
    skus: rec.skus,
    orders: rec.orders,
    changes: changes.map((c) => ({
      sku: c.sku,
      channelName: c.connectionName ?? "All channels",
      kind: c.kind,
      value: c.value,
      previousValue: c.previousValue,
      explanation: c.explanation,
      actor: c.actor,
      appliedAt: c.appliedAt.toISOString(),
    })),
  };
}

const ZAccepted = z.array(
  z.object({
    key: z.string().min(1).max(600).refine(storable),
    value: z.number().int().min(0).max(1_000_000_000),
  }),
);

const decimal = (label: string, max: number) =>
  z
    .string({ error: `${label} is required` })
    .trim()
    .min(1, `${label} is required`)
    .regex(/^\d+(\.\d+)?$/, `${label} must be a number of days, like 3 or 2.5`)
    .transform(Number)
    .pipe(z.number().min(0).max(max, `${label} must be at most ${max} days`));

export const ZRecommendationAction = z.discriminatedUnion(
  "intent",
  [
    z.object({
      intent: z.literal("accept"),
      /** The recommendations accepted, as JSON: [{ key, value }] with the values shown. */
      items: z
        .string()
        .max(400_000)
        .transform((text, ctx) => {
          try {
            return JSON.parse(text) as unknown;
          } catch {
            ctx.addIssue({ code: "custom", message: STALE_PAGE });
            return z.NEVER;
          }
        })
        .pipe(
          ZAccepted.min(1, "Select at least one recommendation").max(
            MAX_ACCEPT,
            `At most ${MAX_ACCEPT} recommendations at a time`,
          ),
        ),
      /** Set by the confirmation dialog: nothing is applied without it. */
      confirmed: z.literal("yes", "Confirm the change first"),
    }),
    z.object({
      intent: z.literal("settings"),
      serviceLevel: z.enum(SERVICE_LEVELS, "Choose a service level"),
      tailOwner: z
        .enum(["on"])
        .optional()
        .transform((v) => v === "on"),
      keepApplied: z
        .enum(["on"])
        .optional()
        .transform((v) => v === "on"),
    }),
    z
      .object({
        intent: z.literal("lead_time"),
        /** Empty: the shop default. */
        sku: z.string().trim().max(255, "SKU is too long").default(""),
        supplier: z.string().trim().max(255, "Supplier is too long").default(""),
        days: decimal("Lead time", 365),
        sdDays: decimal("Variation", 365),
      })
      .refine((v) => v.days > 0 || v.sdDays === 0, {
        path: ["days"],
        message: "Lead time must be more than 0 days",
      }),
    z.object({ intent: z.literal("backtest") }),
  ],
  { error: STALE_PAGE },
);

export type RecommendationAnswer =
  | { ok: true; intent: "accept" | "settings" | "lead_time"; message: string }
  | { ok: true; intent: "backtest"; message: string; backtest: BacktestSummary }
  | FormFailure;

export async function recommendationAction(input: {
  shopDomain: string;
  actor: string;
  form: FormData;
}): Promise<RecommendationAnswer> {
  const parsed = parseForm(ZRecommendationAction, input.form);
  if (!parsed.ok) return parsed;
  const shop = await requireShop(input.shopDomain);
  const action = parsed.data;
  switch (action.intent) {
    case "accept": {
      try {
        const result = await applyRecommendations(shop.id, action.items, input.actor);
        const n = result.applied;
        return {
          ok: true,
          intent: "accept",
          message:
            n === 0
              ? "Nothing to apply: those rules are already set"
              : `Applied ${n} recommendation${n === 1 ? "" : "s"} as buffer rules`,
        };
      } catch (error) {
        if (error instanceof RecommendationChangedError) {
          return {
            ok: false,
            intent: "accept",
            fieldErrors: {},
            formError: `Nothing was applied: ${error.message}`,
            status: 409,
          };
        }
        throw error;
      }
    }
    case "settings":
      await updateSettings(shop.id, {
        serviceLevel: Number(action.serviceLevel),
        tailOwner: action.tailOwner,
        keepApplied: action.keepApplied,
      });
      return { ok: true, intent: "settings", message: "Settings saved; recommendations updated" };
    case "lead_time":
      try {
        await setLeadTime(shop.id, {
          sku: action.sku === "" ? null : normalizeSku(action.sku),
          supplier: action.supplier === "" ? null : action.supplier,
          days: action.days,
          sdDays: action.sdDays,
        });
      } catch (error) {
        if (error instanceof UnknownSkuError) {
          return {
            ok: false,
            intent: "lead_time",
            fieldErrors: { sku: `No stock item or listing has SKU ${action.sku}` },
            status: 422,
          };
        }
        throw error;
      }
      return { ok: true, intent: "lead_time", message: "Lead time saved" };
    case "backtest":
      return {
        ok: true,
        intent: "backtest",
        message: "Backtest finished",
        backtest: await backtestShop(shop.id),
      };
  }
}

/**
 * The Buffer rules page: the shop's rules, most specific first, and its two actions (create a
 * rule, delete one), validated here and carried out by the shared rules service. Reads through
 * `repositories/admin/buffer-rules.server.ts`.
 */
import { z } from "zod";
import { RuleError } from "../../domain/errors";
import type { BufferKind } from "../../domain/types";
import { listRuleConnections, listShopRules } from "../../repositories/admin/buffer-rules.server";
import { createRule, deleteRule } from "../rules.server";
import { domainFailure, intField, STALE_PAGE, type FormFailure } from "./forms.server";
import { requireShop } from "./shop.server";
import { BUFFER_KINDS } from "./vocabulary";

const ALL = "all";

export const ZCreateRule = z
  .object({
    intent: z.literal("create"),
    /** A connection id, or "all" for every channel. */
    connectionId: z.union([z.literal(ALL), z.uuid()], "Choose a channel"),
    /** Empty for every SKU. */
    sku: z.string().trim().max(255, "SKU is too long").default(""),
    kind: z.enum(BUFFER_KINDS, "Choose what the rule does"),
    value: intField("Value", { min: 0 }),
  })
  .superRefine((rule, ctx) => {
    if (rule.kind === "percent_of_ats" && rule.value > 100) {
      ctx.addIssue({
        code: "custom",
        path: ["value"],
        message: "Percent must be between 0 and 100",
      });
    }
  });

export const ZDeleteRule = z.object({ intent: z.literal("delete"), ruleId: z.uuid(STALE_PAGE) });

/** Told apart by the submit button's `intent`, so each form gets its own field messages. */
export const ZRuleAction = z.discriminatedUnion("intent", [ZCreateRule, ZDeleteRule], {
  error: STALE_PAGE,
});
export type RuleAction = z.infer<typeof ZRuleAction>;

export type BufferRulesPage = {
  connections: { id: string; name: string; role: string; kind: string }[];
  rules: {
    id: string;
    connectionId: string | null;
    connectionName: string | null;
    sku: string | null;
    kind: BufferKind;
    value: number;
    /** channel×SKU (3) > SKU (2) > channel (1) > shop default (0). */
    specificity: number;
    updatedAt: string;
  }[];
};

/** Buffer rules of one shop, most specific first. */
export async function listBufferRules(shopDomain: string): Promise<BufferRulesPage> {
  const shop = await requireShop(shopDomain);
  const [connections, rules] = await Promise.all([
    listRuleConnections({ shopId: shop.id }),
    listShopRules({ shopId: shop.id }),
  ]);
  const names = new Map(connections.map((c) => [c.id, c.name]));
  return {
    connections,
    rules: rules
      .map((r) => ({
        id: r.id,
        connectionId: r.connectionId,
        connectionName: r.connectionId ? (names.get(r.connectionId) ?? r.connectionId) : null,
        sku: r.sku,
        kind: r.kind,
        value: r.value,
        specificity: (r.sku !== null ? 2 : 0) + (r.connectionId !== null ? 1 : 0),
        updatedAt: r.updatedAt.toISOString(),
      }))
      .sort(
        (a, b) =>
          b.specificity - a.specificity ||
          (a.sku ?? "").localeCompare(b.sku ?? "") ||
          (a.connectionName ?? "").localeCompare(b.connectionName ?? "") ||
          BUFFER_KINDS.indexOf(a.kind) - BUFFER_KINDS.indexOf(b.kind),
      ),
  };
}

export type RuleChangeResult = { ok: true; message: string };

/**
 * Creates or deletes a rule through the shared rules service (one rule per scope and kind: a
 * second one is refused as a form error), which republishes the shop and enqueues the pushes.
 */
export async function changeBufferRule(input: {
  shopDomain: string;
  action: RuleAction;
}): Promise<RuleChangeResult | FormFailure> {
  const shop = await requireShop(input.shopDomain);
  const action = input.action;
  if (action.intent === "create") {
    try {
      await createRule(shop.id, {
        connectionId: action.connectionId === ALL ? null : action.connectionId,
        sku: action.sku || null,
        kind: action.kind,
        value: action.value,
      });
    } catch (error) {
      if (error instanceof RuleError) {
        return {
          ok: false,
          intent: "create",
          fieldErrors: { [error.field]: error.message },
          status: 400,
        };
      }
      return domainFailure(error, "create");
    }
    return { ok: true, message: "Rule created" };
  }
  if (!(await deleteRule(shop.id, action.ruleId))) {
    return {
      ok: false,
      intent: "delete",
      fieldErrors: {},
      formError: "That rule no longer exists",
      status: 404,
    };
  }
  return { ok: true, message: "Rule deleted" };
}

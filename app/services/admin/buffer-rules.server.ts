/**
 * The Buffer rules page: the shop's rules, most specific first, and its actions (create a rule,
 * change its value in place, delete it — with the deleted rule handed back for an undo), each
 * with a preview of the listings and channels it changes (nothing written), validated here and
 * carried out by the shared rules service. Reads through `repositories/admin/buffer-rules.server.ts`.
 */
import { z } from "zod";
import { RuleError } from "../../domain/errors";
import type { BufferKind } from "../../domain/types";
import { computePublished } from "../../domain/publish";
import { normalizeSku } from "../../domain/sku";
import {
  findShopItemSkus,
  findShopRule,
  listRuleConnections,
  listShopRules,
  loadShopPublishInputs,
} from "../../repositories/admin/buffer-rules.server";
import { createRule, deleteRule, setRules, updateRule } from "../rules.server";
import { domainFailure, intField, STALE_PAGE, type FormFailure } from "./forms.server";
import { requireShop } from "./shop.server";
import { INVENTORY_FILTERS } from "./inventory-options";
import { findSelectedItems } from "./inventory.server";
import { BUFFER_KINDS } from "./vocabulary";

const ALL = "all";
/** `preview` answers what the change would do and writes nothing. */
const step = z.enum(["preview", "apply"], STALE_PAGE).default("apply");

/** A rule's channel: a connection id, or "all" for every channel (the source store included). */
const channelField = z.union([z.literal(ALL), z.uuid()], "Choose a channel");
const kindField = z.enum(BUFFER_KINDS, "Choose what the rule does");

/** A percent rule shows 0–100 % of what is available to sell. */
function percentInRange<T extends { kind?: BufferKind; value: number }>(
  rule: T,
  ctx: z.RefinementCtx<T>,
): void {
  if (rule.kind === "percent_of_ats" && rule.value > 100) {
    ctx.addIssue({
      code: "custom",
      path: ["value"],
      message: "Percent must be between 0 and 100",
    });
  }
}

export const ZCreateRule = z
  .object({
    intent: z.literal("create"),
    connectionId: channelField,
    /** Empty for every SKU. */
    sku: z.string().trim().max(255, "SKU is too long").default(""),
    kind: kindField,
    value: intField("Value", { min: 0 }),
    step,
    /** Set by "Undo" after a delete: the same rule created again. */
    restore: z.literal("yes", STALE_PAGE).optional(),
  })
  .superRefine(percentInRange);

/** The rule's value, and optionally its channel and kind (absent: unchanged). */
export const ZUpdateRule = z
  .object({
    intent: z.literal("update"),
    ruleId: z.uuid(STALE_PAGE),
    connectionId: channelField.optional(),
    kind: kindField.optional(),
    value: intField("Value", { min: 0 }),
    step,
  })
  .superRefine(percentInRange);

/** At most this many items in one bulk "Set buffer…" (a page of the Inventory list is 25). */
export const BULK_MAX_ITEMS = 250;

/**
 * The Inventory page's bulk "Set buffer…": one rule of `kind` and `value` for each selected
 * item's SKU on one channel (or all), validated as a rule created on the Rules page is. The
 * items are the rows selected (`itemIds`), or every item of the list's search and filter
 * (`allMatching`, "Select all N items").
 */
export const ZBulkBuffer = z
  .object({
    intent: z.literal("bulk_buffer"),
    connectionId: channelField,
    kind: kindField,
    value: intField("Value", { min: 0 }),
    /** The selected stock items' ids, comma-separated. */
    itemIds: z
      .string()
      .default("")
      .transform((ids) => ids.split(",").filter((id) => id !== ""))
      .pipe(
        z
          .array(z.uuid(STALE_PAGE))
          .max(BULK_MAX_ITEMS, `Select at most ${BULK_MAX_ITEMS} items at a time`),
      ),
    allMatching: z.literal("yes", STALE_PAGE).optional(),
    /** The list's search and filter, with `allMatching`. */
    q: z.string().trim().max(1_000, STALE_PAGE).default(""),
    filter: z.enum(INVENTORY_FILTERS, STALE_PAGE).default("all"),
    step,
  })
  .superRefine((bulk, ctx) => {
    percentInRange(bulk, ctx);
    if (!bulk.allMatching && bulk.itemIds.length === 0)
      ctx.addIssue({ code: "custom", path: ["itemIds"], message: "Select at least one item" });
  });
export type BulkBufferAction = z.infer<typeof ZBulkBuffer>;

export const ZDeleteRule = z.object({
  intent: z.literal("delete"),
  ruleId: z.uuid(STALE_PAGE),
  step,
});

/** Told apart by the submit button's `intent`, so each form gets its own field messages. */
export const ZRuleAction = z.discriminatedUnion("intent", [ZCreateRule, ZUpdateRule, ZDeleteRule], {
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

/** What a rule change would do to the shop's listings, shown before it is saved. */
export type RulePreview = {
  intent: "create" | "update" | "delete" | "bulk_buffer";
  /** Listings whose published quantity changes. */
  listingsChanged: number;
  /** SKUs among them. */
  skusChanged: number;
  channels: { name: string; source: boolean; listings: number }[];
  /** The first changes, biggest first: what each would show before → after. */
  examples: { connectionName: string; sku: string; before: number; after: number }[];
  /** The rule applies to every channel, the source store (its storefront) included. */
  includesSource: boolean;
  sourceName: string | null;
  /** Listings the rule's scope covers (whether or not their number changes). */
  inScope: number;
};

export type RulePreviewResult = { ok: true; intent: "preview"; preview: RulePreview };

export type RuleChangeResult = {
  ok: true;
  intent: "create" | "update" | "delete";
  message: string;
  /** A deleted rule, for "Undo" (created again with the same scope, kind and value). */
  deleted?: { connectionId: string | null; sku: string | null; kind: BufferKind; value: number };
};

type RuleSpec = {
  id: string;
  connectionId: string | null;
  sku: string | null;
  kind: BufferKind;
  value: number;
};

const EXAMPLES = 10;

/** Publishes every listing of the shop with the rules as they are and as they would be. */
async function previewRules(
  shopId: string,
  intent: RulePreview["intent"],
  change: (rules: RuleSpec[]) => {
    rules: RuleSpec[];
    /** The listings the change is about: one channel (null: all) and some SKUs (null: all). */
    scope: { connectionId: string | null; skus: ReadonlySet<string> | null };
    /** Whether the rule, once changed, applies to every channel (default: the scope's). */
    allChannels?: boolean;
  },
): Promise<RulePreview> {
  const [inputs, connections] = await Promise.all([
    loadShopPublishInputs({ shopId }),
    listRuleConnections({ shopId }),
  ]);
  const { rules: after, scope, allChannels } = change(inputs.rules);
  const holds = new Map<string, number>();
  for (const l of inputs.listings)
    for (const c of l.components)
      if (l.holdUnits > 0)
        holds.set(c.itemId, (holds.get(c.itemId) ?? 0) + l.holdUnits * c.perUnit);
  const before = computePublished(inputs.listings, inputs.levels, inputs.rules, holds);
  const published = computePublished(inputs.listings, inputs.levels, after, holds);
  const byId = new Map(connections.map((c) => [c.id, c]));
  const changed = inputs.listings
    .map((l) => ({ l, before: before.get(l.id) ?? 0, after: published.get(l.id) ?? 0 }))
    .filter((c) => c.before !== c.after);
  const channels = new Map<string, { name: string; source: boolean; listings: number }>();
  for (const { l } of changed) {
    const c = byId.get(l.connectionId);
    const entry = channels.get(l.connectionId) ?? {
      name: c?.name ?? "Channel",
      source: c?.role === "source",
      listings: 0,
    };
    entry.listings++;
    channels.set(l.connectionId, entry);
  }
  const source = connections.find((c) => c.role === "source") ?? null;
  const inScope = inputs.listings.filter(
    (l) =>
      (scope.connectionId === null || scope.connectionId === l.connectionId) &&
      (scope.skus === null || (l.sku !== null && scope.skus.has(l.sku))),
  ).length;
  return {
    intent,
    listingsChanged: changed.length,
    skusChanged: new Set(changed.map((c) => c.l.sku ?? c.l.id)).size,
    channels: [...channels.values()].sort(
      (a, b) => Number(b.source) - Number(a.source) || a.name.localeCompare(b.name),
    ),
    examples: changed
      .sort(
        (a, b) =>
          Math.abs(b.after - b.before) - Math.abs(a.after - a.before) ||
          (a.l.sku ?? "").localeCompare(b.l.sku ?? ""),
      )
      .slice(0, EXAMPLES)
      .map((c) => ({
        connectionName: byId.get(c.l.connectionId)?.name ?? "Channel",
        sku: c.l.sku ?? "listing",
        before: c.before,
        after: c.after,
      })),
    includesSource: (allChannels ?? scope.connectionId === null) && source !== null,
    sourceName: source?.name ?? null,
    inScope,
  };
}

const goneRule = (intent: string): FormFailure => ({
  ok: false,
  intent,
  fieldErrors: {},
  formError: "That rule no longer exists; the list has been refreshed",
  status: 404,
});

const skusOf = (sku: string | null) => (sku === null ? null : new Set([sku]));

/** A rule service refusal as the form's field message (400, nothing changed). */
function ruleFailure(error: unknown, intent: string): FormFailure {
  if (error instanceof RuleError) {
    return { ok: false, intent, fieldErrors: { [error.field]: error.message }, status: 400 };
  }
  return domainFailure(error, intent);
}

/**
 * Creates, changes or deletes a rule through the shared rules service (one rule per scope and
 * kind: a second one is refused as a form error), which republishes the shop and enqueues the
 * pushes; `step=preview` answers what it would change and writes nothing.
 */
export async function changeBufferRule(input: {
  shopDomain: string;
  action: RuleAction;
}): Promise<RuleChangeResult | RulePreviewResult | FormFailure> {
  const shop = await requireShop(input.shopDomain);
  const action = input.action;
  if (action.intent === "create") {
    const scope = {
      connectionId: action.connectionId === ALL ? null : action.connectionId,
      sku: action.sku ? normalizeSku(action.sku) : null,
    };
    if (action.step === "preview") {
      const preview = await previewRules(shop.id, "create", (rules) => ({
        rules: [
          ...rules.filter(
            (r) =>
              !(
                r.connectionId === scope.connectionId &&
                r.sku === scope.sku &&
                r.kind === action.kind
              ),
          ),
          { id: "new", ...scope, kind: action.kind, value: action.value },
        ],
        scope: { connectionId: scope.connectionId, skus: skusOf(scope.sku) },
      }));
      return { ok: true, intent: "preview", preview };
    }
    try {
      await createRule(shop.id, { ...scope, kind: action.kind, value: action.value });
    } catch (error) {
      return ruleFailure(error, "create");
    }
    return {
      ok: true,
      intent: "create",
      message: action.restore ? "Rule restored" : "Rule created",
    };
  }

  const rule = await findShopRule({ shopId: shop.id, ruleId: action.ruleId });
  if (!rule) return goneRule(action.intent);
  if (action.intent === "update") {
    const changed = {
      connectionId:
        action.connectionId === undefined
          ? rule.connectionId
          : action.connectionId === ALL
            ? null
            : action.connectionId,
      kind: action.kind ?? rule.kind,
      value: action.value,
    };
    if (action.step === "preview") {
      const rules = await listShopRules({ shopId: shop.id });
      if (
        rules.some(
          (r) =>
            r.id !== rule.id &&
            r.connectionId === changed.connectionId &&
            r.sku === rule.sku &&
            r.kind === changed.kind,
        )
      ) {
        return {
          ok: false,
          intent: "update",
          fieldErrors: {
            kind: "A rule of this kind already exists for this channel and SKU; change or delete that one",
          },
          status: 400,
        };
      }
      const preview = await previewRules(shop.id, "update", (current) => ({
        rules: current.map((r) => (r.id === rule.id ? { ...r, ...changed } : r)),
        // Listings under the rule as it was or as it will be.
        scope: {
          connectionId: changed.connectionId === rule.connectionId ? rule.connectionId : null,
          skus: skusOf(rule.sku),
        },
        allChannels: changed.connectionId === null,
      }));
      return { ok: true, intent: "preview", preview };
    }
    try {
      if (!(await updateRule(shop.id, rule.id, changed))) return goneRule("update");
    } catch (error) {
      return ruleFailure(error, "update");
    }
    return { ok: true, intent: "update", message: "Rule saved" };
  }
  const scope = { connectionId: rule.connectionId, sku: rule.sku };
  if (action.step === "preview") {
    const preview = await previewRules(shop.id, "delete", (rules) => ({
      rules: rules.filter((r) => r.id !== rule.id),
      scope: { connectionId: scope.connectionId, skus: skusOf(scope.sku) },
    }));
    return { ok: true, intent: "preview", preview };
  }
  if (!(await deleteRule(shop.id, rule.id))) return goneRule("delete");
  return {
    ok: true,
    intent: "delete",
    message: "Rule deleted",
    deleted: { ...scope, kind: rule.kind, value: rule.value },
  };
}

export type BulkBufferResult = {
  ok: true;
  intent: "bulk_buffer";
  message: string;
  /** Rules set (one per SKU). */
  applied: number;
};

/**
 * The Inventory page's bulk "Set buffer…": for every selected item's SKU, a rule of the kind and
 * value on the channel (or all), through the shared rules service (all set in one transaction,
 * an existing rule of the same scope and kind takes the new value; the shop republished once).
 * `step=preview` answers what it would change and writes nothing. Items not in the shop: 404,
 * nothing set.
 */
export async function setBulkBuffer(input: {
  shopDomain: string;
  action: BulkBufferAction;
}): Promise<BulkBufferResult | RulePreviewResult | FormFailure> {
  const shop = await requireShop(input.shopDomain);
  const action = input.action;
  const items = action.allMatching
    ? await findSelectedItems({
        shopDomain: input.shopDomain,
        query: action.q,
        filter: action.filter,
      })
    : await findShopItemSkus({ shopId: shop.id, itemIds: action.itemIds });
  if (action.allMatching && items.length > BULK_MAX_ITEMS) {
    return {
      ok: false,
      intent: "bulk_buffer",
      fieldErrors: {},
      formError: `${items.length} items match this list: narrow it (search or filter) to at most ${BULK_MAX_ITEMS} and try again`,
      status: 400,
    };
  }
  if (action.allMatching && items.length === 0) {
    return {
      ok: false,
      intent: "bulk_buffer",
      fieldErrors: {},
      formError: "No item matches this list any more",
      status: 400,
    };
  }
  if (!action.allMatching && items.length !== new Set(action.itemIds).size) {
    return {
      ok: false,
      intent: "bulk_buffer",
      fieldErrors: {},
      formError: "Some selected items no longer exist; reload the page and select again",
      status: 404,
    };
  }
  const connectionId = action.connectionId === ALL ? null : action.connectionId;
  const skus = [
    ...new Set(items.map((i) => normalizeSku(i.sku)).filter((sku): sku is string => sku !== null)),
  ];
  if (skus.length === 0) {
    return {
      ok: false,
      intent: "bulk_buffer",
      fieldErrors: {},
      formError: "None of the selected items has a SKU a rule could apply to",
      status: 400,
    };
  }
  const wanted = skus.map((sku) => ({ connectionId, sku, kind: action.kind, value: action.value }));
  if (action.step === "preview") {
    const preview = await previewRules(shop.id, "bulk_buffer", (rules) => ({
      rules: [
        ...rules.filter(
          (r) =>
            !(
              r.connectionId === connectionId &&
              r.sku !== null &&
              skus.includes(r.sku) &&
              r.kind === action.kind
            ),
        ),
        ...wanted.map((w, i) => ({ id: `new-${i}`, ...w })),
      ],
      scope: { connectionId, skus: new Set(skus) },
    }));
    return { ok: true, intent: "preview", preview };
  }
  try {
    await setRules(shop.id, wanted);
  } catch (error) {
    return ruleFailure(error, "bulk_buffer");
  }
  return {
    ok: true,
    intent: "bulk_buffer",
    applied: skus.length,
    message: `Buffer set on ${skus.length} SKU${skus.length === 1 ? "" : "s"}`,
  };
}

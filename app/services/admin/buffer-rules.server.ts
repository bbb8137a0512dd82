import { Prisma } from "@prisma/client";
import { z } from "zod";
import prisma from "../../db.server";
import { validateRule } from "../../domain/buffers";
import { normalizeSku } from "../../domain/sku";
import type { BufferKind } from "../../domain/types";
import { enqueuePushes, enqueueSafely } from "../../queues/jobs.server";
import { republishShop } from "../ledger/republish.server";
import { domainFailure, intField, type FormFailure } from "./forms.server";
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

export const ZDeleteRule = z.object({ intent: z.literal("delete"), ruleId: z.uuid() });

export const ZRuleAction = z.union([ZCreateRule, ZDeleteRule]);
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
    prisma.connection.findMany({
      where: { shopId: shop.id },
      orderBy: [{ role: "asc" }, { createdAt: "asc" }],
      select: { id: true, name: true, role: true, kind: true },
    }),
    prisma.bufferRule.findMany({ where: { shopId: shop.id } }),
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

export type RuleChangeResult = { ok: true; message: string; republished: number };

/**
 * Creates or deletes a rule, then recomputes every published quantity of the shop (under the
 * ledger's item locks) and enqueues pushes for the connections that changed. One rule per scope
 * and kind (a unique index): a second one is refused as a form error.
 */
export async function changeBufferRule(input: {
  shopDomain: string;
  action: RuleAction;
}): Promise<RuleChangeResult | FormFailure> {
  const shop = await requireShop(input.shopDomain);
  const action = input.action;
  let message: string;
  if (action.intent === "create") {
    const connectionId = action.connectionId === ALL ? null : action.connectionId;
    const sku = normalizeSku(action.sku);
    if (connectionId) {
      const owned = await prisma.connection.count({ where: { id: connectionId, shopId: shop.id } });
      if (!owned) {
        return { ok: false, intent: "create", fieldErrors: { connectionId: "Unknown channel" } };
      }
    }
    if (sku) {
      const [items, listings] = await Promise.all([
        prisma.stockItem.count({ where: { shopId: shop.id, sku } }),
        prisma.listing.count({ where: { shopId: shop.id, sku } }),
      ]);
      if (items + listings === 0) {
        return {
          ok: false,
          intent: "create",
          fieldErrors: { sku: `No stock item or listing has SKU ${sku}` },
        };
      }
    }
    try {
      validateRule({ kind: action.kind, value: action.value });
    } catch (error) {
      return domainFailure(error, "create");
    }
    try {
      await prisma.bufferRule.create({
        data: { shopId: shop.id, connectionId, sku, kind: action.kind, value: action.value },
      });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
        return {
          ok: false,
          intent: "create",
          fieldErrors: {
            kind: "A rule of this kind already exists for this channel and SKU; delete it first",
          },
        };
      }
      throw error;
    }
    message = "Rule created";
  } else {
    const deleted = await prisma.bufferRule.deleteMany({
      where: { id: action.ruleId, shopId: shop.id },
    });
    if (deleted.count === 0) {
      return {
        ok: false,
        intent: "delete",
        fieldErrors: {},
        formError: "That rule no longer exists",
      };
    }
    message = "Rule deleted";
  }
  const connections = await republishShop(shop.id);
  if (shop.syncEnabled && connections.size > 0) {
    await enqueueSafely("push after a buffer rule change", () => enqueuePushes(connections));
  }
  return { ok: true, message, republished: connections.size };
}

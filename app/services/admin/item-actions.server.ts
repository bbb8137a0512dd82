import { z } from "zod";
import type { ItemCommand } from "../../domain/ledger";
import { enqueuePushes, enqueueSafely } from "../../queues/jobs.server";
import { applyLedgerEvent } from "../ledger/apply-event.server";
import { domainFailure, intField, type FormFailure } from "./forms.server";
import { requireShop } from "./shop.server";

const key = z.uuid("This form has expired; reload the page");
const locationId = z.uuid("Choose a location");

/** The three item actions of the detail page, told apart by the submit button's `intent`. */
export const ZItemAction = z.discriminatedUnion("intent", [
  z.object({
    intent: z.literal("adjust"),
    key,
    locationId,
    delta: intField("Change").refine((n) => n !== 0, "Change must not be 0"),
    reason: z
      .string()
      .trim()
      .min(1, "Say why on-hand changes (e.g. cycle count, damaged in storage)")
      .max(500, "Keep the reason under 500 characters"),
  }),
  z.object({
    intent: z.literal("inspect"),
    key,
    locationId,
    outcome: z.enum(["passed", "failed"], "Choose passed or failed"),
    quantity: intField("Units", { min: 1 }),
  }),
  z.object({
    intent: z.literal("safety_stock"),
    key,
    locationId,
    quantity: intField("Safety stock", { min: 0 }),
  }),
]);
export type ItemAction = z.infer<typeof ZItemAction>;

export type ItemActionSuccess = {
  ok: true;
  intent: ItemAction["intent"];
  /** False when the same form submission had already been applied (a double submit). */
  applied: boolean;
  message: string;
  incidents: number;
};

function commandOf(action: ItemAction): { command: ItemCommand; reason: string } {
  switch (action.intent) {
    case "adjust":
      return {
        command: { kind: "manual_adjustment", delta: action.delta, reason: action.reason },
        reason: action.reason,
      };
    case "inspect":
      return {
        command: {
          kind: action.outcome === "passed" ? "inspection_passed" : "inspection_failed",
          quantity: action.quantity,
        },
        reason: `inspection ${action.outcome} in the admin`,
      };
    case "safety_stock":
      return {
        command: { kind: "safety_stock_set", quantity: action.quantity },
        reason: "safety stock set in the admin",
      };
  }
}

/**
 * Applies one item action through the ledger (the only writer), with an idempotency key built
 * from the form's per-render key, so the same submission twice is one movement. Then the
 * connections whose published quantities changed get a push. Ledger refusals come back as a
 * form error.
 */
export async function performItemAction(input: {
  shopDomain: string;
  itemId: string;
  actor: string;
  action: ItemAction;
}): Promise<ItemActionSuccess | FormFailure> {
  const shop = await requireShop(input.shopDomain);
  const { command, reason } = commandOf(input.action);
  let result;
  try {
    result = await applyLedgerEvent({
      shopId: shop.id,
      actor: input.actor,
      reason,
      operations: [
        {
          type: "item",
          key: `admin-${input.action.intent}-${input.itemId}-${input.action.key}`,
          itemId: input.itemId,
          locationId: input.action.locationId,
          command,
        },
      ],
    });
  } catch (error) {
    return domainFailure(error, input.action.intent);
  }
  const connections = result.changedListings.map((l) => l.connectionId);
  if (shop.syncEnabled && connections.length > 0) {
    await enqueueSafely("push after an admin item action", () => enqueuePushes(connections));
  }
  const applied = result.applied > 0;
  return {
    ok: true,
    intent: input.action.intent,
    applied,
    incidents: result.incidents.length,
    message: applied
      ? {
          adjust: "On-hand adjusted",
          inspect: "Inspection recorded",
          safety_stock: "Safety stock saved",
        }[input.action.intent]
      : result.duplicates > 0 && input.action.intent === "safety_stock"
        ? "Safety stock was already at that value"
        : "Already applied: this submission was recorded once",
  };
}

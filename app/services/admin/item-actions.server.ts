/**
 * The item detail page's actions (adjust on hand, inspect held units, set safety stock): the
 * form schema, the checks a well-formed request still has to pass in this shop (the item exists,
 * the resulting on hand stays within what can be stored), then one ledger event.
 */
import { z } from "zod";
import type { ItemCommand } from "../../domain/ledger";
import { enqueuePushes, enqueueSafely } from "../../queues/jobs.server";
import {
  findOnHand,
  movementRecorded,
  stockItemExists,
} from "../../repositories/admin/item-detail.server";
import { applyLedgerEvent } from "../ledger/apply-event.server";
import { domainFailure, intField, MAX_UNITS, STALE_PAGE, type FormFailure } from "./forms.server";
import { requireShop } from "./shop.server";

const key = z.uuid("This form has expired; reload the page");
const locationId = z.uuid("Choose a location");

/** The three item actions of the detail page, told apart by the submit button's `intent`. */
export const ZItemAction = z.discriminatedUnion(
  "intent",
  [
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
  ],
  { error: STALE_PAGE },
);
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

/** The ledger key of one form submission: the same submission twice is one movement. */
function idempotencyKey(itemId: string, action: ItemAction): string {
  return `admin-${action.intent}-${itemId}-${action.key}`;
}

/**
 * An adjustment whose result would leave [0, 1,000,000,000] on hand at the location is refused
 * as input (400). Read before the ledger takes the item lock: a concurrent movement can still
 * move on hand a little past the check, which the ledger records as it does any count. A
 * submission already applied is not checked again (the ledger answers it as a duplicate).
 */
async function checkResultingOnHand(input: {
  shopId: string;
  itemId: string;
  action: ItemAction;
}): Promise<FormFailure | null> {
  const action = input.action;
  if (action.intent !== "adjust") return null;
  const key = idempotencyKey(input.itemId, action);
  if (await movementRecorded({ shopId: input.shopId, idempotencyKey: key })) return null;
  const onHand =
    (await findOnHand({
      shopId: input.shopId,
      itemId: input.itemId,
      locationId: action.locationId,
    })) ?? 0;
  const result = onHand + action.delta;
  const units = (n: number) => n.toLocaleString("en-US");
  const change = `${action.delta < 0 ? "removing" : "adding"} ${units(Math.abs(action.delta))}`;
  const problem =
    result < 0
      ? `On hand is ${units(onHand)} here: ${change} would leave it below 0`
      : result > MAX_UNITS
        ? `On hand is ${units(onHand)} here: ${change} would exceed ${units(MAX_UNITS)} units`
        : null;
  if (!problem) return null;
  return { ok: false, intent: action.intent, fieldErrors: { delta: problem }, status: 400 };
}

/**
 * Applies one item action through the ledger (the only writer), with an idempotency key built
 * from the form's per-render key, so the same submission twice is one movement. Then the
 * connections whose published quantities changed get a push. Input the ledger cannot take is
 * a form error (400), a ledger refusal a form error (422); null when the shop has no such item.
 */
export async function performItemAction(input: {
  shopDomain: string;
  itemId: string;
  actor: string;
  action: ItemAction;
}): Promise<ItemActionSuccess | FormFailure | null> {
  const shop = await requireShop(input.shopDomain);
  if (!(await stockItemExists({ shopId: shop.id, itemId: input.itemId }))) return null;
  const refused = await checkResultingOnHand({
    shopId: shop.id,
    itemId: input.itemId,
    action: input.action,
  });
  if (refused) return refused;
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
          key: idempotencyKey(input.itemId, input.action),
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

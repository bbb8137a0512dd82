/**
 * The item detail page's actions (adjust on hand, inspect held units, set safety stock): the
 * form schema, the checks a well-formed request still has to pass in this shop (the item exists,
 * on hand stays within [0, 1,000,000,000], safety stock within on hand), the before → after
 * preview with every channel's effect, the confirmation a large, negative or uncovering change
 * needs, then one ledger event recorded as the merchant's decision (never an oversell incident).
 */
import { z } from "zod";
import type { ItemCommand } from "../../domain/ledger";
import { enqueuePushes, enqueueSafely } from "../../queues/jobs.server";
import { newlyOversold } from "../../domain/availability";
import { DomainError } from "../../domain/errors";
import {
  findOnHand,
  listActionLocations,
  listConnectionNames,
  loadPublishInputs,
  movementRecorded,
  stockItemExists,
} from "../../repositories/admin/item-detail.server";
import { applyLedgerEvent } from "../ledger/apply-event.server";
import { previewLevelChange } from "./explain";
import { domainFailure, intField, MAX_UNITS, STALE_PAGE, type FormFailure } from "./forms.server";
import { requireShop } from "./shop.server";

const key = z.uuid("This form has expired; reload the page");
const locationId = z.uuid("Choose a location");
/** `preview` computes the effect and changes nothing; `apply` changes stock. */
const step = z.enum(["preview", "apply"], STALE_PAGE).default("apply");
/** Sent by the confirmation dialog of a change that needs one. */
const confirmed = z.literal("yes", STALE_PAGE).optional();

/** A change of this many units or more asks for confirmation, whichever way it goes. */
export const LARGE_CHANGE = 100;

/** The three item actions of the detail page, told apart by the submit button's `intent`. */
export const ZItemAction = z.discriminatedUnion(
  "intent",
  [
    z.object({
      intent: z.literal("adjust"),
      key,
      locationId,
      step,
      confirmed,
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
      step,
      confirmed,
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
  /** Shortfalls recorded as the merchant's decision (the change was confirmed). */
  decisions: number;
};

/** What a change of on hand or safety stock would do, shown before it is applied. */
export type ItemChangePreview = {
  intent: "adjust" | "safety_stock";
  locationName: string;
  /** Before → after at the location. */
  onHand: { before: number; after: number };
  safetyStock: { before: number; after: number };
  /** Item-level available to sell (all source locations). */
  ats: { before: number; after: number };
  /** Units already sold on the channels and not shipped (committed). */
  committed: number;
  /** Every listing that sells the item: what it shows now and after. */
  channels: {
    listingId: string;
    connectionName: string;
    source: boolean;
    listing: string;
    before: number;
    after: number;
  }[];
  /** Sold units the change would leave uncovered (recorded as the merchant's decision). */
  uncovered: number;
  /** Why this change asks for confirmation (empty: it does not). */
  confirmReasons: string[];
};

export type ItemPreviewResult = { ok: true; intent: "preview"; preview: ItemChangePreview };

/** An apply that needs the confirmation it was not sent: nothing changed, here is why. */
export type NeedsConfirmation = FormFailure & { preview: ItemChangePreview };

const units = (n: number) => `${n.toLocaleString("en-US")} unit${Math.abs(n) === 1 ? "" : "s"}`;

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
 * Input that is refused whatever the merchant confirms (400): an adjustment that would leave on
 * hand outside [0, 1,000,000,000] at the location — on hand is physical stock and never goes
 * below 0 from the admin — and a safety stock above the location's on hand (a typo such as
 * 99,999 would silently show 0 everywhere). Read before the ledger takes the item lock: a
 * concurrent movement can still move on hand a little past the check, which the ledger records
 * as it does any count. A submission already applied is not checked again (the ledger answers
 * it as a duplicate).
 */
async function checkInput(input: {
  shopId: string;
  itemId: string;
  action: ItemAction;
}): Promise<FormFailure | null> {
  const action = input.action;
  if (action.intent === "inspect") return null;
  const key = idempotencyKey(input.itemId, action);
  if (
    action.step === "apply" &&
    (await movementRecorded({ shopId: input.shopId, idempotencyKey: key }))
  )
    return null;
  const onHand =
    (await findOnHand({
      shopId: input.shopId,
      itemId: input.itemId,
      locationId: action.locationId,
    })) ?? 0;
  const fail = (field: string, problem: string): FormFailure => ({
    ok: false,
    intent: action.intent,
    fieldErrors: { [field]: problem },
    status: 400,
  });
  if (action.intent === "safety_stock") {
    if (action.quantity > onHand)
      return fail(
        "quantity",
        `Safety stock keeps part of on hand back from every channel: on hand is ${onHand.toLocaleString("en-US")} here, so at most ${onHand.toLocaleString("en-US")}`,
      );
    return null;
  }
  const result = onHand + action.delta;
  const change = `${action.delta < 0 ? "removing" : "adding"} ${units(Math.abs(action.delta))}`;
  if (result < 0)
    return fail(
      "delta",
      `On hand is ${onHand.toLocaleString("en-US")} here: ${change} would leave it below 0`,
    );
  if (result > MAX_UNITS)
    return fail(
      "delta",
      `On hand is ${onHand.toLocaleString("en-US")} here: ${change} would exceed ${MAX_UNITS.toLocaleString("en-US")} units`,
    );
  return null;
}

/** The before → after of an adjustment or safety stock at its location, for every channel. */
async function previewChange(input: {
  shopId: string;
  itemId: string;
  action: Extract<ItemAction, { intent: "adjust" | "safety_stock" }>;
  locationName: string;
  /** Source locations by id (a source-store listing is one per location). */
  locationNames: Map<string, string>;
}): Promise<ItemChangePreview> {
  const action = input.action;
  const [inputs, connections] = await Promise.all([
    loadPublishInputs({ shopId: input.shopId, itemId: input.itemId }),
    listConnectionNames({ shopId: input.shopId }),
  ]);
  const level = inputs.levels.find(
    (l) => l.itemId === input.itemId && l.locationId === action.locationId,
  );
  const change =
    action.intent === "adjust"
      ? { onHand: action.delta }
      : { safetyStock: action.quantity - (level?.safetyStock ?? 0) };
  const preview = previewLevelChange({
    ...inputs,
    itemId: input.itemId,
    locationId: action.locationId,
    change,
  });
  const connection = new Map(connections.map((c) => [c.id, c]));
  const channels = inputs.listings
    .map((l) => {
      const c = connection.get(l.connectionId);
      const effect = preview.listings.find((p) => p.id === l.id)!;
      return {
        listingId: l.id,
        connectionName: c?.name ?? "Channel",
        source: c?.role === "source",
        listing: `${l.sku ?? "listing"}${
          l.sourceLocationId
            ? ` at ${input.locationNames.get(l.sourceLocationId) ?? "a location"}`
            : ""
        }`,
        before: effect.before,
        after: effect.after,
      };
    })
    .sort(
      (a, b) =>
        Number(b.source) - Number(a.source) || a.connectionName.localeCompare(b.connectionName),
    );
  const uncovered = newlyOversold(preview.item.atsBefore, preview.item.atsAfter);
  const reasons: string[] = [];
  const delta =
    action.intent === "adjust" ? action.delta : action.quantity - (level?.safetyStock ?? 0);
  if (action.intent === "adjust" && delta < 0)
    reasons.push(`It removes ${units(-delta)} from on hand.`);
  if (Math.abs(delta) >= LARGE_CHANGE)
    reasons.push(`It is a large change (${units(Math.abs(delta))}).`);
  if (uncovered > 0)
    reasons.push(
      `Orders already take ${units(preview.item.committed)}: after this change ${units(uncovered)} sold would not be covered. This is recorded as your decision, not as an oversell.`,
    );
  const emptied = channels.filter((c) => c.before > 0 && c.after === 0);
  if (emptied.length > 0)
    reasons.push(
      `${emptied.map((c) => c.connectionName).join(", ")} would show 0 and stop selling it.`,
    );
  return {
    intent: action.intent,
    locationName: input.locationName,
    onHand: { before: preview.location.before.onHand, after: preview.location.after.onHand },
    safetyStock: {
      before: preview.location.before.safetyStock,
      after: preview.location.after.safetyStock,
    },
    ats: { before: preview.item.atsBefore, after: preview.item.atsAfter },
    committed: preview.item.committed,
    channels,
    uncovered,
    confirmReasons: reasons,
  };
}

/** Ledger refusals in the merchant's words (never an internal command name). */
const COMMAND_WORDS: Record<string, string> = {
  inspection_passed: "Inspection",
  inspection_failed: "Inspection",
  manual_adjustment: "Adjustment",
  safety_stock_set: "Safety stock",
};

function friendlyFailure(error: unknown, intent: string): FormFailure {
  if (error instanceof DomainError) {
    let message = error.message;
    for (const [name, words] of Object.entries(COMMAND_WORDS)) {
      message = message.replaceAll(`${name}.quantity`, `${words} units`);
      message = message.replaceAll(`${name}: `, "").replaceAll(name, words);
    }
    message = message.replace(/unit\(s\)/g, "units").replace(/^only/, "Only");
    return { ok: false, intent, fieldErrors: {}, formError: message, status: 422 };
  }
  return domainFailure(error, intent);
}

/**
 * Applies one item action through the ledger (the only writer), with an idempotency key built
 * from the form's per-render key, so the same submission twice is one movement. `step=preview`
 * answers the before → after and changes nothing; an apply whose preview asks for confirmation
 * and was not confirmed is refused (409, with the preview). Then the connections whose published
 * quantities changed get a push. Input the ledger cannot take is a form error (400), a ledger
 * refusal a form error (422); null when the shop has no such item.
 */
export async function performItemAction(input: {
  shopDomain: string;
  itemId: string;
  actor: string;
  action: ItemAction;
}): Promise<ItemActionSuccess | ItemPreviewResult | NeedsConfirmation | FormFailure | null> {
  const shop = await requireShop(input.shopDomain);
  if (!(await stockItemExists({ shopId: shop.id, itemId: input.itemId }))) return null;
  const action = input.action;
  const refused = await checkInput({ shopId: shop.id, itemId: input.itemId, action });
  if (refused) return refused;

  if (action.intent !== "inspect") {
    const alreadyApplied =
      action.step === "apply" &&
      (await movementRecorded({
        shopId: shop.id,
        idempotencyKey: idempotencyKey(input.itemId, action),
      }));
    if (!alreadyApplied) {
      const locations = await listActionLocations({ shopId: shop.id });
      const location = locations.find((l) => l.id === action.locationId);
      if (!location)
        return {
          ok: false,
          intent: action.intent,
          fieldErrors: { locationId: "Choose a location" },
          status: 400,
        };
      const preview = await previewChange({
        shopId: shop.id,
        itemId: input.itemId,
        action,
        locationName: location.name,
        locationNames: new Map(locations.map((l) => [l.id, l.name])),
      });
      if (action.step === "preview") return { ok: true, intent: "preview", preview };
      if (preview.confirmReasons.length > 0 && action.confirmed !== "yes") {
        return {
          ok: false,
          intent: action.intent,
          fieldErrors: {},
          formError: `Not applied: this change needs your confirmation. ${preview.confirmReasons.join(" ")}`,
          status: 409,
          preview,
        };
      }
    }
  }

  const { command, reason } = commandOf(action);
  let result;
  try {
    result = await applyLedgerEvent({
      shopId: shop.id,
      actor: input.actor,
      reason,
      // The merchant's own change: a shortfall it leaves is their decision, not an oversell.
      merchantDecision: true,
      operations: [
        {
          type: "item",
          key: idempotencyKey(input.itemId, action),
          itemId: input.itemId,
          locationId: action.locationId,
          command,
        },
      ],
    });
  } catch (error) {
    return friendlyFailure(error, action.intent);
  }
  const connections = result.changedListings.map((l) => l.connectionId);
  if (shop.syncEnabled && connections.length > 0) {
    await enqueueSafely("push after an admin item action", () => enqueuePushes(connections));
  }
  const applied = result.applied > 0;
  return {
    ok: true,
    intent: action.intent,
    applied,
    incidents: result.incidents.length,
    decisions: result.merchantDecisions ?? 0,
    message: applied
      ? {
          adjust: "On-hand adjusted",
          inspect: "Inspection recorded",
          safety_stock: "Safety stock saved",
        }[action.intent]
      : result.duplicates > 0 && action.intent === "safety_stock"
        ? "Safety stock was already at that value"
        : "Already applied: this submission was recorded once",
  };
}

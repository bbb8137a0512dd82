/**
 * inventorySetQuantities / inventoryAdjustQuantities / inventoryMoveQuantities with the 2026-10
 * rules (shopify.md §2): every check runs before anything is written, and a call with any user
 * error applies nothing.
 */
import { gid, parseGid } from "./ids";
import {
  ON_HAND_COMPONENTS,
  isStateName,
  onHand,
  quantityOf,
  type AdjustmentGroupRec,
  type ChangeRec,
  type LevelRec,
  type StateName,
} from "./model";
import type { Sandbox } from "./sandbox";
import type { MutationLogChange, ShopState } from "./state";

export const INVENTORY_MUTATIONS = [
  "inventorySetQuantities",
  "inventoryAdjustQuantities",
  "inventoryMoveQuantities",
] as const;
export type InventoryMutation = (typeof INVENTORY_MUTATIONS)[number];

export function isInventoryMutation(name: string): name is InventoryMutation {
  return (INVENTORY_MUTATIONS as readonly string[]).includes(name);
}

/** Documented reasons (shopify.md §2.9). */
export const INVENTORY_REASONS = [
  "correction",
  "cycle_count_available",
  "damaged",
  "movement_created",
  "movement_updated",
  "movement_received",
  "movement_canceled",
  "other",
  "promotion",
  "quality_control",
  "received",
  "reservation_created",
  "reservation_deleted",
  "reservation_updated",
  "restock",
  "safety_stock",
  "shrinkage",
];

export const MAX_INPUT_ARRAY = 250;
const SET_LIMIT = 1_000_000_000;
const ADJUST_LIMIT = 2_000_000_000;
const ADJUSTABLE: readonly StateName[] = [
  "available",
  "reserved",
  "safety_stock",
  "damaged",
  "quality_control",
  "incoming",
];
const MOVABLE: readonly StateName[] = [
  "available",
  "reserved",
  "safety_stock",
  "damaged",
  "quality_control",
];

export type UserError = { code: string; field: string[] | null; message: string };
export type MutationPayload = {
  inventoryAdjustmentGroup: AdjustmentGroupRec | null;
  userErrors: UserError[];
};

export type TopLevelError = { code: string; message: string; path?: string[] };

// --- pre-execution checks (top-level errors) -------------------------------------------------

const TERMINAL_TYPE: Record<InventoryMutation, string> = {
  inventorySetQuantities: "InventoryQuantityInput",
  inventoryAdjustQuantities: "InventoryChangeInput",
  inventoryMoveQuantities: "InventoryMoveQuantityTerminalInput",
};

/**
 * `changeFromQuantity` must be present on every quantity/change/terminal (explicit null opts
 * out of the check). Works on coerced arguments, where an omitted input field is absent.
 */
export function missingChangeFrom(
  mutation: InventoryMutation,
  input: Record<string, unknown>,
): TopLevelError | null {
  const entries = mutation === "inventorySetQuantities" ? input.quantities : input.changes;
  if (!Array.isArray(entries)) return null;
  const missing = (value: unknown): boolean =>
    typeof value === "object" && value !== null && !("changeFromQuantity" in value);
  for (const entry of entries) {
    const record = entry as Record<string, unknown>;
    const offending =
      mutation === "inventoryMoveQuantities"
        ? missing(record.from) || missing(record.to)
        : missing(record);
    if (offending) {
      return {
        code: "INVALID_FIELD_ARGUMENTS",
        message: `${TERMINAL_TYPE[mutation]} must include the following argument: changeFromQuantity`,
        path: [mutation],
      };
    }
  }
  return null;
}

/** Any input array above 250 entries (all Shopify APIs), searched through nested input objects. */
export function oversizedInput(
  fieldName: string,
  args: Record<string, unknown>,
): TopLevelError | null {
  const search = (value: unknown, path: string[]): TopLevelError | null => {
    if (Array.isArray(value)) {
      if (value.length > MAX_INPUT_ARRAY) {
        return {
          code: "MAX_INPUT_SIZE_EXCEEDED",
          message: `The input array size of ${value.length} is greater than the maximum allowed of ${MAX_INPUT_ARRAY}.`,
          path,
        };
      }
      for (const element of value) {
        const found = search(element, path);
        if (found) return found;
      }
      return null;
    }
    if (typeof value === "object" && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        const found = search(child, [...path, key]);
        if (found) return found;
      }
    }
    return null;
  };
  return search(args, [fieldName]);
}

// --- validation helpers ----------------------------------------------------------------------

type Errors = UserError[];

function err(errors: Errors, code: string, field: string[], message: string): void {
  errors.push({ code, field, message });
}

function checkReason(errors: Errors, reason: unknown): void {
  if (typeof reason !== "string" || !INVENTORY_REASONS.includes(reason)) {
    err(
      errors,
      "INVALID_REASON",
      ["input", "reason"],
      `The specified reason is invalid. Valid values: ${INVENTORY_REASONS.join(", ")}.`,
    );
  }
}

function isUri(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\S+$/i.test(value);
}

function checkReferenceDocument(errors: Errors, uri: unknown): void {
  if (uri === undefined || uri === null) return;
  if (typeof uri !== "string" || !isUri(uri)) {
    err(
      errors,
      "INVALID_REFERENCE_DOCUMENT",
      ["input", "referenceDocumentUri"],
      "The specified reference document is invalid.",
    );
  }
}

/** Ledger rules: forbidden for available, required otherwise, never gid://shopify/…. */
function checkLedger(
  errors: Errors,
  name: string,
  ledger: unknown,
  field: string[],
): string | null {
  const value = typeof ledger === "string" ? ledger : null;
  if (name === "available") {
    if (value !== null) {
      err(
        errors,
        "INVALID_AVAILABLE_DOCUMENT",
        field,
        "A ledger document URI is not allowed when adjusting available.",
      );
    }
    return null;
  }
  if (value === null) {
    err(
      errors,
      "INVALID_QUANTITY_DOCUMENT",
      field,
      "A ledger document URI is required except when adjusting available.",
    );
    return null;
  }
  if (value.startsWith("gid://shopify/")) {
    err(
      errors,
      "INTERNAL_LEDGER_DOCUMENT",
      field,
      "A ledger document URI can't be a Shopify global ID.",
    );
    return null;
  }
  if (!isUri(value)) {
    err(errors, "INVALID_LEDGER_DOCUMENT", field, "The specified ledger document is invalid.");
    return null;
  }
  return value;
}

type Target = { level: LevelRec; itemId: number; locationId: number } | null;

/** Item, location, stocked, duplicate pair. */
function resolveTarget(
  shop: ShopState,
  errors: Errors,
  itemRef: unknown,
  locationRef: unknown,
  base: string[],
  itemField: string[],
  locationField: string[],
  seen: Set<string>,
): Target {
  const itemGid = typeof itemRef === "string" ? parseGid(itemRef) : null;
  const item = itemGid?.kind === "InventoryItem" ? shop.items.get(itemGid.id) : undefined;
  const locationGid = typeof locationRef === "string" ? parseGid(locationRef) : null;
  const location =
    locationGid?.kind === "Location" ? shop.locations.get(locationGid.id) : undefined;
  if (!item) {
    err(
      errors,
      "INVALID_INVENTORY_ITEM",
      itemField,
      "The specified inventory item could not be found.",
    );
  }
  if (!location) {
    err(errors, "INVALID_LOCATION", locationField, "The specified location could not be found.");
  }
  if (!item || !location) return null;
  const key = `${item.id}:${location.id}`;
  if (seen.has(key)) {
    err(
      errors,
      "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
      base,
      "The combination of inventoryItemId and locationId must be unique.",
    );
    return null;
  }
  seen.add(key);
  const level = item.levels.get(location.id);
  if (!level) {
    err(
      errors,
      "ITEM_NOT_STOCKED_AT_LOCATION",
      locationField,
      "The specified inventory item is not stocked at the location.",
    );
    return null;
  }
  return { level, itemId: item.id, locationId: location.id };
}

function checkStale(errors: Errors, expected: unknown, current: number, field: string[]): void {
  if (expected === null || expected === undefined) return;
  if (expected !== current) {
    err(
      errors,
      "CHANGE_FROM_QUANTITY_STALE",
      field,
      "The changeFromQuantity argument no longer matches the persisted quantity.",
    );
  }
}

// --- application -----------------------------------------------------------------------------

type PlannedChange = {
  itemId: number;
  locationId: number;
  deltas: { name: StateName; delta: number; ledgerDocumentUri: string | null }[];
};

type Meta = { mutation: InventoryMutation; key: string; name: string | null };

/** Applies planned changes, records the adjustment group, logs the call, emits webhooks. */
function commit(
  sb: Sandbox,
  shop: ShopState,
  meta: Meta,
  reason: string,
  referenceDocumentUri: string | null,
  planned: PlannedChange[],
): MutationPayload {
  const now = new Date();
  const levels = shop.applyDeltas(
    planned.flatMap((p) =>
      p.deltas.map((d) => ({ itemId: p.itemId, locationId: p.locationId, ...d })),
    ),
    now,
    "api",
  );
  const changes: ChangeRec[] = [];
  for (const p of planned) {
    const level = shop.level(p.itemId, p.locationId);
    if (!level) continue;
    let onHandDelta = 0;
    for (const d of p.deltas) {
      if (d.delta === 0) continue;
      if (ON_HAND_COMPONENTS.includes(d.name)) onHandDelta += d.delta;
      changes.push({
        itemId: p.itemId,
        locationId: p.locationId,
        name: d.name,
        delta: d.delta,
        quantityAfterChange: level.quantities[d.name],
        ledgerDocumentUri: d.ledgerDocumentUri,
      });
    }
    if (onHandDelta !== 0) {
      changes.push({
        itemId: p.itemId,
        locationId: p.locationId,
        name: "on_hand",
        delta: onHandDelta,
        quantityAfterChange: onHand(level.quantities),
        ledgerDocumentUri: null,
      });
    }
  }
  let group: AdjustmentGroupRec | null = null;
  if (changes.length > 0) {
    group = {
      kind: "InventoryAdjustmentGroup",
      id: sb.ids.allocate("InventoryAdjustmentGroup"),
      createdAt: now,
      reason,
      referenceDocumentUri,
      changes,
    };
    shop.adjustmentGroups.set(group.id, group);
  }
  const logChange = (c: ChangeRec): MutationLogChange => ({
    inventoryItemId: gid("InventoryItem", c.itemId),
    locationId: gid("Location", c.locationId),
    sku: shop.skuOfItem(c.itemId),
    name: c.name,
    delta: c.delta,
    quantityAfterChange: c.quantityAfterChange,
    ledgerDocumentUri: c.ledgerDocumentUri,
  });
  shop.mutationLog.push({
    seq: shop.mutationLog.length + 1,
    at: now.toISOString(),
    mutation: meta.mutation,
    idempotencyKey: meta.key,
    name: meta.name,
    reason,
    referenceDocumentUri,
    adjustmentGroupId: group ? gid("InventoryAdjustmentGroup", group.id) : null,
    requested: planned.map((p) => ({
      inventoryItemId: gid("InventoryItem", p.itemId),
      locationId: gid("Location", p.locationId),
      sku: shop.skuOfItem(p.itemId),
    })),
    changes: changes.map(logChange),
  });
  sb.emitLevelUpdates(shop, levels, now);
  return { inventoryAdjustmentGroup: group, userErrors: [] };
}

function rejected(errors: Errors): MutationPayload {
  return { inventoryAdjustmentGroup: null, userErrors: errors };
}

type Input = Record<string, unknown>;
const list = (value: unknown): Input[] => (Array.isArray(value) ? (value as Input[]) : []);
const str = (value: unknown): string | null => (typeof value === "string" ? value : null);

export function setQuantities(sb: Sandbox, shop: ShopState, input: Input, key: string) {
  const errors: Errors = [];
  const name = input.name;
  if (name !== "available" && name !== "on_hand") {
    err(
      errors,
      "INVALID_NAME",
      ["input", "name"],
      "The quantity name must be either 'available' or 'on_hand'.",
    );
  }
  checkReason(errors, input.reason);
  checkReferenceDocument(errors, input.referenceDocumentUri);
  const seen = new Set<string>();
  const planned: PlannedChange[] = [];
  list(input.quantities).forEach((q, i) => {
    const base = ["input", "quantities", String(i)];
    const target = resolveTarget(
      shop,
      errors,
      q.inventoryItemId,
      q.locationId,
      base,
      [...base, "inventoryItemId"],
      [...base, "locationId"],
      seen,
    );
    const quantity = typeof q.quantity === "number" ? q.quantity : 0;
    if (quantity > SET_LIMIT) {
      err(
        errors,
        "INVALID_QUANTITY_TOO_HIGH",
        [...base, "quantity"],
        "The quantity can't be higher than 1,000,000,000.",
      );
    } else if (quantity < -SET_LIMIT) {
      err(
        errors,
        "INVALID_QUANTITY_TOO_LOW",
        [...base, "quantity"],
        "The quantity can't be lower than -1,000,000,000.",
      );
    } else if (name === "on_hand" && quantity < 0) {
      err(
        errors,
        "INVALID_QUANTITY_NEGATIVE",
        [...base, "quantity"],
        "The quantity can't be negative.",
      );
    }
    if (!target || (name !== "available" && name !== "on_hand")) return;
    const current = quantityOf(target.level, name);
    checkStale(errors, q.changeFromQuantity, current, [...base, "changeFromQuantity"]);
    planned.push({
      itemId: target.itemId,
      locationId: target.locationId,
      deltas: [{ name: "available", delta: quantity - current, ledgerDocumentUri: null }],
    });
  });
  if (errors.length > 0) return rejected(errors);
  const meta: Meta = { mutation: "inventorySetQuantities", key, name: String(name) };
  return commit(sb, shop, meta, String(input.reason), str(input.referenceDocumentUri), planned);
}

export function adjustQuantities(sb: Sandbox, shop: ShopState, input: Input, key: string) {
  const errors: Errors = [];
  const name = typeof input.name === "string" ? input.name : "";
  const validName = isStateName(name) && ADJUSTABLE.includes(name);
  if (!validName) {
    err(
      errors,
      "INVALID_QUANTITY_NAME",
      ["input", "name"],
      `The quantity name '${name}' can't be adjusted. Valid names: ${ADJUSTABLE.join(", ")}.`,
    );
  }
  checkReason(errors, input.reason);
  checkReferenceDocument(errors, input.referenceDocumentUri);
  const seen = new Set<string>();
  const planned: PlannedChange[] = [];
  list(input.changes).forEach((c, i) => {
    const base = ["input", "changes", String(i)];
    const target = resolveTarget(
      shop,
      errors,
      c.inventoryItemId,
      c.locationId,
      base,
      [...base, "inventoryItemId"],
      [...base, "locationId"],
      seen,
    );
    const ledger = validName
      ? checkLedger(errors, name, c.ledgerDocumentUri, [...base, "ledgerDocumentUri"])
      : null;
    if (!target || !validName) return;
    const stateName = name as StateName;
    const delta = typeof c.delta === "number" ? c.delta : 0;
    const current = target.level.quantities[stateName];
    const after = current + delta;
    if (after > ADJUST_LIMIT) {
      err(
        errors,
        "INVALID_QUANTITY_TOO_HIGH",
        [...base, "delta"],
        "The quantity can't be higher than 2,000,000,000.",
      );
    } else if (after < -ADJUST_LIMIT) {
      err(
        errors,
        "INVALID_QUANTITY_TOO_LOW",
        [...base, "delta"],
        "The quantity can't be lower than -2,000,000,000.",
      );
    } else if (stateName !== "available" && after < 0) {
      err(
        errors,
        "INVALID_QUANTITY_NEGATIVE",
        [...base, "delta"],
        `The ${stateName} quantity can't be negative.`,
      );
    }
    checkStale(errors, c.changeFromQuantity, current, [...base, "changeFromQuantity"]);
    planned.push({
      itemId: target.itemId,
      locationId: target.locationId,
      deltas: [{ name: stateName, delta, ledgerDocumentUri: ledger }],
    });
  });
  if (errors.length > 0) return rejected(errors);
  const meta: Meta = { mutation: "inventoryAdjustQuantities", key, name };
  return commit(sb, shop, meta, String(input.reason), str(input.referenceDocumentUri), planned);
}

export function moveQuantities(sb: Sandbox, shop: ShopState, input: Input, key: string) {
  const errors: Errors = [];
  checkReason(errors, input.reason);
  checkReferenceDocument(errors, input.referenceDocumentUri);
  const seen = new Set<string>();
  const planned: PlannedChange[] = [];
  list(input.changes).forEach((c, i) => {
    const base = ["input", "changes", String(i)];
    const from = (c.from ?? {}) as Input;
    const to = (c.to ?? {}) as Input;
    if (from.locationId !== to.locationId) {
      err(
        errors,
        "DIFFERENT_LOCATIONS",
        [...base, "to", "locationId"],
        "The quantities can't be moved between different locations.",
      );
    }
    const target = resolveTarget(
      shop,
      errors,
      c.inventoryItemId,
      from.locationId,
      base,
      [...base, "inventoryItemId"],
      [...base, "from", "locationId"],
      seen,
    );
    const names: [Input, string][] = [
      [from, "from"],
      [to, "to"],
    ];
    let namesOk = true;
    for (const [terminal, side] of names) {
      const n = String(terminal.name);
      if (!isStateName(n) || !MOVABLE.includes(n)) {
        namesOk = false;
        err(
          errors,
          "INVALID_QUANTITY_NAME",
          [...base, side, "name"],
          `The quantity name '${n}' can't be moved. Valid names: ${MOVABLE.join(", ")}.`,
        );
      }
    }
    if (namesOk && from.name === to.name) {
      namesOk = false;
      err(
        errors,
        "SAME_QUANTITY_NAME",
        [...base, "to", "name"],
        "The from and to names must differ.",
      );
    }
    const quantity = typeof c.quantity === "number" ? c.quantity : 0;
    if (quantity <= 0) {
      err(
        errors,
        "INVALID_QUANTITY_NEGATIVE",
        [...base, "quantity"],
        "The quantity must be greater than 0.",
      );
    } else if (quantity > ADJUST_LIMIT) {
      err(
        errors,
        "INVALID_QUANTITY_TOO_HIGH",
        [...base, "quantity"],
        "The quantity can't be higher than 2,000,000,000.",
      );
    }
    if (!namesOk) return;
    const fromName = from.name as StateName;
    const toName = to.name as StateName;
    const fromLedger = checkLedger(errors, fromName, from.ledgerDocumentUri, [
      ...base,
      "from",
      "ledgerDocumentUri",
    ]);
    const toLedger = checkLedger(errors, toName, to.ledgerDocumentUri, [
      ...base,
      "to",
      "ledgerDocumentUri",
    ]);
    if (fromLedger !== null && toLedger !== null && fromLedger !== toLedger) {
      err(
        errors,
        "MAXIMUM_LEDGER_DOCUMENT_URIS",
        [...base, "to", "ledgerDocumentUri"],
        "A move can reference at most one ledger document URI.",
      );
    }
    if (!target) return;
    const fromCurrent = target.level.quantities[fromName];
    const toCurrent = target.level.quantities[toName];
    if (fromName !== "available" && quantity > 0 && fromCurrent - quantity < 0) {
      err(
        errors,
        "INVALID_QUANTITY_NEGATIVE",
        [...base, "quantity"],
        `The ${fromName} quantity can't be negative.`,
      );
    }
    checkStale(errors, from.changeFromQuantity, fromCurrent, [
      ...base,
      "from",
      "changeFromQuantity",
    ]);
    checkStale(errors, to.changeFromQuantity, toCurrent, [...base, "to", "changeFromQuantity"]);
    planned.push({
      itemId: target.itemId,
      locationId: target.locationId,
      deltas: [
        { name: fromName, delta: -quantity, ledgerDocumentUri: fromLedger },
        { name: toName, delta: quantity, ledgerDocumentUri: toLedger },
      ],
    });
  });
  if (errors.length > 0) return rejected(errors);
  const meta: Meta = { mutation: "inventoryMoveQuantities", key, name: null };
  return commit(sb, shop, meta, String(input.reason), str(input.referenceDocumentUri), planned);
}

export function runInventoryMutation(
  sb: Sandbox,
  shop: ShopState,
  mutation: InventoryMutation,
  input: Input,
  key: string,
): MutationPayload {
  switch (mutation) {
    case "inventorySetQuantities":
      return setQuantities(sb, shop, input, key);
    case "inventoryAdjustQuantities":
      return adjustQuantities(sb, shop, input, key);
    case "inventoryMoveQuantities":
      return moveQuantities(sb, shop, input, key);
  }
}

/**
 * Orders: storefront checkout and the merchant's order actions (fulfil, cancel, refund, edit),
 * with the inventory effects and webhooks Shopify produces for each.
 *
 * Every function validates everything first and only then mutates, with no `await` in between,
 * so concurrent requests can never interleave between the stock check and the commit.
 */
import { badRequest, unprocessable } from "./errors";
import { gid } from "./ids";
import {
  currentQuantityOf,
  priceToCents,
  unfulfilledOf,
  type CustomerRec,
  type FulfillmentRec,
  type ItemRec,
  type LineItemRec,
  type LocationRec,
  type OrderEditRec,
  type OrderRec,
  type RefundLineRec,
  type RefundRec,
  type RestockType,
  type VariantRec,
} from "./model";
import {
  fulfillmentPayload,
  orderEditPayload,
  orderFulfillmentStatus,
  orderPayload,
  refundPayload,
} from "./payloads";
import {
  conflict,
  findVariant,
  isRecord,
  objectBody,
  positiveInt,
  resolveLocation,
  resolveOrder,
} from "./refs";
import type { Sandbox } from "./sandbox";
import type { LevelDelta, ShopState } from "./state";

const FIRST_NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken"];
const LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen"];

type Allocation = { location: LocationRec; commits: boolean };

/**
 * Where a line's units come from: the first active location that fulfils online orders, stocks
 * the item and has `available` ≥ quantity (after what this request already took). CONTINUE
 * variants fall back to the first such location that stocks the item; untracked items commit
 * nothing.
 */
function allocate(
  shop: ShopState,
  variant: VariantRec,
  item: ItemRec,
  quantity: number,
  taken: Map<string, number>,
): Allocation | null {
  const candidates = shop
    .orderedLocations()
    .filter((l) => l.isActive && l.fulfillsOnlineOrders && item.levels.has(l.id));
  if (!item.tracked) {
    const location = candidates[0] ?? shop.orderedLocations().find((l) => l.isActive);
    return location ? { location, commits: false } : null;
  }
  for (const location of candidates) {
    const level = item.levels.get(location.id);
    const key = `${item.id}:${location.id}`;
    if (level && level.quantities.available - (taken.get(key) ?? 0) >= quantity) {
      taken.set(key, (taken.get(key) ?? 0) + quantity);
      return { location, commits: true };
    }
  }
  if (variant.inventoryPolicy === "CONTINUE" && candidates[0]) {
    const key = `${item.id}:${candidates[0].id}`;
    taken.set(key, (taken.get(key) ?? 0) + quantity);
    return { location: candidates[0], commits: true };
  }
  return null;
}

function newLine(
  sb: Sandbox,
  shop: ShopState,
  variant: VariantRec,
  item: ItemRec,
  quantity: number,
  locationId: number,
): LineItemRec {
  const product = shop.productOfVariant(variant);
  return {
    id: sb.ids.allocate("LineItem"),
    variantId: variant.id,
    productId: product.id,
    inventoryItemId: item.id,
    sku: variant.sku,
    title: product.title,
    variantTitle: variant.title,
    price: variant.price,
    requiresShipping: item.requiresShipping,
    tracked: item.tracked,
    quantity,
    editDelta: 0,
    fulfilled: 0,
    refundedUnfulfilled: 0,
    refundedFulfilled: 0,
    locationId,
  };
}

function sellable(shop: ShopState, item: ItemRec): number {
  return shop
    .orderedLocations()
    .filter((l) => l.isActive && l.fulfillsOnlineOrders)
    .reduce((max, l) => Math.max(max, item.levels.get(l.id)?.quantities.available ?? 0), 0);
}

/** Storefront checkout: all lines or nothing. Returns the REST order. */
export function checkout(sb: Sandbox, shop: ShopState, input: unknown): Record<string, unknown> {
  const body = objectBody(input);
  if (!Array.isArray(body.lines) || body.lines.length === 0) {
    throw badRequest("lines must be a non-empty array");
  }
  const buyer = isRecord(body.buyer) ? body.buyer : {};
  const resolved: { variant: VariantRec; item: ItemRec; quantity: number }[] = [];
  const unknown: unknown[] = [];
  body.lines.forEach((raw: unknown, index: number) => {
    const line = objectBody(raw);
    const quantity = positiveInt(line.quantity, `lines[${index}].quantity`);
    const variant = findVariant(shop, line);
    if (!variant || shop.productOfVariant(variant).status !== "ACTIVE") {
      unknown.push({ index, variantId: line.variantId ?? null, sku: line.sku ?? null });
      return;
    }
    resolved.push({ variant, item: shop.itemOfVariant(variant), quantity });
  });
  if (unknown.length > 0) {
    throw unprocessable("unknown_variant", "some lines name no purchasable variant", {
      lines: unknown,
    });
  }

  const taken = new Map<string, number>();
  const allocations: Allocation[] = [];
  const short: unknown[] = [];
  resolved.forEach(({ variant, item, quantity }, index) => {
    const allocation = allocate(shop, variant, item, quantity, taken);
    if (allocation) allocations.push(allocation);
    else {
      short.push({
        index,
        variantId: gid("ProductVariant", variant.id),
        sku: variant.sku,
        requested: quantity,
        available: sellable(shop, item),
      });
    }
  });
  if (short.length > 0) {
    throw conflict("out_of_stock", "not enough stock for some lines", { lines: short });
  }

  // Commit: nothing below can fail.
  const now = new Date();
  const number = shop.nextOrderNumber++;
  const orderId = sb.ids.allocate("Order");
  const pick = <T>(list: T[], n: number): T => list[n % list.length] as T;
  const customer: CustomerRec = {
    id: sb.ids.allocate("Customer"),
    email: typeof buyer.email === "string" ? buyer.email : `buyer${number}@example.com`,
    firstName: pick(FIRST_NAMES, number),
    lastName: pick(LAST_NAMES, number),
    phone: `+1555010${String(number % 10000).padStart(4, "0")}`,
  };
  const lines = resolved.map(({ variant, item, quantity }, i) =>
    newLine(sb, shop, variant, item, quantity, allocations[i]?.location.id ?? 0),
  );
  const deltas: LevelDelta[] = [];
  resolved.forEach(({ item, quantity }, i) => {
    const allocation = allocations[i];
    if (!allocation?.commits) return;
    const locationId = allocation.location.id;
    deltas.push({ itemId: item.id, locationId, name: "available", delta: -quantity });
    deltas.push({ itemId: item.id, locationId, name: "committed", delta: quantity });
  });
  const order: OrderRec = {
    id: orderId,
    number,
    name: `#${number}`,
    email: customer.email,
    createdAt: now,
    updatedAt: now,
    cancelledAt: null,
    cancelReason: null,
    customer,
    shippingAddress: {
      firstName: customer.firstName,
      lastName: customer.lastName,
      address1: `${100 + (number % 900)} Sandbox Street`,
      address2: "",
      city: "Ottawa",
      province: "Ontario",
      provinceCode: "ON",
      zip: "K1A 0B1",
      country: "Canada",
      countryCode: "CA",
      phone: customer.phone,
    },
    lineItems: lines,
    fulfillments: [],
    refunds: [],
    edits: [],
  };
  shop.orders.set(order.id, order);
  const levels = shop.applyDeltas(deltas, now, "checkout");
  const payload = orderPayload(shop, order);
  sb.emit(shop, "orders/create", payload, now);
  sb.emitLevelUpdates(shop, levels, now);
  sb.emit(shop, "orders/updated", payload, now);
  return payload;
}

/**
 * Moves `updated_at` forward on every change. REST timestamps have seconds precision, so two
 * updates within one second would otherwise carry the same `updated_at`.
 */
function touch(order: OrderRec, now: Date): void {
  order.updatedAt = new Date(Math.max(now.getTime(), order.updatedAt.getTime() + 1000));
}

function openOrder(shop: ShopState, ref: string): OrderRec {
  const order = resolveOrder(shop, ref);
  if (order.cancelledAt) throw unprocessable("order_cancelled", `order ${order.name} is cancelled`);
  return order;
}

function lineOf(order: OrderRec, lineItemId: unknown): LineItemRec {
  const id = typeof lineItemId === "string" ? Number(lineItemId.split("/").pop()) : lineItemId;
  const line = order.lineItems.find((l) => l.id === id);
  if (!line) throw badRequest(`order ${order.name} has no line item ${String(lineItemId)}`);
  return line;
}

/**
 * Fulfils the given lines (default: every unfulfilled unit). One fulfillment per location;
 * committed units leave the location (on_hand drops with committed).
 */
export function fulfill(
  sb: Sandbox,
  shop: ShopState,
  orderRef: string,
  input: unknown,
): { order: Record<string, unknown>; fulfillments: Record<string, unknown>[] } {
  const body = objectBody(input);
  const order = openOrder(shop, orderRef);
  const wanted = new Map<LineItemRec, number>();
  if (body.lines === undefined) {
    for (const line of order.lineItems) {
      if (unfulfilledOf(line) > 0) wanted.set(line, unfulfilledOf(line));
    }
  } else {
    if (!Array.isArray(body.lines)) throw badRequest("lines must be an array");
    body.lines.forEach((raw: unknown, i: number) => {
      const entry = objectBody(raw);
      const line = lineOf(order, entry.lineItemId);
      const quantity =
        entry.quantity === undefined
          ? unfulfilledOf(line)
          : positiveInt(entry.quantity, `lines[${i}].quantity`);
      wanted.set(line, (wanted.get(line) ?? 0) + quantity);
    });
  }
  for (const [line, quantity] of wanted) {
    if (quantity > unfulfilledOf(line) || quantity <= 0) {
      throw unprocessable(
        "invalid_quantity",
        `line item ${line.id} has ${unfulfilledOf(line)} unfulfilled units, asked for ${quantity}`,
      );
    }
  }
  if (wanted.size === 0) throw unprocessable("nothing_to_fulfill", "no unfulfilled units");

  const now = new Date();
  const byLocation = new Map<number | null, { line: LineItemRec; quantity: number }[]>();
  for (const [line, quantity] of wanted) {
    const group = byLocation.get(line.locationId) ?? [];
    group.push({ line, quantity });
    byLocation.set(line.locationId, group);
  }
  const deltas: LevelDelta[] = [];
  const created: FulfillmentRec[] = [];
  for (const [locationId, group] of byLocation) {
    const fulfillment: FulfillmentRec = {
      id: sb.ids.allocate("Fulfillment"),
      orderId: order.id,
      name: `${order.name}.${order.fulfillments.length + 1}`,
      status: "success",
      locationId,
      createdAt: now,
      updatedAt: now,
      lines: group.map(({ line, quantity }) => ({ lineItemId: line.id, quantity })),
    };
    for (const { line, quantity } of group) {
      line.fulfilled += quantity;
      if (line.tracked && line.inventoryItemId !== null && locationId !== null) {
        const itemId = line.inventoryItemId;
        if (shop.level(itemId, locationId)) {
          deltas.push({ itemId, locationId, name: "committed", delta: -quantity });
        }
      }
    }
    order.fulfillments.push(fulfillment);
    created.push(fulfillment);
  }
  touch(order, now);
  const levels = shop.applyDeltas(deltas, now, "fulfill");
  const payloads = created.map((f) => fulfillmentPayload(shop, order, f));
  for (const payload of payloads) sb.emit(shop, "fulfillments/create", payload, now);
  sb.emitLevelUpdates(shop, levels, now);
  const payload = orderPayload(shop, order);
  const status = orderFulfillmentStatus(order);
  sb.emit(
    shop,
    status === "fulfilled" ? "orders/fulfilled" : "orders/partially_fulfilled",
    payload,
    now,
  );
  sb.emit(shop, "orders/updated", payload, now);
  return { order: payload, fulfillments: payloads };
}

/**
 * Cancels a fulfillment (nothing shipped after all): its units become unfulfilled again and go
 * back to committed at the fulfillment's location → fulfillments/update (status "cancelled").
 */
export function cancelFulfillment(
  sb: Sandbox,
  shop: ShopState,
  orderRef: string,
  fulfillmentRef: string,
): { order: Record<string, unknown>; fulfillment: Record<string, unknown> } {
  const order = openOrder(shop, orderRef);
  const fulfillment = order.fulfillments.find(
    (f) => String(f.id) === fulfillmentRef || f.name === fulfillmentRef,
  );
  if (!fulfillment) throw unprocessable("unknown_fulfillment", `no fulfillment ${fulfillmentRef}`);
  if (fulfillment.status !== "success") {
    throw unprocessable("fulfillment_cancelled", `${fulfillment.name} is already cancelled`);
  }
  for (const { lineItemId, quantity } of fulfillment.lines) {
    const line = lineOf(order, lineItemId);
    if (line.fulfilled - line.refundedFulfilled < quantity) {
      throw unprocessable(
        "already_refunded",
        `line item ${line.id}: fulfilled units of ${fulfillment.name} were refunded`,
      );
    }
  }
  const now = new Date();
  const deltas: LevelDelta[] = [];
  for (const { lineItemId, quantity } of fulfillment.lines) {
    const line = lineOf(order, lineItemId);
    line.fulfilled -= quantity;
    const locationId = fulfillment.locationId;
    if (line.tracked && line.inventoryItemId !== null && locationId !== null) {
      if (shop.level(line.inventoryItemId, locationId)) {
        deltas.push({
          itemId: line.inventoryItemId,
          locationId,
          name: "committed",
          delta: quantity,
        });
      }
    }
  }
  fulfillment.status = "cancelled";
  fulfillment.updatedAt = now;
  touch(order, now);
  const levels = shop.applyDeltas(deltas, now, "cancel_fulfillment");
  const fulfillmentBody = fulfillmentPayload(shop, order, fulfillment);
  sb.emit(shop, "fulfillments/update", fulfillmentBody, now);
  sb.emitLevelUpdates(shop, levels, now);
  const payload = orderPayload(shop, order);
  sb.emit(shop, "orders/updated", payload, now);
  return { order: payload, fulfillment: fulfillmentBody };
}

const CANCEL_REASONS = ["customer", "inventory", "fraud", "declined", "staff", "other"];

/**
 * Cancels the order. restock (default true): unfulfilled units go committed → available, as a
 * refund with restock_type "cancel"; restock false: committed units are released without
 * returning to available ("no_restock").
 */
export function cancel(
  sb: Sandbox,
  shop: ShopState,
  orderRef: string,
  input: unknown,
): { order: Record<string, unknown>; refund: Record<string, unknown> } {
  const body = objectBody(input);
  const order = openOrder(shop, orderRef);
  const reason = body.reason ?? "customer";
  if (typeof reason !== "string" || !CANCEL_REASONS.includes(reason)) {
    throw badRequest(`reason must be one of ${CANCEL_REASONS.join(", ")}`);
  }
  const restock = body.restock !== false;
  const now = new Date();
  const deltas: LevelDelta[] = [];
  const refundLines: RefundLineRec[] = [];
  for (const line of order.lineItems) {
    const open = unfulfilledOf(line);
    if (open <= 0) continue;
    refundLines.push({
      id: sb.ids.allocate("RefundLineItem"),
      lineItemId: line.id,
      quantity: open,
      restockType: restock ? "cancel" : "no_restock",
      locationId: restock ? line.locationId : null,
      subtotalCents: priceToCents(line.price) * open,
    });
    line.refundedUnfulfilled += open;
    deltas.push(...releaseCommitted(shop, line, open, restock));
  }
  const refund: RefundRec = {
    id: sb.ids.allocate("Refund"),
    orderId: order.id,
    createdAt: now,
    note: "Order canceled",
    restock,
    lines: refundLines,
  };
  order.refunds.push(refund);
  order.cancelledAt = now;
  order.cancelReason = reason;
  touch(order, now);
  const levels = shop.applyDeltas(deltas, now, "cancel");
  const payload = orderPayload(shop, order);
  const refundBody = refundPayload(shop, order, refund);
  sb.emit(shop, "orders/cancelled", payload, now);
  sb.emit(shop, "refunds/create", refundBody, now);
  sb.emitLevelUpdates(shop, levels, now);
  sb.emit(shop, "orders/updated", payload, now);
  return { order: payload, refund: refundBody };
}

/** committed −q at the line's location, and available +q when restocking. */
function releaseCommitted(
  shop: ShopState,
  line: LineItemRec,
  quantity: number,
  restock: boolean,
): LevelDelta[] {
  if (!line.tracked || line.inventoryItemId === null || line.locationId === null) return [];
  const itemId = line.inventoryItemId;
  const locationId = line.locationId;
  if (!shop.level(itemId, locationId)) return [];
  const deltas: LevelDelta[] = [{ itemId, locationId, name: "committed", delta: -quantity }];
  if (restock) deltas.push({ itemId, locationId, name: "available", delta: quantity });
  return deltas;
}

const RESTOCK_TYPES: readonly RestockType[] = ["return", "cancel", "no_restock"];

/**
 * Refunds lines: "return" (fulfilled units come back to `available` at locationId, default the
 * line's location), "cancel" (unfulfilled units: committed → available), "no_restock"
 * (unfulfilled units first: committed released and gone; then fulfilled units: no change).
 */
export function refund(
  sb: Sandbox,
  shop: ShopState,
  orderRef: string,
  input: unknown,
): { order: Record<string, unknown>; refund: Record<string, unknown> } {
  const body = objectBody(input);
  const order = resolveOrder(shop, orderRef);
  if (!Array.isArray(body.lines) || body.lines.length === 0) {
    throw badRequest("lines must be a non-empty array");
  }
  type Plan = {
    line: LineItemRec;
    quantity: number;
    restockType: RestockType;
    location: LocationRec | null;
    fromUnfulfilled: number;
    fromFulfilled: number;
  };
  const plans: Plan[] = [];
  const used = new Map<LineItemRec, { unfulfilled: number; fulfilled: number }>();
  body.lines.forEach((raw: unknown, i: number) => {
    const entry = objectBody(raw);
    const line = lineOf(order, entry.lineItemId);
    const quantity = positiveInt(entry.quantity, `lines[${i}].quantity`);
    const restockType = (entry.restockType ?? "no_restock") as RestockType;
    if (!RESTOCK_TYPES.includes(restockType)) {
      throw badRequest(`lines[${i}].restockType must be one of ${RESTOCK_TYPES.join(", ")}`);
    }
    const u = used.get(line) ?? { unfulfilled: 0, fulfilled: 0 };
    const openUnfulfilled = unfulfilledOf(line) - u.unfulfilled;
    const openFulfilled = line.fulfilled - line.refundedFulfilled - u.fulfilled;
    let fromUnfulfilled = 0;
    let fromFulfilled = 0;
    if (restockType === "cancel") fromUnfulfilled = quantity;
    else if (restockType === "return") fromFulfilled = quantity;
    else {
      fromUnfulfilled = Math.min(quantity, Math.max(0, openUnfulfilled));
      fromFulfilled = quantity - fromUnfulfilled;
    }
    if (fromUnfulfilled > openUnfulfilled || fromFulfilled > openFulfilled) {
      throw unprocessable(
        "invalid_quantity",
        `line item ${line.id}: ${quantity} × ${restockType} exceeds the refundable units ` +
          `(unfulfilled ${openUnfulfilled}, fulfilled ${openFulfilled})`,
      );
    }
    let location: LocationRec | null = null;
    if (restockType === "return") {
      location =
        entry.locationId !== undefined || entry.location !== undefined
          ? resolveLocation(shop, entry)
          : line.locationId === null
            ? null
            : (shop.locations.get(line.locationId) ?? null);
      if (line.tracked && line.inventoryItemId !== null) {
        if (!location || !shop.level(line.inventoryItemId, location.id)) {
          throw unprocessable(
            "item_not_stocked",
            `line item ${line.id}: the item is not stocked at the return location`,
          );
        }
      }
    } else if (restockType === "cancel" && line.locationId !== null) {
      location = shop.locations.get(line.locationId) ?? null;
    }
    used.set(line, {
      unfulfilled: u.unfulfilled + fromUnfulfilled,
      fulfilled: u.fulfilled + fromFulfilled,
    });
    plans.push({ line, quantity, restockType, location, fromUnfulfilled, fromFulfilled });
  });

  const now = new Date();
  const deltas: LevelDelta[] = [];
  const lines: RefundLineRec[] = plans.map((plan) => {
    const { line } = plan;
    line.refundedUnfulfilled += plan.fromUnfulfilled;
    line.refundedFulfilled += plan.fromFulfilled;
    if (plan.fromUnfulfilled > 0) {
      deltas.push(
        ...releaseCommitted(shop, line, plan.fromUnfulfilled, plan.restockType === "cancel"),
      );
    }
    if (plan.restockType === "return" && plan.location && line.tracked && line.inventoryItemId) {
      deltas.push({
        itemId: line.inventoryItemId,
        locationId: plan.location.id,
        name: "available",
        delta: plan.quantity,
      });
    }
    return {
      id: sb.ids.allocate("RefundLineItem"),
      lineItemId: line.id,
      quantity: plan.quantity,
      restockType: plan.restockType,
      locationId: plan.location?.id ?? null,
      subtotalCents: priceToCents(line.price) * plan.quantity,
    };
  });
  const refundRec: RefundRec = {
    id: sb.ids.allocate("Refund"),
    orderId: order.id,
    createdAt: now,
    note: typeof body.note === "string" ? body.note : null,
    restock: plans.some((p) => p.restockType !== "no_restock"),
    lines,
  };
  order.refunds.push(refundRec);
  touch(order, now);
  const levels = shop.applyDeltas(deltas, now, "refund");
  const refundBody = refundPayload(shop, order, refundRec);
  sb.emit(shop, "refunds/create", refundBody, now);
  sb.emitLevelUpdates(shop, levels, now);
  const payload = orderPayload(shop, order);
  sb.emit(shop, "orders/updated", payload, now);
  return { order: payload, refund: refundBody };
}

/**
 * Order edit: `changes` set a line's new current quantity (added units are committed at the
 * line's location, removed unfulfilled units go back to available); `additions` add new lines
 * (allocated like a checkout).
 */
export function edit(
  sb: Sandbox,
  shop: ShopState,
  orderRef: string,
  input: unknown,
): { order: Record<string, unknown>; orderEdit: Record<string, unknown> } {
  const body = objectBody(input);
  const order = openOrder(shop, orderRef);
  const changes = body.changes === undefined ? [] : body.changes;
  const additions = body.additions === undefined ? [] : body.additions;
  if (!Array.isArray(changes) || !Array.isArray(additions)) {
    throw badRequest("changes and additions must be arrays");
  }
  if (changes.length === 0 && additions.length === 0) {
    throw badRequest("an edit needs changes or additions");
  }
  const taken = new Map<string, number>();
  const lineChanges: { line: LineItemRec; delta: number }[] = [];
  changes.forEach((raw: unknown, i: number) => {
    const entry = objectBody(raw);
    const line = lineOf(order, entry.lineItemId);
    const quantity = entry.quantity;
    if (typeof quantity !== "number" || !Number.isInteger(quantity) || quantity < 0) {
      throw badRequest(`changes[${i}].quantity must be an integer >= 0`);
    }
    const delta = quantity - currentQuantityOf(line);
    if (delta === 0) return;
    if (delta < 0 && -delta > unfulfilledOf(line)) {
      throw unprocessable(
        "invalid_quantity",
        `line item ${line.id}: only ${unfulfilledOf(line)} unfulfilled units can be removed`,
      );
    }
    if (delta > 0 && line.tracked && line.inventoryItemId !== null && line.locationId !== null) {
      const variant = line.variantId === null ? undefined : shop.variants.get(line.variantId);
      const level = shop.level(line.inventoryItemId, line.locationId);
      const key = `${line.inventoryItemId}:${line.locationId}`;
      const free = (level?.quantities.available ?? 0) - (taken.get(key) ?? 0);
      if (!variant || !level || (free < delta && variant.inventoryPolicy === "DENY")) {
        throw conflict("out_of_stock", `line item ${line.id}: not enough stock to add ${delta}`, {
          lines: [
            { index: i, lineItemId: line.id, requested: delta, available: Math.max(0, free) },
          ],
        });
      }
      taken.set(key, (taken.get(key) ?? 0) + delta);
    }
    lineChanges.push({ line, delta });
  });
  const added: { variant: VariantRec; item: ItemRec; quantity: number; allocation: Allocation }[] =
    [];
  additions.forEach((raw: unknown, i: number) => {
    const entry = objectBody(raw);
    const quantity = positiveInt(entry.quantity, `additions[${i}].quantity`);
    const variant = findVariant(shop, entry);
    if (!variant) throw unprocessable("unknown_variant", `additions[${i}] names no variant`);
    const item = shop.itemOfVariant(variant);
    const allocation = allocate(shop, variant, item, quantity, taken);
    if (!allocation) {
      throw conflict("out_of_stock", `additions[${i}]: not enough stock`, {
        lines: [
          { index: i, sku: variant.sku, requested: quantity, available: sellable(shop, item) },
        ],
      });
    }
    added.push({ variant, item, quantity, allocation });
  });

  const now = new Date();
  const deltas: LevelDelta[] = [];
  const editRec: OrderEditRec = {
    id: sb.ids.allocate("OrderEdit"),
    orderId: order.id,
    createdAt: now,
    additions: [],
    removals: [],
  };
  for (const { line, delta } of lineChanges) {
    line.editDelta += delta;
    if (delta > 0) {
      editRec.additions.push({ lineItemId: line.id, delta });
      if (line.tracked && line.inventoryItemId !== null && line.locationId !== null) {
        const at = { itemId: line.inventoryItemId, locationId: line.locationId };
        deltas.push({ ...at, name: "available", delta: -delta });
        deltas.push({ ...at, name: "committed", delta });
      }
    } else {
      editRec.removals.push({ lineItemId: line.id, delta: -delta });
      deltas.push(...releaseCommitted(shop, line, -delta, true));
    }
  }
  for (const { variant, item, quantity, allocation } of added) {
    const line = newLine(sb, shop, variant, item, quantity, allocation.location.id);
    order.lineItems.push(line);
    editRec.additions.push({ lineItemId: line.id, delta: quantity });
    if (allocation.commits) {
      const at = { itemId: item.id, locationId: allocation.location.id };
      deltas.push({ ...at, name: "available", delta: -quantity });
      deltas.push({ ...at, name: "committed", delta: quantity });
    }
  }
  order.edits.push(editRec);
  touch(order, now);
  const levels = shop.applyDeltas(deltas, now, "edit");
  const editBody = orderEditPayload(shop, order, editRec);
  sb.emit(shop, "orders/edited", editBody, now);
  sb.emitLevelUpdates(shop, levels, now);
  const payload = orderPayload(shop, order);
  sb.emit(shop, "orders/updated", payload, now);
  return { order: payload, orderEdit: editBody };
}

/** Resolving references in control and storefront requests (GIDs, numeric ids, SKUs, names). */
import { ControlError, badRequest, notFound } from "./errors";
import { idOf } from "./ids";
import type { ItemRec, LocationRec, OrderRec, ProductRec, VariantRec } from "./model";
import type { ShopState } from "./state";

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function objectBody(input: unknown): Record<string, unknown> {
  if (input === undefined || input === null) return {};
  if (!isRecord(input)) throw badRequest("expected a JSON object");
  return input;
}

export function positiveInt(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw badRequest(`${what} must be a positive integer`);
  }
  return value;
}

export function integer(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw badRequest(`${what} must be an integer`);
  }
  return value;
}

/** `{ variantId }` (GID or number) or `{ sku }`. */
export function findVariant(shop: ShopState, ref: Record<string, unknown>): VariantRec | null {
  if (ref.variantId !== undefined) {
    const id = idOf(ref.variantId, "ProductVariant");
    return id === null ? null : (shop.variants.get(id) ?? null);
  }
  if (typeof ref.sku === "string") return shop.variantBySku(ref.sku) ?? null;
  throw badRequest("a line needs variantId or sku");
}

export function resolveVariant(shop: ShopState, ref: Record<string, unknown>): VariantRec {
  const variant = findVariant(shop, ref);
  if (!variant) throw notFound(`variant ${JSON.stringify(ref.variantId ?? ref.sku)}`);
  return variant;
}

/** `{ inventoryItemId }`, `{ variantId }` or `{ sku }`. */
export function resolveItem(shop: ShopState, ref: Record<string, unknown>): ItemRec {
  if (ref.inventoryItemId !== undefined) {
    const id = idOf(ref.inventoryItemId, "InventoryItem");
    const item = id === null ? undefined : shop.items.get(id);
    if (!item) throw notFound(`inventory item ${JSON.stringify(ref.inventoryItemId)}`);
    return item;
  }
  return shop.itemOfVariant(resolveVariant(shop, ref));
}

/** `{ locationId }` or `{ location: name }`; defaults to the first location. */
export function resolveLocation(
  shop: ShopState,
  ref: Record<string, unknown>,
  required = false,
): LocationRec {
  if (ref.locationId !== undefined && ref.locationId !== null) {
    const id = idOf(ref.locationId, "Location");
    const location = id === null ? undefined : shop.locations.get(id);
    if (!location) throw notFound(`location ${JSON.stringify(ref.locationId)}`);
    return location;
  }
  if (typeof ref.location === "string") {
    const location = shop.locationByName(ref.location);
    if (!location) throw notFound(`location ${JSON.stringify(ref.location)}`);
    return location;
  }
  const first = shop.orderedLocations()[0];
  if (required || !first) throw badRequest("locationId or location (name) is required");
  return first;
}

/** A numeric id, an Order GID, or the order name ("#1001" or "1001"). */
export function resolveOrder(shop: ShopState, ref: string): OrderRec {
  const byId = idOf(ref, "Order");
  if (byId !== null) {
    const order = shop.orders.get(byId);
    if (order) return order;
  }
  const name = ref.startsWith("#") ? ref : `#${ref}`;
  const order = [...shop.orders.values()].find((o) => o.name === name);
  if (!order) throw notFound(`order ${ref}`);
  return order;
}

export function resolveProduct(shop: ShopState, ref: string): ProductRec {
  const id = idOf(ref, "Product");
  const product = id === null ? undefined : shop.products.get(id);
  if (!product) throw notFound(`product ${ref}`);
  return product;
}

export function variantByRef(shop: ShopState, ref: string): VariantRec {
  const id = idOf(ref, "ProductVariant");
  const variant = id === null ? shop.variantBySku(ref) : shop.variants.get(id);
  if (!variant) throw notFound(`variant ${ref}`);
  return variant;
}

export function conflict(code: string, message: string, extra?: Record<string, unknown>) {
  return new ControlError(409, code, message, extra);
}

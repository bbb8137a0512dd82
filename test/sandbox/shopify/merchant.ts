/**
 * What a merchant does in the Shopify admin: adjust or set inventory, stock an item at a
 * location, create/update/delete products, manage locations. Each emits the webhooks Shopify
 * would.
 */
import { badRequest, unprocessable } from "./errors";
import { gid } from "./ids";
import {
  isStateName,
  onHand,
  zeroQuantities,
  type InventoryPolicy,
  type ItemRec,
  type LevelRec,
  type LocationRec,
  type StateName,
} from "./model";
import { inventoryItemPayload, inventoryLevelPayload, productPayload } from "./payloads";
import {
  integer,
  isRecord,
  objectBody,
  resolveItem,
  resolveLocation,
  resolveProduct,
  variantByRef,
} from "./refs";
import type { Sandbox } from "./sandbox";
import {
  SeedError,
  seedQuantities,
  type LevelDelta,
  type LocationSeed,
  type ProductSeed,
  type ShopState,
} from "./state";

type LevelView = {
  inventoryItemId: string;
  locationId: string;
  sku: string | null;
  quantities: Record<string, number>;
};

function levelView(shop: ShopState, level: LevelRec): LevelView {
  return {
    inventoryItemId: gid("InventoryItem", level.itemId),
    locationId: gid("Location", level.locationId),
    sku: shop.skuOfItem(level.itemId),
    quantities: { ...level.quantities, on_hand: onHand(level.quantities) },
  };
}

/** A single change object, or `{ changes: [...] }`. */
function changeList(input: unknown): Record<string, unknown>[] {
  const body = objectBody(input);
  if (body.changes === undefined) return [body];
  if (!Array.isArray(body.changes) || body.changes.length === 0) {
    throw badRequest("changes must be a non-empty array");
  }
  return body.changes.map((c: unknown) => objectBody(c));
}

function stockedLevel(shop: ShopState, item: ItemRec, location: LocationRec): LevelRec {
  const level = item.levels.get(location.id);
  if (!level) {
    throw unprocessable(
      "item_not_stocked",
      `inventory item ${item.id} is not stocked at ${location.name}`,
    );
  }
  return level;
}

/**
 * Admin inventory adjustment: `{ inventoryItemId | variantId | sku, locationId | location,
 * name = "available", delta }` (or `{ changes: [...] }`). `committed` is reserved for orders.
 */
export function adjustInventory(
  sb: Sandbox,
  shop: ShopState,
  input: unknown,
): { levels: LevelView[] } {
  const deltas: LevelDelta[] = changeList(input).map((change, i) => {
    const item = resolveItem(shop, change);
    const location = resolveLocation(shop, change);
    stockedLevel(shop, item, location);
    const name = change.name ?? "available";
    if (typeof name !== "string" || !isStateName(name) || name === "committed") {
      throw badRequest(`changes[${i}].name must be a quantity state other than committed`);
    }
    return {
      itemId: item.id,
      locationId: location.id,
      name,
      delta: integer(change.delta, "delta"),
    };
  });
  const now = new Date();
  const levels = shop.applyDeltas(deltas, now, "merchant_adjust");
  sb.emitLevelUpdates(shop, levels, now);
  return { levels: levels.map((l) => levelView(shop, l)) };
}

/** Admin "set quantity": `{ item…, location…, name: "available" | "on_hand", quantity }`. */
export function setInventory(
  sb: Sandbox,
  shop: ShopState,
  input: unknown,
): { levels: LevelView[] } {
  const deltas: LevelDelta[] = changeList(input).map((change, i) => {
    const item = resolveItem(shop, change);
    const location = resolveLocation(shop, change);
    const level = stockedLevel(shop, item, location);
    const name = change.name ?? "available";
    if (name !== "available" && name !== "on_hand") {
      throw badRequest(`changes[${i}].name must be available or on_hand`);
    }
    const quantity = integer(change.quantity, "quantity");
    const current = name === "on_hand" ? onHand(level.quantities) : level.quantities.available;
    return {
      itemId: item.id,
      locationId: location.id,
      name: "available" as StateName,
      delta: quantity - current,
    };
  });
  const now = new Date();
  const levels = shop.applyDeltas(deltas, now, "merchant_set");
  sb.emitLevelUpdates(shop, levels, now);
  return { levels: levels.map((l) => levelView(shop, l)) };
}

/** Stocks an item at a location: `{ item…, location…, quantities? }` → inventory_levels/connect. */
export function activateInventory(sb: Sandbox, shop: ShopState, input: unknown): LevelView {
  const body = objectBody(input);
  const item = resolveItem(shop, body);
  const location = resolveLocation(shop, body, true);
  if (item.levels.has(location.id)) {
    throw unprocessable(
      "already_stocked",
      `item ${item.id} is already stocked at ${location.name}`,
    );
  }
  let quantities = zeroQuantities();
  if (body.quantities !== undefined) {
    if (!isRecord(body.quantities) && typeof body.quantities !== "number") {
      throw badRequest("quantities must be a number or an object of states");
    }
    try {
      quantities = seedQuantities(body.quantities as number | Record<string, number>);
    } catch (error) {
      throw badRequest((error as Error).message);
    }
  }
  const now = new Date();
  const level = shop.activate(item, location, quantities, now);
  sb.emit(shop, "inventory_levels/connect", inventoryLevelPayload(shop, level), now);
  return levelView(shop, level);
}

/** Creates a product (ProductSeed shape) → products/create and inventory_items/create. */
export function createProduct(
  sb: Sandbox,
  shop: ShopState,
  input: unknown,
): Record<string, unknown> {
  const body = objectBody(input) as unknown as ProductSeed;
  if (typeof body.title !== "string" || body.title === "") throw badRequest("title is required");
  const now = new Date();
  let product;
  try {
    product = shop.addProduct(body, now);
  } catch (error) {
    if (error instanceof SeedError) throw badRequest(error.message);
    throw error;
  }
  const payload = productPayload(shop, product);
  sb.emit(shop, "products/create", payload, now);
  for (const variantId of product.variantIds) {
    const variant = shop.variants.get(variantId);
    if (!variant) continue;
    const item = shop.itemOfVariant(variant);
    sb.emit(shop, "inventory_items/create", inventoryItemPayload(shop, item, variant.sku), now);
  }
  return payload;
}

/**
 * Updates a variant (`sku`, `title`, `price`, `inventoryPolicy`, `tracked`) → products/update,
 * plus inventory_items/update when the SKU or tracking changed.
 */
export function updateVariant(
  sb: Sandbox,
  shop: ShopState,
  variantRef: string,
  input: unknown,
): Record<string, unknown> {
  const body = objectBody(input);
  const variant = variantByRef(shop, variantRef);
  const item = shop.itemOfVariant(variant);
  const product = shop.productOfVariant(variant);
  if (body.sku !== undefined && body.sku !== null && typeof body.sku !== "string") {
    throw badRequest("sku must be a string or null");
  }
  if (
    body.inventoryPolicy !== undefined &&
    !["DENY", "CONTINUE"].includes(String(body.inventoryPolicy))
  ) {
    throw badRequest("inventoryPolicy must be DENY or CONTINUE");
  }
  if (body.tracked !== undefined && typeof body.tracked !== "boolean") {
    throw badRequest("tracked must be a boolean");
  }
  const now = new Date();
  let itemChanged = false;
  if (body.sku !== undefined) {
    const sku = body.sku === "" ? null : (body.sku as string | null);
    itemChanged ||= sku !== variant.sku;
    variant.sku = sku;
  }
  if (typeof body.title === "string") variant.title = body.title;
  if (typeof body.price === "string") variant.price = body.price;
  if (body.inventoryPolicy !== undefined) {
    variant.inventoryPolicy = body.inventoryPolicy as InventoryPolicy;
  }
  if (typeof body.tracked === "boolean") {
    itemChanged ||= body.tracked !== item.tracked;
    item.tracked = body.tracked;
  }
  variant.updatedAt = now;
  product.updatedAt = now;
  if (itemChanged) item.updatedAt = now;
  const payload = productPayload(shop, product);
  sb.emit(shop, "products/update", payload, now);
  if (itemChanged) {
    sb.emit(shop, "inventory_items/update", inventoryItemPayload(shop, item, variant.sku), now);
  }
  return payload;
}

/** Deletes a product with its variants and items → products/delete, inventory_items/delete. */
export function deleteProduct(sb: Sandbox, shop: ShopState, productRef: string): { id: number } {
  const product = resolveProduct(shop, productRef);
  const now = new Date();
  const itemIds: number[] = [];
  for (const variantId of product.variantIds) {
    const variant = shop.variants.get(variantId);
    if (!variant) continue;
    itemIds.push(variant.inventoryItemId);
    shop.items.delete(variant.inventoryItemId);
    shop.variants.delete(variantId);
  }
  shop.products.delete(product.id);
  sb.emit(shop, "products/delete", { id: product.id }, now);
  for (const id of itemIds) sb.emit(shop, "inventory_items/delete", { id }, now);
  return { id: product.id };
}

function locationPayload(shop: ShopState, location: LocationRec): Record<string, unknown> {
  return {
    id: location.id,
    name: location.name,
    active: location.isActive,
    admin_graphql_api_id: gid("Location", location.id),
    created_at: location.createdAt.toISOString(),
    updated_at: location.updatedAt.toISOString(),
    country_code: "CA",
    legacy: false,
    shop: shop.domain,
  };
}

/** Adds a location (last in location order) → locations/create. */
export function createLocation(
  sb: Sandbox,
  shop: ShopState,
  input: unknown,
): Record<string, unknown> {
  const body = objectBody(input) as unknown as LocationSeed;
  if (typeof body.name !== "string" || body.name === "") throw badRequest("name is required");
  let location: LocationRec;
  try {
    location = shop.addLocation(body);
  } catch (error) {
    if (error instanceof SeedError) throw badRequest(error.message);
    throw error;
  }
  const payload = locationPayload(shop, location);
  sb.emit(shop, "locations/create", payload, location.createdAt);
  return payload;
}

/** `{ name?, isActive?, fulfillsOnlineOrders? }` → locations/update (+ activate/deactivate). */
export function updateLocation(
  sb: Sandbox,
  shop: ShopState,
  locationRef: string,
  input: unknown,
): Record<string, unknown> {
  const body = objectBody(input);
  const location = resolveLocation(shop, { locationId: locationRef }, true);
  const wasActive = location.isActive;
  if (typeof body.name === "string") location.name = body.name;
  if (typeof body.isActive === "boolean") location.isActive = body.isActive;
  if (typeof body.fulfillsOnlineOrders === "boolean") {
    location.fulfillsOnlineOrders = body.fulfillsOnlineOrders;
  }
  const now = new Date();
  location.updatedAt = now;
  const payload = locationPayload(shop, location);
  sb.emit(shop, "locations/update", payload, now);
  if (wasActive !== location.isActive) {
    sb.emit(shop, location.isActive ? "locations/activate" : "locations/deactivate", payload, now);
  }
  return payload;
}

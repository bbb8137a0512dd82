/** Global IDs (`gid://shopify/{Type}/{id}`) and the numeric id allocator. */

export type ResourceKind =
  | "Shop"
  | "Location"
  | "Product"
  | "ProductVariant"
  | "InventoryItem"
  | "InventoryLevel"
  | "InventoryAdjustmentGroup"
  | "Order"
  | "LineItem"
  | "Fulfillment"
  | "Refund"
  | "RefundLineItem"
  | "OrderEdit"
  | "Customer"
  | "AppInstallation"
  | "App"
  | "WebhookSubscription";

/**
 * First id handed out per kind. Distinct ranges make a variant id that is mistakenly used as an
 * inventory item id fail loudly instead of hitting another record by accident.
 */
const ID_BASES: Record<ResourceKind, number> = {
  Shop: 60_000_001,
  Location: 70_000_001,
  Product: 80_000_001,
  ProductVariant: 40_000_001,
  InventoryItem: 44_000_001,
  InventoryLevel: 1,
  InventoryAdjustmentGroup: 30_000_001,
  Order: 5_000_000_001,
  LineItem: 13_000_000_001,
  Fulfillment: 4_000_000_001,
  Refund: 9_000_000_001,
  RefundLineItem: 9_500_000_001,
  OrderEdit: 2_000_000_001,
  Customer: 7_000_000_001,
  AppInstallation: 50_000_001,
  App: 3_000_001,
  WebhookSubscription: 1_100_000_001,
};

/** Hands out increasing numeric ids per kind, unique across every shop of one server. */
export class IdAllocator {
  private readonly next = new Map<ResourceKind, number>();

  allocate(kind: ResourceKind): number {
    const id = this.next.get(kind) ?? ID_BASES[kind];
    this.next.set(kind, id + 1);
    return id;
  }

  reset(): void {
    this.next.clear();
  }
}

export function gid(kind: ResourceKind, id: number): string {
  return `gid://shopify/${kind}/${id}`;
}

export function inventoryLevelGid(locationId: number, itemId: number): string {
  return `gid://shopify/InventoryLevel/${locationId}?inventory_item_id=${itemId}`;
}

export type ParsedGid = { kind: string; id: number; params: URLSearchParams };

/** Parses `gid://shopify/{Type}/{id}[?query]`; null when the string is not a Shopify GID. */
export function parseGid(value: string): ParsedGid | null {
  const match = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d{1,18})(?:\?(.*))?$/.exec(value);
  if (!match) return null;
  const id = Number(match[2]);
  if (!Number.isSafeInteger(id)) return null;
  return { kind: match[1] ?? "", id, params: new URLSearchParams(match[3] ?? "") };
}

/** The numeric id of a GID of the expected kind, or null. Plain numeric strings are accepted too. */
export function idOf(value: unknown, kind: ResourceKind): number | null {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value !== "string") return null;
  if (/^\d{1,18}$/.test(value)) return Number(value);
  const parsed = parseGid(value);
  return parsed && parsed.kind === kind ? parsed.id : null;
}

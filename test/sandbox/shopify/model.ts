/** The records one local shop holds, and the inventory state model (shopify.md §2.8). */

/** Stored quantity states of an inventory level. `on_hand` is derived from them. */
export const STATE_NAMES = [
  "available",
  "committed",
  "reserved",
  "safety_stock",
  "damaged",
  "quality_control",
  "incoming",
] as const;
export type StateName = (typeof STATE_NAMES)[number];
export type QuantityName = StateName | "on_hand";

/** `on_hand` = available + committed + reserved + damaged + safety_stock + quality_control. */
export const ON_HAND_COMPONENTS: readonly StateName[] = [
  "available",
  "committed",
  "reserved",
  "damaged",
  "safety_stock",
  "quality_control",
];

export const QUANTITY_NAMES: readonly QuantityName[] = [...STATE_NAMES, "on_hand"];

export function isStateName(name: string): name is StateName {
  return (STATE_NAMES as readonly string[]).includes(name);
}

export function isQuantityName(name: string): name is QuantityName {
  return name === "on_hand" || isStateName(name);
}

export type Quantities = Record<StateName, number>;

export function zeroQuantities(): Quantities {
  return {
    available: 0,
    committed: 0,
    reserved: 0,
    safety_stock: 0,
    damaged: 0,
    quality_control: 0,
    incoming: 0,
  };
}

export function onHand(q: Quantities): number {
  return ON_HAND_COMPONENTS.reduce((sum, name) => sum + q[name], 0);
}

export function quantityOf(level: LevelRec, name: QuantityName): number {
  return name === "on_hand" ? onHand(level.quantities) : level.quantities[name];
}

export type ProductStatus = "ACTIVE" | "DRAFT" | "ARCHIVED";
export type InventoryPolicy = "DENY" | "CONTINUE";

export interface LocationRec {
  kind: "Location";
  id: number;
  name: string;
  isActive: boolean;
  fulfillsOnlineOrders: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProductRec {
  kind: "Product";
  id: number;
  title: string;
  handle: string;
  status: ProductStatus;
  vendor: string;
  productType: string;
  createdAt: Date;
  updatedAt: Date;
  variantIds: number[];
}

export interface VariantRec {
  kind: "ProductVariant";
  id: number;
  productId: number;
  sku: string | null;
  title: string;
  price: string;
  position: number;
  inventoryPolicy: InventoryPolicy;
  /** Barcode (ISBN, UPC, GTIN); null when none. */
  barcode?: string | null;
  inventoryItemId: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface LevelRec {
  kind: "InventoryLevel";
  itemId: number;
  locationId: number;
  quantities: Quantities;
  /** When each state last changed. */
  quantityUpdatedAt: Record<StateName, Date>;
  createdAt: Date;
  updatedAt: Date;
}

export interface ItemRec {
  kind: "InventoryItem";
  id: number;
  variantId: number;
  tracked: boolean;
  requiresShipping: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** Levels by location id; an item is "stocked" at a location when it has a level there. */
  levels: Map<number, LevelRec>;
}

export interface ChangeRec {
  itemId: number;
  locationId: number;
  name: QuantityName;
  delta: number;
  quantityAfterChange: number;
  ledgerDocumentUri: string | null;
}

export interface AdjustmentGroupRec {
  kind: "InventoryAdjustmentGroup";
  id: number;
  createdAt: Date;
  reason: string;
  referenceDocumentUri: string | null;
  changes: ChangeRec[];
}

export interface CustomerRec {
  id: number;
  email: string;
  firstName: string;
  lastName: string;
  phone: string;
}

export interface AddressRec {
  firstName: string;
  lastName: string;
  address1: string;
  address2: string;
  city: string;
  province: string;
  provinceCode: string;
  zip: string;
  country: string;
  countryCode: string;
  phone: string;
}

export interface LineItemRec {
  id: number;
  variantId: number | null;
  productId: number | null;
  inventoryItemId: number | null;
  sku: string | null;
  title: string;
  variantTitle: string;
  price: string;
  requiresShipping: boolean;
  /** Whether the variant's inventory is tracked (units were committed). */
  tracked: boolean;
  /** Originally ordered. */
  quantity: number;
  /** Net units added (+) or removed (−) by order edits. */
  editDelta: number;
  fulfilled: number;
  /** Unfulfilled units refunded (restock "cancel" or "no_restock"). */
  refundedUnfulfilled: number;
  /** Fulfilled units refunded ("return" or "no_restock"). */
  refundedFulfilled: number;
  /** Location the line's units are committed at (fulfillment order assignment); internal. */
  locationId: number | null;
}

export interface FulfillmentRec {
  id: number;
  orderId: number;
  name: string;
  status: "success" | "cancelled";
  locationId: number | null;
  createdAt: Date;
  updatedAt: Date;
  lines: { lineItemId: number; quantity: number }[];
}

export type RestockType = "return" | "cancel" | "no_restock";

export interface RefundLineRec {
  id: number;
  lineItemId: number;
  quantity: number;
  restockType: RestockType;
  locationId: number | null;
  subtotalCents: number;
}

export interface RefundRec {
  id: number;
  orderId: number;
  createdAt: Date;
  note: string | null;
  restock: boolean;
  lines: RefundLineRec[];
}

export interface OrderEditRec {
  id: number;
  orderId: number;
  createdAt: Date;
  additions: { lineItemId: number; delta: number }[];
  removals: { lineItemId: number; delta: number }[];
}

export interface OrderRec {
  id: number;
  number: number;
  name: string;
  email: string;
  createdAt: Date;
  updatedAt: Date;
  cancelledAt: Date | null;
  cancelReason: string | null;
  customer: CustomerRec;
  shippingAddress: AddressRec;
  lineItems: LineItemRec[];
  fulfillments: FulfillmentRec[];
  refunds: RefundRec[];
  edits: OrderEditRec[];
}

/** Units of a line still committed (ordered + edits − fulfilled − unfulfilled refunds). */
export function unfulfilledOf(line: LineItemRec): number {
  return line.quantity + line.editDelta - line.fulfilled - line.refundedUnfulfilled;
}

/** `current_quantity`: after edits and refunds. */
export function currentQuantityOf(line: LineItemRec): number {
  return line.quantity + line.editDelta - line.refundedUnfulfilled - line.refundedFulfilled;
}

export function priceToCents(price: string): number {
  return Math.round(Number(price) * 100);
}

export function centsToPrice(cents: number): string {
  return (cents / 100).toFixed(2);
}

/** REST timestamps: seconds precision in the shop's UTC offset, e.g. 2026-11-20T10:15:03-05:00. */
export function restTime(date: Date, offsetMinutes: number): string {
  const shifted = new Date(date.getTime() + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${shifted.toISOString().slice(0, 19)}${sign}${hh}:${mm}`;
}

/** GraphQL `DateTime`: UTC, seconds precision, e.g. 2026-11-20T15:15:03Z. */
export function graphqlTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

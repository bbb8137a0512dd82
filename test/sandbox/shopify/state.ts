/** One local shop: its catalog, inventory levels, orders and logs, plus seeding. */
import {
  DEFAULT_CUSTOM_APP_SECRET,
  type AppIdentity,
  type AppTokenRec,
  type CustomAppRec,
  type CustomAppSeed,
  type InstallationRec,
  type RefreshTokenRec,
} from "./apps";
import { LeakyBucket, type BucketConfig } from "./cost";
import { type FaultInjector } from "./faults";
import { gid, type IdAllocator } from "./ids";
import {
  STATE_NAMES,
  isStateName,
  onHand,
  zeroQuantities,
  type AdjustmentGroupRec,
  type InventoryPolicy,
  type ItemRec,
  type LevelRec,
  type LocationRec,
  type OrderRec,
  type ProductRec,
  type ProductStatus,
  type Quantities,
  type StateName,
  type VariantRec,
} from "./model";
import type { TokenRequestLogEntry } from "./oauth";
import type { ApiSubscriptionRec } from "./webhook-subscriptions";
import type { DeliveryConfig, SubscriptionRec } from "./webhooks";

export const DEFAULT_ACCESS_SCOPES = [
  "read_inventory",
  "write_inventory",
  "read_locations",
  "read_orders",
  "read_products",
];

export type LocationSeed = { name: string; isActive?: boolean; fulfillsOnlineOrders?: boolean };

/** Per location name: a number (units `available`) or per-state quantities. */
export type InventorySeed = Record<string, number | Partial<Record<StateName, number>>>;

export type VariantSeed = {
  sku?: string | null;
  title?: string;
  price?: string;
  inventoryPolicy?: InventoryPolicy;
  barcode?: string;
  tracked?: boolean;
  /** Locations the item is stocked at, with quantities. Omitted: stocked everywhere at zero. */
  inventory?: InventorySeed;
};

export type ProductSeed = {
  title: string;
  handle?: string;
  status?: ProductStatus;
  vendor?: string;
  productType?: string;
  /** Omitted: one "Default Title" variant without SKU. */
  variants?: VariantSeed[];
};

export type SubscriptionSeed = {
  topics: string[];
  address: string;
  /** Only these payload fields are sent (dotted paths reach into objects and arrays). */
  includeFields?: string[];
};

export type ShopSeed = {
  domain: string;
  name?: string;
  /** Admin API token of a custom app created in this store (the merchant's token). */
  accessToken?: string;
  accessScopes?: string[];
  /**
   * That custom app's API secret: webhooks of subscriptions created with `accessToken` are signed
   * with it (default DEFAULT_CUSTOM_APP_SECRET).
   */
  apiSecret?: string;
  /** More custom apps of this store, each with its own token, secret and scopes. */
  customApps?: CustomAppSeed[];
  /**
   * The store installed the app (the sandbox's configured app, `seed.app`): true (with the app's
   * scopes) or `{ scopes }`. Default: not installed.
   */
  appInstalled?: boolean | { scopes?: string[] };
  email?: string;
  currency?: string;
  /** UTC offset of REST timestamps in webhook payloads (default −300, i.e. −05:00). */
  timezoneOffsetMinutes?: number;
  /** In location order (the order orders are routed in). Default: one "Warehouse". */
  locations?: LocationSeed[];
  products?: ProductSeed[];
  throttle?: Partial<BucketConfig> & { currentlyAvailable?: number };
  webhooks?: { secret: string; subscriptions: SubscriptionSeed[] };
  delivery?: Partial<DeliveryConfig>;
};

export type EventRec = {
  eventId: string;
  topic: string;
  triggeredAt: Date;
  payload: unknown;
  /** The raw JSON body every delivery of this event carries. */
  body: string;
};

export type MutationLogChange = {
  inventoryItemId: string;
  locationId: string;
  sku: string | null;
  name: string;
  delta: number;
  quantityAfterChange: number;
  ledgerDocumentUri: string | null;
};

export type MutationLogEntry = {
  seq: number;
  at: string;
  mutation: string;
  idempotencyKey: string;
  name: string | null;
  reason: string;
  referenceDocumentUri: string | null;
  adjustmentGroupId: string | null;
  /** The (item, location) pairs the call addressed, including ones that ended up unchanged. */
  requested: { inventoryItemId: string; locationId: string; sku: string | null }[];
  changes: MutationLogChange[];
};

export type ApiRequestLogEntry = {
  seq: number;
  at: string;
  /** The calling app: "app" (token exchange) or `custom:{id}` (a custom app's token). */
  app: string;
  operationName: string | null;
  status: number;
  outcome: "ok" | "errors" | "throttled" | "fault" | "rejected";
  requestedQueryCost: number | null;
  actualQueryCost: number | null;
  idempotencyKeys: string[];
  /** Mutations answered from the idempotency store (no effect). */
  idempotentReplays: number;
};

/**
 * What changed a level: the storefront (`checkout`), an order action (`fulfill`,
 * `cancel_fulfillment`, `cancel`, `refund`, `edit`), the merchant (`merchant_adjust`,
 * `merchant_set`, `activate`) or an app's Admin API mutation (`api`: set/adjust/move).
 */
export type LevelChangeCause =
  | "checkout"
  | "fulfill"
  | "cancel_fulfillment"
  | "cancel"
  | "refund"
  | "edit"
  | "merchant_adjust"
  | "merchant_set"
  | "activate"
  | "api"
  | "other";

/** One change of a level's `available`: the value after it, and by how much it moved. */
export type LevelHistoryEntry = {
  /** Epoch ms; the same instant as the order/refund/mutation record that caused it. */
  at: number;
  inventoryItemId: number;
  locationId: number;
  sku: string | null;
  available: number;
  delta: number;
  cause: LevelChangeCause;
};

/**
 * Entries kept per shop before the oldest are dropped (counted in `levelHistoryDropped`). The
 * bench's runs stay far below: ~200 sales/s for a minute make well under 100,000 changes.
 */
export const LEVEL_HISTORY_LIMIT = 1_000_000;

export type IdempotencyEntry = {
  fingerprint: string;
  payload: unknown;
  expiresAt: number;
};

export class ShopState {
  readonly domain: string;
  name: string;
  accessToken: string;
  accessScopes: string[];
  email: string;
  currency: string;
  timezoneOffsetMinutes: number;
  readonly id: number;
  readonly appInstallationId: number;
  readonly createdAt: Date;

  readonly locations = new Map<number, LocationRec>();
  readonly products = new Map<number, ProductRec>();
  readonly variants = new Map<number, VariantRec>();
  readonly items = new Map<number, ItemRec>();
  readonly orders = new Map<number, OrderRec>();
  readonly adjustmentGroups = new Map<number, AdjustmentGroupRec>();
  readonly idempotency = new Map<string, IdempotencyEntry>();
  readonly mutationLog: MutationLogEntry[] = [];
  readonly requestLog: ApiRequestLogEntry[] = [];
  readonly events: EventRec[] = [];
  /** Every change of a level's `available`, oldest first (see `recordAvailable`). */
  readonly levelHistory: LevelHistoryEntry[] = [];
  /** Entries kept; past it the oldest tenth is dropped and counted. */
  levelHistoryLimit = LEVEL_HISTORY_LIMIT;
  levelHistoryDropped = 0;
  subscriptions: SubscriptionRec[] = [];
  /** Created by apps through the Admin API (`webhookSubscriptionCreate`), in creation order. */
  apiSubscriptions: ApiSubscriptionRec[] = [];
  /** The custom app whose token is `accessToken`. */
  readonly customApp: AppIdentity;
  /** Further custom apps (seed `customApps`). */
  readonly extraCustomApps: CustomAppRec[] = [];
  /** The app's installation; null: not installed. */
  installation: InstallationRec | null = null;
  /** Access tokens issued to the app for this store (token exchange, refresh). */
  readonly appTokens = new Map<string, AppTokenRec>();
  readonly refreshTokens = new Map<string, RefreshTokenRec>();
  /** Requests to `/admin/oauth/access_token` (outcome only, never a token). */
  readonly tokenRequestLog: TokenRequestLogEntry[] = [];
  deliveryConfig: Partial<DeliveryConfig> = {};
  readonly bucket: LeakyBucket;
  readonly faults: FaultInjector;
  nextOrderNumber = 1001;
  private requestSeq = 0;

  constructor(
    seed: ShopSeed,
    readonly ids: IdAllocator,
    faults: FaultInjector,
  ) {
    if (!/^[a-z0-9][a-z0-9.-]*$/i.test(seed.domain)) {
      throw new SeedError(`invalid shop domain ${JSON.stringify(seed.domain)}`);
    }
    this.domain = seed.domain;
    this.name = seed.name ?? seed.domain.split(".")[0] ?? seed.domain;
    this.accessToken = seed.accessToken ?? "shpat_local_sandbox_token";
    this.accessScopes = seed.accessScopes ?? [...DEFAULT_ACCESS_SCOPES];
    this.email = seed.email ?? `owner@${seed.domain}`;
    this.currency = seed.currency ?? "USD";
    this.timezoneOffsetMinutes = seed.timezoneOffsetMinutes ?? -300;
    this.id = ids.allocate("Shop");
    this.appInstallationId = ids.allocate("AppInstallation");
    this.customApp = {
      key: `custom:${this.appInstallationId}`,
      kind: "custom",
      title: "Custom app",
      secret: seed.apiSecret ?? DEFAULT_CUSTOM_APP_SECRET,
    };
    if (typeof this.customApp.secret !== "string" || this.customApp.secret === "") {
      throw new SeedError("apiSecret must be a non-empty string");
    }
    for (const custom of seed.customApps ?? []) this.addCustomApp(custom, ids);
    this.createdAt = new Date();
    this.bucket = new LeakyBucket(seed.throttle ?? {});
    if (seed.throttle?.currentlyAvailable !== undefined) {
      this.bucket.force(seed.throttle.currentlyAvailable);
    }
    this.faults = faults;
    for (const location of seed.locations ?? [{ name: "Warehouse" }]) this.addLocation(location);
    for (const product of seed.products ?? []) this.addProduct(product, this.createdAt);
  }

  private addCustomApp(seed: CustomAppSeed, ids: IdAllocator): void {
    const { accessToken, apiSecret } = seed;
    if (typeof accessToken !== "string" || accessToken === "") {
      throw new SeedError("a custom app needs an accessToken");
    }
    if (typeof apiSecret !== "string" || apiSecret === "") {
      throw new SeedError("a custom app needs an apiSecret");
    }
    const taken =
      accessToken === this.accessToken ||
      this.extraCustomApps.some((c) => c.accessToken === accessToken);
    if (taken) throw new SeedError("custom app tokens must differ from each other");
    const installationId = ids.allocate("AppInstallation");
    this.extraCustomApps.push({
      identity: {
        key: `custom:${installationId}`,
        kind: "custom",
        title: seed.title ?? `Custom app ${this.extraCustomApps.length + 2}`,
        secret: apiSecret,
      },
      accessToken,
      scopes: seed.accessScopes ?? [...DEFAULT_ACCESS_SCOPES],
      installationId,
    });
  }

  nextRequestSeq(): number {
    this.requestSeq += 1;
    return this.requestSeq;
  }

  // --- catalog -------------------------------------------------------------------------------

  addLocation(seed: LocationSeed, now = new Date()): LocationRec {
    if (this.locationByName(seed.name)) {
      throw new SeedError(`location ${JSON.stringify(seed.name)} already exists`);
    }
    const location: LocationRec = {
      kind: "Location",
      id: this.ids.allocate("Location"),
      name: seed.name,
      isActive: seed.isActive ?? true,
      fulfillsOnlineOrders: seed.fulfillsOnlineOrders ?? true,
      createdAt: now,
      updatedAt: now,
    };
    this.locations.set(location.id, location);
    return location;
  }

  /** Creates a product with its variants, inventory items and levels. */
  addProduct(seed: ProductSeed, now: Date): ProductRec {
    if (!seed.title) throw new SeedError("a product needs a title");
    const product: ProductRec = {
      kind: "Product",
      id: this.ids.allocate("Product"),
      title: seed.title,
      handle: this.uniqueHandle(seed.handle ?? slug(seed.title)),
      status: seed.status ?? "ACTIVE",
      vendor: seed.vendor ?? this.name,
      productType: seed.productType ?? "",
      createdAt: now,
      updatedAt: now,
      variantIds: [],
    };
    this.products.set(product.id, product);
    this.handles.set(product.handle, product.id);
    const variants = seed.variants ?? [{}];
    for (const variantSeed of variants) this.addVariant(product, variantSeed, now);
    return product;
  }

  /** Handle → product that took it (checked against the live product: products get deleted). */
  private readonly handles = new Map<string, number>();

  private uniqueHandle(base: string): string {
    // An index, not a scan of every product: seeding 10,000 products must stay linear.
    const taken = (handle: string) => {
      const id = this.handles.get(handle);
      return id !== undefined && this.products.get(id)?.handle === handle;
    };
    if (!taken(base)) return base;
    let n = 1;
    while (taken(`${base}-${n}`)) n += 1;
    return `${base}-${n}`;
  }

  addVariant(product: ProductRec, seed: VariantSeed, now: Date): VariantRec {
    const variantId = this.ids.allocate("ProductVariant");
    const itemId = this.ids.allocate("InventoryItem");
    const variant: VariantRec = {
      kind: "ProductVariant",
      id: variantId,
      productId: product.id,
      sku: seed.sku === undefined || seed.sku === "" ? null : seed.sku,
      title: seed.title ?? "Default Title",
      price: seed.price ?? "10.00",
      position: product.variantIds.length + 1,
      inventoryPolicy: seed.inventoryPolicy ?? "DENY",
      barcode: seed.barcode ?? null,
      inventoryItemId: itemId,
      createdAt: now,
      updatedAt: now,
    };
    const item: ItemRec = {
      kind: "InventoryItem",
      id: itemId,
      variantId,
      tracked: seed.tracked ?? true,
      requiresShipping: true,
      createdAt: now,
      updatedAt: now,
      levels: new Map(),
    };
    if (seed.inventory === undefined) {
      for (const location of this.locations.values()) {
        item.levels.set(location.id, newLevel(itemId, location.id, zeroQuantities(), now));
      }
    } else {
      for (const [locationName, value] of Object.entries(seed.inventory)) {
        const location = this.locationByName(locationName);
        if (!location) throw new SeedError(`unknown location ${JSON.stringify(locationName)}`);
        item.levels.set(location.id, newLevel(itemId, location.id, seedQuantities(value), now));
      }
    }
    product.variantIds.push(variantId);
    this.variants.set(variantId, variant);
    this.items.set(itemId, item);
    return variant;
  }

  /** Stocks an item at a location (creates the level). */
  activate(item: ItemRec, location: LocationRec, quantities: Quantities, now: Date): LevelRec {
    const existing = item.levels.get(location.id);
    if (existing) return existing;
    const level = newLevel(item.id, location.id, quantities, now);
    item.levels.set(location.id, level);
    this.recordAvailable(level, quantities.available, now, "activate");
    return level;
  }

  // --- lookups -------------------------------------------------------------------------------

  /** Locations in location order (creation order). */
  orderedLocations(): LocationRec[] {
    return [...this.locations.values()];
  }

  locationByName(name: string): LocationRec | undefined {
    return [...this.locations.values()].find((l) => l.name === name);
  }

  /** SKU → variant id, filled on lookup and checked on every hit (SKUs can be edited). */
  private readonly skuIndex = new Map<string, VariantRec["id"]>();

  variantBySku(sku: string): VariantRec | undefined {
    const cached = this.skuIndex.get(sku);
    if (cached !== undefined) {
      const variant = this.variants.get(cached);
      if (variant?.sku === sku) return variant;
      this.skuIndex.delete(sku);
    }
    for (const variant of this.variants.values()) {
      if (variant.sku === sku) {
        this.skuIndex.set(sku, variant.id);
        return variant;
      }
    }
    return undefined;
  }

  itemOfVariant(variant: VariantRec): ItemRec {
    const item = this.items.get(variant.inventoryItemId);
    if (!item) throw new Error(`variant ${variant.id} has no inventory item`);
    return item;
  }

  variantOfItem(item: ItemRec): VariantRec {
    const variant = this.variants.get(item.variantId);
    if (!variant) throw new Error(`inventory item ${item.id} has no variant`);
    return variant;
  }

  productOfVariant(variant: VariantRec): ProductRec {
    const product = this.products.get(variant.productId);
    if (!product) throw new Error(`variant ${variant.id} has no product`);
    return product;
  }

  skuOfItem(itemId: number): string | null {
    const item = this.items.get(itemId);
    return item ? (this.variants.get(item.variantId)?.sku ?? null) : null;
  }

  level(itemId: number, locationId: number): LevelRec | undefined {
    return this.items.get(itemId)?.levels.get(locationId);
  }

  /** Units sellable online: `available` summed over the item's levels. */
  totalAvailable(item: ItemRec): number {
    let total = 0;
    for (const level of item.levels.values()) total += level.quantities.available;
    return total;
  }

  // --- inventory -----------------------------------------------------------------------------

  /**
   * Applies state deltas (all levels must exist; callers validate first). Returns the levels
   * whose quantities changed, once each, in the order first touched.
   */
  applyDeltas(
    deltas: readonly LevelDelta[],
    now: Date,
    cause: LevelChangeCause = "other",
  ): LevelRec[] {
    const changed: LevelRec[] = [];
    const availableBefore: number[] = [];
    for (const { itemId, locationId, name, delta } of deltas) {
      if (delta === 0) continue;
      const level = this.level(itemId, locationId);
      if (!level) throw new Error(`item ${itemId} is not stocked at location ${locationId}`);
      if (!changed.includes(level)) {
        changed.push(level);
        availableBefore.push(level.quantities.available);
      }
      level.quantities[name] += delta;
      level.quantityUpdatedAt[name] = now;
      level.updatedAt = now;
    }
    changed.forEach((level, i) => {
      const delta = level.quantities.available - availableBefore[i]!;
      if (delta !== 0) this.recordAvailable(level, delta, now, cause);
    });
    return changed;
  }

  /** Appends to the level history (bounded: the oldest tenth goes when the limit is reached). */
  private recordAvailable(
    level: LevelRec,
    delta: number,
    now: Date,
    cause: LevelChangeCause,
  ): void {
    if (this.levelHistory.length >= this.levelHistoryLimit) {
      const drop =
        this.levelHistory.length - this.levelHistoryLimit + Math.ceil(this.levelHistoryLimit / 10);
      this.levelHistory.splice(0, drop);
      this.levelHistoryDropped += drop;
    }
    this.levelHistory.push({
      at: now.getTime(),
      inventoryItemId: level.itemId,
      locationId: level.locationId,
      sku: this.skuOfItem(level.itemId),
      available: level.quantities.available,
      delta,
      cause,
    });
  }

  // --- dump ----------------------------------------------------------------------------------

  /** Everything, for `GET /_control/shops/{shop}/state`. */
  snapshot(): ShopSnapshot {
    const locationName = (id: number | null): string | null =>
      id === null ? null : (this.locations.get(id)?.name ?? null);
    return {
      domain: this.domain,
      name: this.name,
      id: gid("Shop", this.id),
      accessToken: this.accessToken,
      accessScopes: this.accessScopes,
      currency: this.currency,
      timezoneOffsetMinutes: this.timezoneOffsetMinutes,
      locations: this.orderedLocations().map((l) => ({
        id: gid("Location", l.id),
        legacyId: l.id,
        name: l.name,
        isActive: l.isActive,
        fulfillsOnlineOrders: l.fulfillsOnlineOrders,
      })),
      products: [...this.products.values()].map((p) => ({
        id: gid("Product", p.id),
        legacyId: p.id,
        title: p.title,
        handle: p.handle,
        status: p.status,
        variants: p.variantIds.flatMap((variantId) => {
          const v = this.variants.get(variantId);
          if (!v) return [];
          const item = this.itemOfVariant(v);
          return [
            {
              id: gid("ProductVariant", v.id),
              legacyId: v.id,
              sku: v.sku,
              title: v.title,
              price: v.price,
              inventoryPolicy: v.inventoryPolicy,
              inventoryItem: {
                id: gid("InventoryItem", item.id),
                legacyId: item.id,
                tracked: item.tracked,
                levels: [...item.levels.values()].map((level) => ({
                  locationId: gid("Location", level.locationId),
                  location: locationName(level.locationId),
                  ...level.quantities,
                  on_hand: onHand(level.quantities),
                  updatedAt: level.updatedAt.toISOString(),
                })),
              },
            },
          ];
        }),
      })),
      orders: [...this.orders.values()].map((o) => ({
        id: gid("Order", o.id),
        legacyId: o.id,
        name: o.name,
        createdAt: o.createdAt.toISOString(),
        updatedAt: o.updatedAt.toISOString(),
        cancelledAt: o.cancelledAt?.toISOString() ?? null,
        cancelReason: o.cancelReason,
        lineItems: o.lineItems.map((line) => ({
          id: line.id,
          variantId: line.variantId,
          sku: line.sku,
          quantity: line.quantity,
          editDelta: line.editDelta,
          fulfilled: line.fulfilled,
          refundedUnfulfilled: line.refundedUnfulfilled,
          refundedFulfilled: line.refundedFulfilled,
          unfulfilled: line.quantity + line.editDelta - line.fulfilled - line.refundedUnfulfilled,
          location: locationName(line.locationId),
          locationId: line.locationId === null ? null : gid("Location", line.locationId),
        })),
        fulfillments: o.fulfillments.map((f) => ({
          id: f.id,
          name: f.name,
          status: f.status,
          location: locationName(f.locationId),
          lines: f.lines,
        })),
        refunds: o.refunds.map((r) => ({
          id: r.id,
          note: r.note,
          lines: r.lines.map((l) => ({ ...l, location: locationName(l.locationId) })),
        })),
        edits: o.edits.map((e) => ({ id: e.id, additions: e.additions, removals: e.removals })),
      })),
    };
  }
}

export type LevelDelta = { itemId: number; locationId: number; name: StateName; delta: number };

export type ShopSnapshot = {
  domain: string;
  name: string;
  id: string;
  accessToken: string;
  accessScopes: string[];
  currency: string;
  timezoneOffsetMinutes: number;
  locations: unknown[];
  products: {
    id: string;
    legacyId: number;
    title: string;
    handle: string;
    status: string;
    variants: {
      id: string;
      legacyId: number;
      sku: string | null;
      title: string;
      price: string;
      inventoryPolicy: string;
      inventoryItem: {
        id: string;
        legacyId: number;
        tracked: boolean;
        levels: ({ locationId: string; location: string | null; on_hand: number } & Quantities)[];
      };
    }[];
  }[];
  orders: unknown[];
};

export class SeedError extends Error {}

function newLevel(itemId: number, locationId: number, quantities: Quantities, now: Date): LevelRec {
  const stamps = {} as Record<StateName, Date>;
  for (const name of STATE_NAMES) stamps[name] = now;
  return {
    kind: "InventoryLevel",
    itemId,
    locationId,
    quantities,
    quantityUpdatedAt: stamps,
    createdAt: now,
    updatedAt: now,
  };
}

export function seedQuantities(value: number | Partial<Record<string, number>>): Quantities {
  const q = zeroQuantities();
  if (typeof value === "number") {
    q.available = value;
    return q;
  }
  for (const [name, amount] of Object.entries(value)) {
    if (!isStateName(name)) throw new SeedError(`unknown quantity state ${JSON.stringify(name)}`);
    if (typeof amount !== "number" || !Number.isInteger(amount)) {
      throw new SeedError(`quantity ${name} must be an integer`);
    }
    q[name] = amount;
  }
  return q;
}

function slug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/**
 * The local Walmart's data: sellers (partner id, API keys, ship nodes), their items with
 * per-node stock, orders, feeds, webhook subscriptions and logs. Pure data plus small helpers;
 * the actions that change it live in sandbox.ts.
 *
 * Stock model (README "Inventory model"): per ship node, `inputQty` is the quantity the seller
 * last set, `reservedQty` the units ordered but not yet shipped, and `availToSellQty =
 * max(0, inputQty − reservedQty)`, as in Walmart's multi-node samples (input 436, reserved 3,
 * available 433). With `inventoryModel: "decrement"` an order lowers `inputQty` instead.
 */
import type { Rng } from "../shopify/rng";
import { digits, upcFor, wpid } from "./ids";
import {
  DEFAULT_BUCKETS,
  TokenBucket,
  isOperation,
  type BucketConfig,
  type Operation,
} from "./throttle";

export type PublishedStatus =
  "PUBLISHED" | "UNPUBLISHED" | "READY_TO_PUBLISH" | "IN_PROGRESS" | "STAGE" | "SYSTEM_PROBLEM";
export type LifecycleStatus = "ACTIVE" | "ARCHIVED" | "RETIRED";

export type NodeStock = {
  inputQty: number;
  reservedQty: number;
  /** true ("reserve" model): reserved units are not available; false ("decrement"). */
  reserves: boolean;
};

export type ItemRec = {
  sku: string;
  wpid: string;
  itemId: string;
  upc: string;
  gtin: string;
  productName: string;
  productType: string;
  category: string;
  shelf: string;
  price: { currency: "USD"; amount: number };
  publishedStatus: PublishedStatus;
  lifecycleStatus: LifecycleStatus;
  unpublishedReasons: string[];
  /** Per ship node id. */
  stock: Map<string, NodeStock>;
};

export type ItemSeed = {
  sku: string;
  productName?: string;
  productType?: string;
  category?: string;
  upc?: string;
  gtin?: string;
  wpid?: string;
  itemId?: string;
  price?: number;
  publishedStatus?: PublishedStatus;
  lifecycleStatus?: LifecycleStatus;
  unpublishedReasons?: string[];
  /** Input quantity at the seller's default (first) ship node. */
  quantity?: number;
  /** Input quantity per ship node id (overrides `quantity`). */
  inventory?: Record<string, number>;
};

export type ShipNodeRec = { shipNode: string; name: string };

export type AuthMethod = "BASIC_AUTH" | "HMAC" | "OAUTH";
export type AuthDetails = {
  authMethod: AuthMethod;
  authHeaderName?: string;
  userName?: string;
  password?: string;
  clientId?: string;
  clientSecret?: string;
  authUrl?: string;
};

export type SubscriptionRec = {
  subscriptionId: string;
  partnerId: string;
  eventType: string;
  eventVersion: string;
  resourceName: string;
  eventUrl: string;
  status: "ACTIVE" | "INACTIVE";
  authDetails: AuthDetails | null;
  headers: Record<string, string> | null;
};

export type SubscriptionInput = {
  eventType?: unknown;
  eventVersion?: unknown;
  resourceName?: unknown;
  eventUrl?: unknown;
  status?: unknown;
  authDetails?: unknown;
  headers?: unknown;
};

export type SellerSeed = {
  partnerId: string;
  name?: string;
  /** Numeric seller id used in order cursors (default derived from partnerId). */
  sellerId?: string;
  clientId?: string;
  clientSecret?: string;
  /** Ship node ids (or records); the first is the default node. Default: last 6 digits of partnerId. */
  shipNodes?: (string | { shipNode: string; name?: string })[];
  items?: ItemSeed[];
  throttle?: Partial<Record<Operation, Partial<BucketConfig>>>;
  /** Webhook subscriptions created at seed time (same records as POST /v3/webhooks/subscriptions). */
  subscriptions?: SubscriptionInput[];
};

export type LineStatus = "Created" | "Acknowledged" | "Shipped" | "Cancelled";

export type OrderLineRec = {
  lineNumber: string;
  sku: string;
  productName: string;
  quantity: number;
  unitPrice: number;
  shipNode: string;
  acknowledged: number;
  shipped: number;
  cancelled: number;
  cancellationReason: string | null;
  intentToCancel: boolean;
  tracking: { carrier: string; trackingNumber: string; shipDateTime: number } | null;
  statusDate: number;
};

export type OrderRec = {
  purchaseOrderId: string;
  customerOrderId: string;
  customerEmailId: string;
  partnerId: string;
  orderDate: number;
  lastModified: number;
  estimatedShipDate: number;
  estimatedDeliveryDate: number;
  buyer: {
    name: string;
    phone: string;
    address1: string;
    city: string;
    state: string;
    postalCode: string;
  };
  lines: OrderLineRec[];
};

export type FeedStatus = "RECEIVED" | "INPROGRESS" | "PROCESSED" | "ERROR";
export type IngestionStatus =
  "INPROGRESS" | "SUCCESS" | "DATA_ERROR" | "SYSTEM_ERROR" | "TIMEOUT_ERROR";
export type IngestionError = {
  type: "DATA_ERROR" | "SYSTEM_ERROR" | "TIMEOUT_ERROR";
  code: string;
  description: string;
};

export type FeedItemRec = {
  index: number;
  sku: string;
  /** Requested absolute quantities per ship node (null: invalid entry). */
  shipNodes: { shipNode: string; amount: number }[];
  status: IngestionStatus;
  errors: IngestionError[];
};

export type FeedRec = {
  feedId: string;
  partnerId: string;
  feedType: string;
  fileName: string | null;
  format: "json" | "xml";
  specVersion: string | null;
  submittedAt: number;
  modifiedAt: number;
  status: FeedStatus;
  /** Feed-level errors (status ERROR: the file as a whole failed). */
  ingestionErrors: IngestionError[];
  items: FeedItemRec[];
  /** Real times (ms) of the scheduled transitions. */
  inProgressAt: number;
  processAt: number;
  correlationId: string | null;
};

export type InventoryWriteRec = {
  seq: number;
  at: string;
  atMs: number;
  partnerId: string;
  sku: string;
  shipNode: string;
  previousInputQty: number;
  inputQty: number;
  availToSellQty: number;
  source: "PUT /v3/inventory" | "PUT /v3/inventories" | "feed" | "control";
  feedId: string | null;
  correlationId: string | null;
};

export class SeedError extends Error {}

export class SellerState {
  readonly partnerId: string;
  name: string;
  readonly sellerId: string;
  clientId: string;
  clientSecret: string;
  keysRevoked = false;
  readonly shipNodes: ShipNodeRec[];
  readonly items = new Map<string, ItemRec>();
  readonly orders = new Map<string, OrderRec>();
  readonly feeds = new Map<string, FeedRec>();
  readonly subscriptions = new Map<string, SubscriptionRec>();
  readonly buckets = new Map<Operation, TokenBucket>();

  constructor(
    seed: SellerSeed,
    private readonly rng: () => Rng,
    private readonly timeScale: () => number,
    now: number,
    /** Inventory model: true = orders reserve units ("reserve"), false = "decrement". */
    private readonly reserves = true,
  ) {
    if (!seed || typeof seed.partnerId !== "string" || !/^\w[\w-]*$/.test(seed.partnerId)) {
      throw new SeedError("a seller needs a partnerId (letters, digits, - or _)");
    }
    this.partnerId = seed.partnerId;
    this.name = seed.name ?? `Seller ${seed.partnerId}`;
    this.sellerId =
      seed.sellerId ??
      String(Number.parseInt(seed.partnerId.replace(/\D/g, "").slice(-4) || "1", 10));
    this.clientId = seed.clientId ?? `sandbox-client-${seed.partnerId}`;
    this.clientSecret = seed.clientSecret ?? `sandbox-secret-${seed.partnerId}`;
    const nodes = seed.shipNodes ?? [seed.partnerId.replace(/\D/g, "").slice(-6) || "100001"];
    if (!Array.isArray(nodes) || nodes.length === 0)
      throw new SeedError("shipNodes must be a non-empty array");
    this.shipNodes = nodes.map((n, i) => {
      const rec = typeof n === "string" ? { shipNode: n } : n;
      if (!rec || typeof rec.shipNode !== "string" || rec.shipNode === "") {
        throw new SeedError(`shipNodes[${i}] needs a shipNode id`);
      }
      return { shipNode: rec.shipNode, name: rec.name ?? `Ship node ${rec.shipNode}` };
    });
    if (new Set(this.shipNodes.map((n) => n.shipNode)).size !== this.shipNodes.length) {
      throw new SeedError("duplicate ship node ids");
    }
    for (const [op, config] of Object.entries(DEFAULT_BUCKETS) as [Operation, BucketConfig][]) {
      this.buckets.set(op, new TokenBucket({ ...config }, timeScale, now));
    }
    for (const [op, config] of Object.entries(seed.throttle ?? {})) {
      if (!isOperation(op)) throw new SeedError(`unknown throttle operation ${op}`);
      this.configureBucket(op, config ?? {}, now);
    }
    for (const item of seed.items ?? []) this.addItem(item);
  }

  get defaultShipNode(): string {
    return this.shipNodes[0]?.shipNode ?? "";
  }

  hasShipNode(id: string): boolean {
    return this.shipNodes.some((n) => n.shipNode === id);
  }

  configureBucket(
    op: Operation,
    config: Partial<BucketConfig> & { tokens?: number },
    now: number,
  ): void {
    const { tokens, ...rest } = config;
    for (const [k, v] of Object.entries(rest)) {
      if (k === "scaled") {
        if (typeof v !== "boolean") throw new SeedError("scaled must be a boolean");
      } else if (k === "capacity" || k === "windowMs") {
        if (typeof v !== "number" || !(v > 0))
          throw new SeedError(`${k} must be a positive number`);
      } else {
        throw new SeedError(`unknown throttle setting ${k}`);
      }
    }
    if (tokens !== undefined && !(typeof tokens === "number" && tokens >= 0)) {
      throw new SeedError("tokens must be >= 0");
    }
    this.buckets.get(op)?.configure(rest, now, tokens);
  }

  bucket(op: Operation): TokenBucket {
    let bucket = this.buckets.get(op);
    if (!bucket) {
      bucket = new TokenBucket({ ...DEFAULT_BUCKETS[op] }, this.timeScale, Date.now());
      this.buckets.set(op, bucket);
    }
    return bucket;
  }

  addItem(seed: ItemSeed): ItemRec {
    if (!seed || typeof seed.sku !== "string" || seed.sku === "")
      throw new SeedError("an item needs a sku");
    if (this.items.has(seed.sku)) throw new SeedError(`item ${seed.sku} already exists`);
    const rng = this.rng();
    const n = this.items.size + 1;
    const upc = seed.upc ?? upcFor(Number.parseInt(digits(rng, 7), 10) * 10 + n);
    const stock = new Map<string, NodeStock>();
    for (const node of this.shipNodes)
      stock.set(node.shipNode, { inputQty: 0, reservedQty: 0, reserves: this.reserves });
    if (seed.inventory !== undefined) {
      for (const [node, qty] of Object.entries(seed.inventory)) {
        if (!this.hasShipNode(node))
          throw new SeedError(`item ${seed.sku}: unknown ship node ${node}`);
        if (!Number.isInteger(qty) || qty < 0)
          throw new SeedError(`item ${seed.sku}: bad quantity at ${node}`);
        stock.set(node, { inputQty: qty, reservedQty: 0, reserves: this.reserves });
      }
    } else if (seed.quantity !== undefined) {
      if (!Number.isInteger(seed.quantity) || seed.quantity < 0) {
        throw new SeedError(`item ${seed.sku}: quantity must be an integer >= 0`);
      }
      stock.set(this.defaultShipNode, {
        inputQty: seed.quantity,
        reservedQty: 0,
        reserves: this.reserves,
      });
    }
    const item: ItemRec = {
      sku: seed.sku,
      wpid: seed.wpid ?? wpid(rng),
      itemId: seed.itemId ?? digits(rng, 9).replace(/^0/, "1"),
      upc,
      gtin: seed.gtin ?? `00${upc}`,
      productName: seed.productName ?? `Product ${seed.sku}`,
      productType: seed.productType ?? "Home Decor",
      category: seed.category ?? "Home",
      shelf: JSON.stringify(["Home Page", seed.category ?? "Home"]),
      price: { currency: "USD", amount: seed.price ?? 19.99 },
      publishedStatus: seed.publishedStatus ?? "PUBLISHED",
      lifecycleStatus: seed.lifecycleStatus ?? "ACTIVE",
      unpublishedReasons: seed.unpublishedReasons ?? [],
      stock,
    };
    this.items.set(item.sku, item);
    return item;
  }
}

export function availToSell(stock: NodeStock): number {
  return Math.max(0, stock.inputQty - (stock.reserves ? stock.reservedQty : 0));
}

export function totalAvailable(item: ItemRec): number {
  let total = 0;
  for (const stock of item.stock.values()) total += availToSell(stock);
  return total;
}

/** Units of a line still open (neither shipped nor cancelled). */
export function openQuantity(line: OrderLineRec): number {
  return line.quantity - line.shipped - line.cancelled;
}

export function createdQuantity(line: OrderLineRec): number {
  return line.quantity - line.acknowledged - line.shipped - line.cancelled;
}

/** A JSON-friendly view of an item with its stock per node. */
export function itemView(item: ItemRec) {
  const nodes = [...item.stock.entries()].map(([shipNode, s]) => ({
    shipNode,
    inputQty: s.inputQty,
    reservedQty: s.reservedQty,
    availToSellQty: availToSell(s),
  }));
  return {
    sku: item.sku,
    wpid: item.wpid,
    itemId: item.itemId,
    upc: item.upc,
    gtin: item.gtin,
    productName: item.productName,
    productType: item.productType,
    category: item.category,
    price: item.price,
    publishedStatus: item.publishedStatus,
    lifecycleStatus: item.lifecycleStatus,
    unpublishedReasons: item.unpublishedReasons,
    availToSellQty: nodes.reduce((a, n) => a + n.availToSellQty, 0),
    nodes,
  };
}

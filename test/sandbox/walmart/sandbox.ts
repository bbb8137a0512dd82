/**
 * The whole local Walmart in one object: sellers, tokens, orders, feeds, subscriptions, the
 * webhook dispatcher, faults, logs, randomness, clock and time scale. The HTTP server and the
 * control routes call into this; tests can too, without HTTP. In-process functions take the same
 * bodies as the control routes and throw `ControlError` where the route would answer an error.
 */
import { Rng } from "../shopify/rng";
import { ControlError, badRequest, notFound, unprocessable, type ErrorEnvelope } from "./errors";
import { findEventType, type OrderSubEventType } from "./events";
import { ApiFaults, FaultError, type ApiFaultRule } from "./faults";
import { accessToken, digits, feedId as newFeedId, timeUuid } from "./ids";
import {
  envelope,
  itemPayload,
  orderEventPayload,
  orderPayload,
  type EventLineStatus,
} from "./payloads";
import {
  SeedError,
  SellerState,
  availToSell,
  createdQuantity,
  itemView,
  openQuantity,
  totalAvailable,
  type AuthDetails,
  type FeedItemRec,
  type FeedRec,
  type IngestionError,
  type InventoryWriteRec,
  type ItemRec,
  type ItemSeed,
  type OrderLineRec,
  type OrderRec,
  type SellerSeed,
  type SubscriptionInput,
  type SubscriptionRec,
} from "./state";
import { isOperation, type BucketConfig, type Operation } from "./throttle";
import {
  WebhookConfigError,
  WebhookDispatcher,
  type DeliveryConfig,
  type DeliveryFaultRule,
  type EventRec,
} from "./webhooks";

export type SandboxSeed = {
  sellers?: SellerSeed[];
  delivery?: Partial<DeliveryConfig>;
};

export type SandboxOptions = {
  /** Multiplies feed processing time, the hourly feed window and webhook retry intervals. */
  timeScale?: number;
  /** Seeds the RNG (ids, tokens, delays, duplicates, random faults). */
  rngSeed?: number;
  seed?: SandboxSeed | SellerSeed | SellerSeed[];
  delivery?: Partial<DeliveryConfig>;
  /** JSON error envelope key: "error" (captured responses, default) or "errors" (OpenAPI). */
  errorEnvelope?: ErrorEnvelope;
  /** "reserve" (default): orders reserve units, availToSell = input − reserved; "decrement". */
  inventoryModel?: "reserve" | "decrement";
  /** Unscaled feed processing time in minutes (default 30), ±20 % seeded jitter. */
  feedProcessingMinutes?: number;
  /** Access token lifetime in real seconds (default 900, not scaled). */
  tokenTtlSeconds?: number;
  /** GET /v3/orders with no match: 404 CONTENT_NOT_FOUND (older behaviour) instead of 200 []. */
  emptyOrdersAs404?: boolean;
  /** Largest feed file accepted (default 5 MB). */
  feedMaxBytes?: number;
  /** Accept a feed sent as a raw JSON/XML body instead of multipart/form-data (default false). */
  feedAcceptRawBody?: boolean;
};

export type RequestLogRec = {
  seq: number;
  at: string;
  method: string;
  path: string;
  operation: string | null;
  partnerId: string | null;
  correlationId: string | null;
  status: number;
  outcome: "ok" | "error" | "throttled" | "fault" | "unauthorized";
  errorCode: string | null;
  tokenCount: number | null;
};

type TokenRec = { partnerId: string; issuedAt: number; expiresAt: number; revoked: boolean };

export type PlaceOrderInput = {
  lines: { sku: string; qty?: number; quantity?: number; unitPrice?: number }[];
  buyer?: { name?: string; phone?: string; postalCode?: string; state?: string; city?: string };
  /** Epoch ms or ISO date (default now). */
  orderDate?: number | string;
};

export type CancelKind = "auto" | "intent" | "fraud" | "seller" | "customer";
export type CancelInput = {
  kind?: CancelKind;
  /** Units to cancel (default: every open unit of the line). */
  quantity?: number;
  /** cancellationReason to record (defaults per kind). */
  reason?: string;
};

const DAY = 86_400_000;
const FIRST_NAMES = ["Ava", "Liam", "Mia", "Noah", "Zoe", "Ethan", "Ivy", "Lucas", "Emma", "Owen"];
const LAST_NAMES = [
  "Cole",
  "Matt",
  "Kelly",
  "Becker",
  "Ashley",
  "Nguyen",
  "Rivera",
  "Stone",
  "Park",
];
const CITIES = [
  ["Bentonville", "AR", "72712"],
  ["San Francisco", "CA", "94133"],
  ["Chicago", "IL", "60646"],
  ["Miami Beach", "FL", "33141"],
  ["Warners", "NY", "13164"],
] as const;

const CANCEL_REASONS: Record<CancelKind, string> = {
  auto: "Auto-cancelled due to expiration of estimated ship date",
  intent: "CUSTOMER_REQUESTED_SELLER_TO_CANCEL",
  fraud: "FRAUD",
  seller: "SELLER_CANCEL_OUT_OF_STOCK",
  customer: "CUSTOMER_REQUESTED_SELLER_TO_CANCEL",
};

export class Sandbox {
  readonly sellers = new Map<string, SellerState>();
  readonly webhooks: WebhookDispatcher;
  readonly faults: ApiFaults;
  readonly events: EventRec[] = [];
  readonly inventoryWrites: InventoryWriteRec[] = [];
  readonly requestLog: RequestLogRec[] = [];
  throttledCount = 0;
  timeScale: number;
  readonly options: Required<Omit<SandboxOptions, "timeScale" | "rngSeed" | "seed" | "delivery">>;
  private rng: Rng;
  private rngSeed: number | undefined;
  private readonly tokens = new Map<string, TokenRec>();
  private readonly feedTimers = new Map<string, NodeJS.Timeout[]>();
  /** Whole-file errors of submitted feeds, reported (status ERROR) when they are processed. */
  private readonly fileErrors = new Map<string, IngestionError>();
  private feedWaiters: (() => void)[] = [];
  private clockOffsetMs = 0;
  private orderSeq = 0;
  private writeSeq = 0;
  private requestSeq = 0;
  private readonly startupSeed: SandboxSeed | undefined;
  private readonly startupDelivery: Partial<DeliveryConfig>;
  private closed = false;

  constructor(options: SandboxOptions = {}) {
    this.timeScale = options.timeScale ?? 1;
    this.rngSeed = options.rngSeed;
    this.rng = new Rng(options.rngSeed);
    this.options = {
      errorEnvelope: options.errorEnvelope ?? "error",
      inventoryModel: options.inventoryModel ?? "reserve",
      feedProcessingMinutes: options.feedProcessingMinutes ?? 30,
      tokenTtlSeconds: options.tokenTtlSeconds ?? 900,
      emptyOrdersAs404: options.emptyOrdersAs404 ?? false,
      feedMaxBytes: options.feedMaxBytes ?? 5 * 1024 * 1024,
      feedAcceptRawBody: options.feedAcceptRawBody ?? false,
    };
    this.faults = new ApiFaults(() => this.rng);
    this.webhooks = new WebhookDispatcher({
      rng: () => this.rng,
      timeScale: () => this.timeScale,
      newId: () => timeUuid(this.rng),
    });
    this.startupSeed = normalizeSeed(options.seed);
    this.startupDelivery = { ...options.delivery, ...this.startupSeed?.delivery };
    this.configureDelivery(this.startupDelivery);
    if (this.startupSeed) this.applySeed({ sellers: this.startupSeed.sellers ?? [] });
  }

  // --- clock, rng ------------------------------------------------------------------------------

  /** The sandbox clock: real time plus `advanceClock` offsets (timers stay in real time). */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  advanceClock(ms: number): number {
    if (!(typeof ms === "number" && Number.isFinite(ms) && ms >= 0))
      throw badRequest("ms must be >= 0");
    this.clockOffsetMs += ms;
    return this.now();
  }

  setRngSeed(seed: number | undefined): void {
    this.rngSeed = seed;
    this.rng = new Rng(seed);
  }

  random(): Rng {
    return this.rng;
  }

  // --- sellers ---------------------------------------------------------------------------------

  createSeller(seed: SellerSeed): SellerState {
    if (!seed || typeof seed.partnerId !== "string") throw badRequest("a seller needs a partnerId");
    if (this.sellers.has(seed.partnerId))
      throw badRequest(`seller ${seed.partnerId} already exists`);
    for (const other of this.sellers.values()) {
      if (seed.clientId !== undefined && other.clientId === seed.clientId) {
        throw badRequest(`clientId ${seed.clientId} is already used by ${other.partnerId}`);
      }
    }
    let seller: SellerState;
    try {
      seller = new SellerState(
        seed,
        () => this.rng,
        () => this.timeScale,
        this.now(),
        this.options.inventoryModel === "reserve",
      );
    } catch (error) {
      if (error instanceof SeedError) throw badRequest(error.message);
      throw error;
    }
    this.sellers.set(seller.partnerId, seller);
    try {
      if (seed.subscriptions) this.createSubscriptions(seller.partnerId, seed.subscriptions);
    } catch (error) {
      this.sellers.delete(seller.partnerId);
      throw error;
    }
    return seller;
  }

  seller(partnerId: string): SellerState {
    const seller = this.sellers.get(partnerId);
    if (!seller) throw notFound(`seller ${partnerId}`);
    return seller;
  }

  deleteSeller(partnerId: string): void {
    this.seller(partnerId);
    this.cancelFeedTimers(partnerId);
    this.sellers.delete(partnerId);
    this.webhooks.forgetPartner(partnerId);
    for (const [token, rec] of this.tokens)
      if (rec.partnerId === partnerId) this.tokens.delete(token);
  }

  applySeed(seed: SandboxSeed | SellerSeed | SellerSeed[]): SellerState[] {
    const normalized = normalizeSeed(seed) ?? {};
    if (normalized.delivery) this.configureDelivery(normalized.delivery);
    return (normalized.sellers ?? []).map((s) => this.createSeller(s));
  }

  /** Empties everything, then re-applies the startup delivery config and (unless false) seed. */
  reset(reseed = true): void {
    for (const timers of this.feedTimers.values()) for (const t of timers) clearTimeout(t);
    this.feedTimers.clear();
    this.fileErrors.clear();
    this.webhooks.reset();
    this.configureDelivery(this.startupDelivery);
    this.sellers.clear();
    this.tokens.clear();
    this.faults.clear();
    this.events.length = 0;
    this.inventoryWrites.length = 0;
    this.requestLog.length = 0;
    this.throttledCount = 0;
    this.clockOffsetMs = 0;
    this.orderSeq = 0;
    this.writeSeq = 0;
    this.requestSeq = 0;
    this.rng = new Rng(this.rngSeed);
    this.notifyFeedWaiters();
    if (reseed && this.startupSeed) this.applySeed({ sellers: this.startupSeed.sellers ?? [] });
  }

  close(): void {
    this.closed = true;
    for (const timers of this.feedTimers.values()) for (const t of timers) clearTimeout(t);
    this.feedTimers.clear();
    this.notifyFeedWaiters();
    this.webhooks.close();
  }

  // --- keys and tokens -------------------------------------------------------------------------

  /** POST /v3/token with client credentials: the seller, or null when unknown / revoked. */
  sellerForCredentials(clientId: string, clientSecret: string): SellerState | null {
    for (const seller of this.sellers.values()) {
      if (
        seller.clientId === clientId &&
        seller.clientSecret === clientSecret &&
        !seller.keysRevoked
      ) {
        return seller;
      }
    }
    return null;
  }

  issueToken(partnerId: string): { token: string; expiresIn: number } {
    const token = accessToken(this.rng);
    const now = this.now();
    this.tokens.set(token, {
      partnerId,
      issuedAt: now,
      expiresAt: now + this.options.tokenTtlSeconds * 1000,
      revoked: false,
    });
    return { token, expiresIn: 900 };
  }

  /** The seller a WM_SEC.ACCESS_TOKEN belongs to, or null (unknown, expired, revoked). */
  sellerForToken(token: string): SellerState | null {
    const rec = this.tokens.get(token);
    if (!rec || rec.revoked || rec.expiresAt <= this.now()) return null;
    const seller = this.sellers.get(rec.partnerId);
    if (!seller || seller.keysRevoked) return null;
    return seller;
  }

  /** Makes every issued token (of one seller, or all) expired now. Returns how many. */
  expireTokens(partnerId?: string): number {
    let n = 0;
    const now = this.now();
    for (const rec of this.tokens.values()) {
      if (partnerId !== undefined && rec.partnerId !== partnerId) continue;
      if (rec.expiresAt > now) n += 1;
      rec.expiresAt = Math.min(rec.expiresAt, now);
    }
    return n;
  }

  tokenList(partnerId?: string) {
    const now = this.now();
    return [...this.tokens.entries()]
      .filter(([, r]) => partnerId === undefined || r.partnerId === partnerId)
      .map(([token, r]) => ({
        tokenPrefix: token.slice(0, 16),
        partnerId: r.partnerId,
        issuedAt: new Date(r.issuedAt).toISOString(),
        expiresAt: new Date(r.expiresAt).toISOString(),
        valid: !r.revoked && r.expiresAt > now,
      }));
  }

  /** Revokes the seller's API keys: the token call fails and issued tokens stop working. */
  revokeKeys(partnerId: string): void {
    const seller = this.seller(partnerId);
    seller.keysRevoked = true;
    for (const rec of this.tokens.values()) if (rec.partnerId === partnerId) rec.revoked = true;
  }

  /** Issues the seller new keys (optionally given), making them valid again. */
  restoreKeys(partnerId: string, keys: { clientId?: string; clientSecret?: string } = {}) {
    const seller = this.seller(partnerId);
    if (keys.clientId !== undefined) seller.clientId = keys.clientId;
    if (keys.clientSecret !== undefined) seller.clientSecret = keys.clientSecret;
    seller.keysRevoked = false;
    return { clientId: seller.clientId, clientSecret: seller.clientSecret };
  }

  // --- throttling and faults ---------------------------------------------------------------------

  configureThrottle(
    partnerId: string,
    operation: string,
    config: Partial<BucketConfig> & { tokens?: number },
  ) {
    const seller = this.seller(partnerId);
    if (!isOperation(operation)) throw badRequest(`unknown operation ${operation}`);
    try {
      seller.configureBucket(operation, config, this.now());
    } catch (error) {
      if (error instanceof SeedError) throw badRequest(error.message);
      throw error;
    }
    return seller.bucket(operation).status(this.now());
  }

  throttleStatus(partnerId: string) {
    const seller = this.seller(partnerId);
    const now = this.now();
    return Object.fromEntries([...seller.buckets.entries()].map(([op, b]) => [op, b.status(now)]));
  }

  addFault(rule: ApiFaultRule) {
    try {
      return this.faults.add(rule, this.now());
    } catch (error) {
      if (error instanceof FaultError) throw badRequest(error.message);
      throw error;
    }
  }

  logRequest(rec: Omit<RequestLogRec, "seq" | "at">): void {
    this.requestSeq += 1;
    this.requestLog.push({ seq: this.requestSeq, at: new Date(this.now()).toISOString(), ...rec });
    if (rec.status === 429) this.throttledCount += 1;
  }

  // --- items and inventory ---------------------------------------------------------------------

  item(partnerId: string, sku: string) {
    return itemView(this.itemRec(partnerId, sku));
  }

  itemRec(partnerId: string, sku: string): ItemRec {
    const item = this.seller(partnerId).items.get(sku);
    if (!item) throw notFound(`item ${sku}`);
    return item;
  }

  createItem(partnerId: string, seed: ItemSeed) {
    const seller = this.seller(partnerId);
    try {
      return itemView(seller.addItem(seed));
    } catch (error) {
      if (error instanceof SeedError) throw badRequest(error.message);
      throw error;
    }
  }

  updateItem(
    partnerId: string,
    sku: string,
    patch: { productName?: string; price?: number; lifecycleStatus?: ItemRec["lifecycleStatus"] },
  ) {
    const item = this.itemRec(partnerId, sku);
    if (patch.productName !== undefined) item.productName = String(patch.productName);
    if (patch.price !== undefined) {
      if (typeof patch.price !== "number" || !(patch.price >= 0))
        throw badRequest("price must be >= 0");
      item.price = { currency: "USD", amount: patch.price };
    }
    if (patch.lifecycleStatus !== undefined) {
      if (!["ACTIVE", "ARCHIVED", "RETIRED"].includes(patch.lifecycleStatus)) {
        throw badRequest("lifecycleStatus must be ACTIVE, ARCHIVED or RETIRED");
      }
      item.lifecycleStatus = patch.lifecycleStatus;
    }
    return itemView(item);
  }

  /** PUBLISHED → UNPUBLISHED; emits OFFER_UNPUBLISHED with statusChangeReasons. */
  unpublishItem(
    partnerId: string,
    sku: string,
    input: { reasons?: Record<string, string> | string[] } = {},
  ) {
    const item = this.itemRec(partnerId, sku);
    if (item.publishedStatus === "UNPUBLISHED") {
      throw unprocessable("already_unpublished", `item ${sku} is already UNPUBLISHED`);
    }
    const reasons: Record<string, string> = Array.isArray(input.reasons)
      ? Object.fromEntries(input.reasons.map((r, i) => [`reason${i + 1}`, String(r)]))
      : (input.reasons ?? { SELLER_INITIATED: "Offer unpublished by the seller" });
    item.publishedStatus = "UNPUBLISHED";
    item.unpublishedReasons = Object.values(reasons);
    this.emit(partnerId, "OFFER_UNPUBLISHED", {
      partnerId,
      sku: item.sku,
      publishStatus: "UNPUBLISHED",
      lifecycleStatus: item.lifecycleStatus,
      statusChangeReasons: reasons,
    });
    return itemView(item);
  }

  publishItem(partnerId: string, sku: string) {
    const item = this.itemRec(partnerId, sku);
    item.publishedStatus = "PUBLISHED";
    item.unpublishedReasons = [];
    return itemView(item);
  }

  /**
   * Sets the input quantity of one SKU at one node (absolute). Records the write and emits
   * INVENTORY_OOS when the SKU's available total falls from above zero to zero.
   */
  setInventory(
    partnerId: string,
    input: {
      sku: string;
      quantity: number;
      shipNode?: string;
      source?: InventoryWriteRec["source"];
      feedId?: string | null;
      correlationId?: string | null;
    },
  ) {
    const seller = this.seller(partnerId);
    const item = seller.items.get(input.sku);
    if (!item) throw notFound(`item ${input.sku}`);
    const shipNode = input.shipNode ?? seller.defaultShipNode;
    const stock = item.stock.get(shipNode);
    if (!stock) throw notFound(`ship node ${shipNode}`);
    if (!Number.isInteger(input.quantity) || input.quantity < 0) {
      throw badRequest("quantity must be an integer >= 0");
    }
    const before = totalAvailable(item);
    const previous = stock.inputQty;
    stock.inputQty = input.quantity;
    const now = this.now();
    this.writeSeq += 1;
    const rec: InventoryWriteRec = {
      seq: this.writeSeq,
      at: new Date(now).toISOString(),
      atMs: now,
      partnerId,
      sku: item.sku,
      shipNode,
      previousInputQty: previous,
      inputQty: stock.inputQty,
      availToSellQty: availToSell(stock),
      source: input.source ?? "control",
      feedId: input.feedId ?? null,
      correlationId: input.correlationId ?? null,
    };
    this.inventoryWrites.push(rec);
    this.checkOutOfStock(seller, item, before);
    return rec;
  }

  private checkOutOfStock(seller: SellerState, item: ItemRec, before: number): void {
    if (before > 0 && totalAvailable(item) === 0) {
      this.emit(seller.partnerId, "INVENTORY_OOS", {
        partnerId: seller.partnerId,
        itemId: item.itemId,
        sku: item.sku,
        productName: item.productName,
        category: item.category,
        shipNodes: [...item.stock.entries()].map(([shipNode, s]) => ({
          availToSellQty: availToSell(s),
          shipNode,
          shipNodeName: `${shipNode}@${item.sku}@ACTIVE`,
        })),
      });
    }
  }

  inventoryWriteLog(partnerId?: string, sku?: string): InventoryWriteRec[] {
    return this.inventoryWrites
      .filter((w) => partnerId === undefined || w.partnerId === partnerId)
      .filter((w) => sku === undefined || w.sku === sku)
      .map((w) => ({ ...w }));
  }

  // --- orders ----------------------------------------------------------------------------------

  /**
   * A buyer checks out: each line goes to the first ship node whose availToSell covers it
   * (counting earlier lines). Refused as a whole (409 out_of_stock) if any line cannot be
   * covered. Emits PO_CREATED and ORDER_UPDATES (PO_CREATED), and INVENTORY_OOS at zero.
   */
  placeOrder(partnerId: string, input: PlaceOrderInput) {
    const seller = this.seller(partnerId);
    if (!input || !Array.isArray(input.lines) || input.lines.length === 0) {
      throw badRequest("an order needs a non-empty lines array");
    }
    const planned = new Map<string, number>();
    const key = (sku: string, node: string) => `${sku}\u0000${node}`;
    const plan: { item: ItemRec; qty: number; node: string; unitPrice: number }[] = [];
    const shortages: { index: number; sku: string; requested: number; available: number }[] = [];
    input.lines.forEach((line, index) => {
      const qty = line.qty ?? line.quantity;
      if (typeof line.sku !== "string") throw badRequest(`lines[${index}].sku is required`);
      if (!Number.isInteger(qty) || (qty as number) <= 0) {
        throw badRequest(`lines[${index}].qty must be a positive integer`);
      }
      const item = seller.items.get(line.sku);
      if (!item) throw new ControlError(422, "unknown_sku", `no item ${line.sku}`, { index });
      if (item.publishedStatus !== "PUBLISHED" || item.lifecycleStatus !== "ACTIVE") {
        throw new ControlError(422, "not_buyable", `item ${line.sku} is not PUBLISHED and ACTIVE`, {
          index,
          publishedStatus: item.publishedStatus,
          lifecycleStatus: item.lifecycleStatus,
        });
      }
      const node = seller.shipNodes.find((n) => {
        const stock = item.stock.get(n.shipNode);
        if (!stock) return false;
        return (
          availToSell(stock) - (planned.get(key(item.sku, n.shipNode)) ?? 0) >= (qty as number)
        );
      });
      if (!node) {
        const alreadyPlanned = [...planned.entries()]
          .filter(([k]) => k.startsWith(`${item.sku}\u0000`))
          .reduce((a, [, v]) => a + v, 0);
        shortages.push({
          index,
          sku: item.sku,
          requested: qty as number,
          available: Math.max(0, totalAvailable(item) - alreadyPlanned),
        });
        return;
      }
      planned.set(
        key(item.sku, node.shipNode),
        (planned.get(key(item.sku, node.shipNode)) ?? 0) + (qty as number),
      );
      plan.push({
        item,
        qty: qty as number,
        node: node.shipNode,
        unitPrice: line.unitPrice ?? item.price.amount,
      });
    });
    if (shortages.length > 0) {
      throw new ControlError(409, "out_of_stock", "not enough inventory for every line", {
        lines: shortages,
      });
    }
    // Check and commit with no await in between.
    const now = this.now();
    const orderDate = input.orderDate === undefined ? now : toMs(input.orderDate, "orderDate");
    const rng = this.rng;
    this.orderSeq += 1;
    const [city, state, zip] = CITIES[rng.between(0, CITIES.length - 1)] ?? CITIES[0];
    const buyerName =
      input.buyer?.name ??
      `${FIRST_NAMES[rng.between(0, FIRST_NAMES.length - 1)]} ${LAST_NAMES[rng.between(0, LAST_NAMES.length - 1)]}`;
    const order: OrderRec = {
      purchaseOrderId: String(1_800_000_000_000 + this.orderSeq * 7919 + rng.between(0, 999)),
      customerOrderId: String(5_200_000_000_000 + this.orderSeq * 104_729 + rng.between(0, 999)),
      customerEmailId: `${timeUuid(rng).replace(/-/g, "").toUpperCase()}@relay.walmart.com`,
      partnerId,
      orderDate,
      lastModified: now,
      estimatedShipDate: orderDate + 2 * DAY,
      estimatedDeliveryDate: orderDate + 5 * DAY,
      buyer: {
        name: buyerName,
        phone: input.buyer?.phone ?? digits(rng, 10).replace(/^[01]/, "5"),
        address1: `${rng.between(100, 9999)} Main St`,
        city: input.buyer?.city ?? city,
        state: input.buyer?.state ?? state,
        postalCode: input.buyer?.postalCode ?? zip,
      },
      lines: plan.map((p, i) => ({
        lineNumber: String(i + 1),
        sku: p.item.sku,
        productName: p.item.productName,
        quantity: p.qty,
        unitPrice: p.unitPrice,
        shipNode: p.node,
        acknowledged: 0,
        shipped: 0,
        cancelled: 0,
        cancellationReason: null,
        intentToCancel: false,
        tracking: null,
        statusDate: now,
      })),
    };
    const before = new Map<ItemRec, number>();
    for (const p of plan) if (!before.has(p.item)) before.set(p.item, totalAvailable(p.item));
    for (const p of plan) {
      const stock = p.item.stock.get(p.node);
      if (!stock) continue;
      stock.reservedQty += p.qty;
      if (this.options.inventoryModel === "decrement") stock.inputQty -= p.qty;
    }
    seller.orders.set(order.purchaseOrderId, order);
    const v1 = orderEventPayload(
      order,
      order.lines.map((line) => ({ line, quantity: line.quantity, status: "CREATED" as const })),
    );
    this.emit(partnerId, "PO_CREATED", v1);
    this.emit(partnerId, "ORDER_UPDATES", this.orderUpdatesPayload("PO_CREATED", v1), "PO_CREATED");
    for (const [item, b] of before) this.checkOutOfStock(seller, item, b);
    return orderPayload(order);
  }

  private orderUpdatesPayload(subEventType: OrderSubEventType, order: unknown) {
    return { meta: { subEventType }, subEventType, order };
  }

  orderRec(partnerId: string, purchaseOrderId: string): OrderRec {
    const order = this.seller(partnerId).orders.get(purchaseOrderId);
    if (!order) throw notFound(`order ${purchaseOrderId}`);
    return order;
  }

  order(partnerId: string, purchaseOrderId: string) {
    return orderPayload(this.orderRec(partnerId, purchaseOrderId));
  }

  orders(partnerId: string) {
    return [...this.seller(partnerId).orders.values()].map((o) => ({
      ...orderPayload(o),
      lastModified: new Date(o.lastModified).toISOString(),
    }));
  }

  private line(order: OrderRec, lineNumber: string): OrderLineRec {
    const line = order.lines.find((l) => l.lineNumber === String(lineNumber));
    if (!line) throw notFound(`line ${lineNumber} of order ${order.purchaseOrderId}`);
    return line;
  }

  private touch(order: OrderRec, lines: OrderLineRec[]): number {
    const now = Math.max(this.now(), order.lastModified + 1);
    order.lastModified = now;
    for (const line of lines) line.statusDate = now;
    return now;
  }

  /** Every Created unit becomes Acknowledged. */
  acknowledgeOrder(partnerId: string, purchaseOrderId: string) {
    const order = this.orderRec(partnerId, purchaseOrderId);
    const changed = order.lines.filter((l) => createdQuantity(l) > 0);
    for (const line of changed) line.acknowledged += createdQuantity(line);
    if (changed.length > 0) this.touch(order, changed);
    return orderPayload(order);
  }

  /**
   * Cancels units of lines (default: every open unit of every open line). Kinds:
   * auto → PO_LINE_AUTOCANCELLED + ORDER_UPDATES; intent → only flags the line and emits
   * INTENT_TO_CANCEL + ORDER_UPDATES (nothing is cancelled); fraud → ORDER_UPDATES FRAUD_CANCEL;
   * seller / customer → no event. Cancelled units release their reservation.
   */
  cancelLines(
    partnerId: string,
    purchaseOrderId: string,
    input: CancelInput & { lines?: { lineNumber: string; quantity?: number }[] } = {},
  ) {
    const seller = this.seller(partnerId);
    const order = this.orderRec(partnerId, purchaseOrderId);
    const kind = input.kind ?? "seller";
    if (!(kind in CANCEL_REASONS))
      throw badRequest(`kind must be one of ${Object.keys(CANCEL_REASONS).join(", ")}`);
    const reason = input.reason ?? CANCEL_REASONS[kind];
    const targets = (
      input.lines ??
      order.lines
        .filter((l) => openQuantity(l) > 0)
        .map((l) => ({ lineNumber: l.lineNumber, quantity: input.quantity }))
    ).map((t) => {
      const line = this.line(order, t.lineNumber);
      const open = openQuantity(line);
      if (open === 0) throw unprocessable("not_open", `line ${line.lineNumber} has no open units`);
      const quantity = t.quantity ?? open;
      if (!Number.isInteger(quantity) || quantity <= 0)
        throw badRequest("quantity must be a positive integer");
      if (quantity > open) {
        throw unprocessable(
          "not_open",
          `line ${line.lineNumber} has ${open} open unit(s), cannot cancel ${quantity}`,
        );
      }
      return { line, quantity };
    });
    if (targets.length === 0)
      throw unprocessable("not_open", `order ${purchaseOrderId} has no open lines`);

    if (kind === "intent") {
      for (const { line } of targets) line.intentToCancel = true;
      this.touch(
        order,
        targets.map((t) => t.line),
      );
      const v1 = orderEventPayload(
        order,
        targets.map(({ line, quantity }) => ({
          line,
          quantity,
          status: (line.acknowledged > 0 ? "ACKNOWLEDGED" : "CREATED") as EventLineStatus,
          cancellationReason: reason,
          cancelSubReasonCodeDescription: "Customer changed mind",
        })),
      );
      this.emit(partnerId, "INTENT_TO_CANCEL", v1);
      this.emit(
        partnerId,
        "ORDER_UPDATES",
        this.orderUpdatesPayload("INTENT_TO_CANCEL", v1),
        "INTENT_TO_CANCEL",
      );
      return orderPayload(order);
    }

    for (const { line, quantity } of targets) {
      const fromCreated = Math.min(createdQuantity(line), quantity);
      line.acknowledged -= quantity - fromCreated;
      line.cancelled += quantity;
      line.cancellationReason = reason;
      line.intentToCancel = false;
      const item = seller.items.get(line.sku);
      const stock = item?.stock.get(line.shipNode);
      if (stock) {
        stock.reservedQty = Math.max(0, stock.reservedQty - quantity);
        // "decrement": the sale had lowered inputQty; the cancelled units come back.
        if (this.options.inventoryModel === "decrement") stock.inputQty += quantity;
      }
    }
    this.touch(
      order,
      targets.map((t) => t.line),
    );
    const v1 = orderEventPayload(
      order,
      targets.map(({ line, quantity }) => ({
        line,
        quantity,
        status: "CANCELLED" as const,
        cancellationReason: reason,
      })),
    );
    if (kind === "auto") {
      this.emit(partnerId, "PO_LINE_AUTOCANCELLED", v1);
      this.emit(
        partnerId,
        "ORDER_UPDATES",
        this.orderUpdatesPayload("PO_LINE_AUTOCANCELLED", v1),
        "PO_LINE_AUTOCANCELLED",
      );
    } else if (kind === "fraud") {
      this.emit(
        partnerId,
        "ORDER_UPDATES",
        this.orderUpdatesPayload("FRAUD_CANCEL", v1),
        "FRAUD_CANCEL",
      );
    }
    return orderPayload(order);
  }

  cancelLine(
    partnerId: string,
    purchaseOrderId: string,
    lineNumber: string,
    input: CancelInput = {},
  ) {
    return this.cancelLines(partnerId, purchaseOrderId, {
      ...input,
      lines: [
        {
          lineNumber: String(lineNumber),
          ...(input.quantity === undefined ? {} : { quantity: input.quantity }),
        },
      ],
    });
  }

  /** Ships units (Acknowledged first, then Created); the stock leaves the node. */
  shipLine(
    partnerId: string,
    purchaseOrderId: string,
    lineNumber: string,
    input: { quantity?: number; carrier?: string; trackingNumber?: string } = {},
  ) {
    const seller = this.seller(partnerId);
    const order = this.orderRec(partnerId, purchaseOrderId);
    const line = this.line(order, lineNumber);
    const open = openQuantity(line);
    if (open === 0) throw unprocessable("not_open", `line ${line.lineNumber} has no open units`);
    const quantity = input.quantity ?? open;
    if (!Number.isInteger(quantity) || quantity <= 0)
      throw badRequest("quantity must be a positive integer");
    if (quantity > open) {
      throw unprocessable(
        "not_open",
        `line ${line.lineNumber} has ${open} open unit(s), cannot ship ${quantity}`,
      );
    }
    const fromAck = Math.min(line.acknowledged, quantity);
    line.acknowledged -= fromAck;
    line.shipped += quantity;
    const stock = seller.items.get(line.sku)?.stock.get(line.shipNode);
    if (stock) {
      stock.reservedQty = Math.max(0, stock.reservedQty - quantity);
      if (this.options.inventoryModel === "reserve")
        stock.inputQty = Math.max(0, stock.inputQty - quantity);
    }
    const now = this.touch(order, [line]);
    line.tracking = {
      carrier: input.carrier ?? "USPS",
      trackingNumber: input.trackingNumber ?? `9400${digits(this.rng, 18)}`,
      shipDateTime: now,
    };
    return orderPayload(order);
  }

  // --- feeds -----------------------------------------------------------------------------------

  /** Registers a parsed feed and schedules RECEIVED → INPROGRESS → PROCESSED / ERROR. */
  submitFeed(
    partnerId: string,
    input: {
      feedType: string;
      fileName: string | null;
      format: "json" | "xml";
      specVersion: string | null;
      items: FeedItemRec[];
      fileError: IngestionError | null;
      correlationId: string | null;
    },
  ): FeedRec {
    const seller = this.seller(partnerId);
    const now = this.now();
    const jitter = 0.8 + this.rng.next() * 0.4;
    const processingMs = this.options.feedProcessingMinutes * 60_000 * this.timeScale * jitter;
    const feed: FeedRec = {
      feedId: newFeedId(this.rng),
      partnerId,
      feedType: input.feedType,
      fileName: input.fileName,
      format: input.format,
      specVersion: input.specVersion,
      submittedAt: now,
      modifiedAt: now,
      status: "RECEIVED",
      ingestionErrors: [],
      items: input.items,
      inProgressAt: Date.now() + processingMs * 0.1,
      processAt: Date.now() + processingMs,
      correlationId: input.correlationId,
    };
    seller.feeds.set(feed.feedId, feed);
    if (input.fileError) this.fileErrors.set(feed.feedId, input.fileError);
    const timers = [
      setTimeout(() => this.startFeed(feed), Math.max(0, feed.inProgressAt - Date.now())),
      setTimeout(() => this.finishFeed(feed), Math.max(0, feed.processAt - Date.now())),
    ];
    for (const t of timers) t.unref();
    this.feedTimers.set(feed.feedId, timers);
    return feed;
  }

  private startFeed(feed: FeedRec): void {
    if (this.closed || feed.status !== "RECEIVED") return;
    if (this.fileErrors.has(feed.feedId)) {
      this.finishFeed(feed);
      return;
    }
    feed.status = "INPROGRESS";
    feed.modifiedAt = this.now();
  }

  private finishFeed(feed: FeedRec): void {
    if (this.closed || feed.status === "PROCESSED" || feed.status === "ERROR") return;
    const fileError = this.fileErrors.get(feed.feedId) ?? null;
    this.fileErrors.delete(feed.feedId);
    const timers = this.feedTimers.get(feed.feedId) ?? [];
    for (const t of timers) clearTimeout(t);
    this.feedTimers.delete(feed.feedId);
    const seller = this.sellers.get(feed.partnerId);
    feed.modifiedAt = this.now();
    if (fileError || !seller) {
      feed.status = "ERROR";
      feed.ingestionErrors = [
        fileError ?? { type: "SYSTEM_ERROR", code: "SYSTEM_ERROR", description: "seller removed" },
      ];
      this.notifyFeedWaiters();
      return;
    }
    for (const item of feed.items) {
      if (item.status !== "INPROGRESS") continue;
      const rec = seller.items.get(item.sku);
      if (!rec) {
        item.status = "DATA_ERROR";
        item.errors.push({
          type: "DATA_ERROR",
          code: "ITEM_NOT_FOUND",
          description: `Item not found for SKU ${item.sku}`,
        });
        continue;
      }
      const unknownNode = item.shipNodes.find((n) => !seller.hasShipNode(n.shipNode));
      if (unknownNode) {
        item.status = "DATA_ERROR";
        item.errors.push({
          type: "DATA_ERROR",
          code: "INVALID_SHIP_NODE",
          description: `Ship node ${unknownNode.shipNode} is not a ship node of this seller`,
        });
        continue;
      }
      for (const node of item.shipNodes) {
        this.setInventory(feed.partnerId, {
          sku: item.sku,
          shipNode: node.shipNode,
          quantity: node.amount,
          source: "feed",
          feedId: feed.feedId,
          correlationId: feed.correlationId,
        });
      }
      item.status = "SUCCESS";
    }
    feed.status = "PROCESSED";
    this.notifyFeedWaiters();
  }

  /** Finishes every pending feed (of one seller, or all) now, whatever its schedule. */
  completeFeeds(partnerId?: string): FeedRec[] {
    const done: FeedRec[] = [];
    for (const seller of this.sellers.values()) {
      if (partnerId !== undefined && seller.partnerId !== partnerId) continue;
      for (const feed of seller.feeds.values()) {
        if (feed.status === "RECEIVED" || feed.status === "INPROGRESS") {
          this.finishFeed(feed);
          done.push(structuredClone(feed));
        }
      }
    }
    return done;
  }

  pendingFeeds(): number {
    let n = 0;
    for (const seller of this.sellers.values()) {
      for (const feed of seller.feeds.values())
        if (feed.status === "RECEIVED" || feed.status === "INPROGRESS") n++;
    }
    return n;
  }

  waitForFeeds(timeoutMs = 10_000): Promise<boolean> {
    if (this.pendingFeeds() === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.feedWaiters = this.feedWaiters.filter((w) => w !== check);
        resolve(false);
      }, timeoutMs);
      const check = (): void => {
        if (this.pendingFeeds() > 0 && !this.closed) return;
        clearTimeout(timer);
        this.feedWaiters = this.feedWaiters.filter((w) => w !== check);
        resolve(true);
      };
      this.feedWaiters.push(check);
    });
  }

  private notifyFeedWaiters(): void {
    for (const waiter of [...this.feedWaiters]) waiter();
  }

  private cancelFeedTimers(partnerId: string): void {
    const seller = this.sellers.get(partnerId);
    if (!seller) return;
    for (const feedId of seller.feeds.keys()) {
      for (const t of this.feedTimers.get(feedId) ?? []) clearTimeout(t);
      this.feedTimers.delete(feedId);
    }
  }

  feedList(partnerId: string) {
    return [...this.seller(partnerId).feeds.values()].map((f) => structuredClone(f));
  }

  // --- webhooks --------------------------------------------------------------------------------

  /** Validates one createSubscription record (throws ControlError 400 with a Walmart field). */
  validateSubscription(input: SubscriptionInput, index: number, forUpdate?: SubscriptionRec) {
    const at = (field: string) => `events[${index}].${field}`;
    const str = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);
    const eventType = str(input.eventType) ?? forUpdate?.eventType;
    const eventVersion = str(input.eventVersion) ?? forUpdate?.eventVersion;
    const resourceName = str(input.resourceName) ?? forUpdate?.resourceName;
    const eventUrl = str(input.eventUrl) ?? forUpdate?.eventUrl;
    const status = str(input.status) ?? forUpdate?.status;
    const fail = (field: string, message: string) =>
      new ControlError(400, "invalid_subscription", message, {
        field: forUpdate ? field : at(field),
      });
    if (!eventType) throw fail("eventType", "eventType is required");
    const known = findEventType(eventType);
    if (!known) throw fail("eventType", `eventType ${eventType} is not supported`);
    if (!eventVersion) throw fail("eventVersion", "eventVersion is required");
    if (eventVersion !== known.eventVersion)
      throw fail("eventVersion", `eventVersion ${eventVersion} is not supported for ${eventType}`);
    if (!resourceName) throw fail("resourceName", "resourceName is required");
    if (resourceName !== known.resourceName) {
      throw fail("resourceName", `resourceName for ${eventType} must be ${known.resourceName}`);
    }
    if (!eventUrl) throw fail("eventUrl", "eventUrl is required");
    let url: URL;
    try {
      url = new URL(eventUrl);
    } catch {
      throw fail("eventUrl", `eventUrl ${eventUrl} is not a valid URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw fail("eventUrl", "eventUrl must be http(s)");
    if (status !== "ACTIVE" && status !== "INACTIVE")
      throw fail("status", "status must be ACTIVE or INACTIVE");
    const headers = input.headers === undefined ? (forUpdate?.headers ?? null) : input.headers;
    if (
      headers !== null &&
      (typeof headers !== "object" ||
        Array.isArray(headers) ||
        Object.values(headers).some((v) => typeof v !== "string"))
    ) {
      throw fail("headers", "headers must be an object of strings");
    }
    const authDetails =
      input.authDetails === undefined
        ? (forUpdate?.authDetails ?? null)
        : checkAuthDetails(input.authDetails, fail);
    return {
      eventType,
      eventVersion,
      resourceName,
      eventUrl,
      status: status as "ACTIVE" | "INACTIVE",
      headers: headers as Record<string, string> | null,
      authDetails,
    };
  }

  /** POST /v3/webhooks/subscriptions: every record is validated before any is created. */
  createSubscriptions(partnerId: string, events: SubscriptionInput[]): SubscriptionRec[] {
    const seller = this.seller(partnerId);
    if (!Array.isArray(events) || events.length === 0) {
      throw new ControlError(400, "invalid_subscription", "events must be a non-empty array", {
        field: "events",
      });
    }
    const valid = events.map((e, i) => this.validateSubscription(e ?? {}, i));
    return valid.map((v) => {
      const rec: SubscriptionRec = { subscriptionId: timeUuid(this.rng), partnerId, ...v };
      seller.subscriptions.set(rec.subscriptionId, rec);
      return { ...rec };
    });
  }

  subscriptions(
    partnerId: string,
    filter: {
      subscriptionId?: string;
      eventType?: string;
      resourceName?: string;
      status?: string;
    } = {},
  ) {
    return [...this.seller(partnerId).subscriptions.values()]
      .filter((s) => !filter.subscriptionId || s.subscriptionId === filter.subscriptionId)
      .filter((s) => !filter.eventType || s.eventType === filter.eventType)
      .filter((s) => !filter.resourceName || s.resourceName === filter.resourceName)
      .filter((s) => !filter.status || s.status === filter.status)
      .map((s) => ({ ...s }));
  }

  updateSubscription(
    partnerId: string,
    subscriptionId: string,
    patch: SubscriptionInput,
  ): SubscriptionRec {
    const seller = this.seller(partnerId);
    const current = seller.subscriptions.get(subscriptionId);
    if (!current) throw notFound(`subscription ${subscriptionId}`);
    const next = this.validateSubscription(patch ?? {}, 0, current);
    const rec: SubscriptionRec = { ...current, ...next };
    seller.subscriptions.set(subscriptionId, rec);
    return { ...rec };
  }

  deleteSubscription(partnerId: string, subscriptionId: string): void {
    const seller = this.seller(partnerId);
    if (!seller.subscriptions.delete(subscriptionId))
      throw notFound(`subscription ${subscriptionId}`);
  }

  /** POST /v3/webhooks/test: one synchronous, authenticated POST of a sample event. */
  async testNotification(partnerId: string, input: SubscriptionInput) {
    this.seller(partnerId);
    const v = this.validateSubscription({ ...input, status: "ACTIVE" }, 0);
    const sample = this.sampleEvent(partnerId, v.eventType);
    const sub: SubscriptionRec = { subscriptionId: "test", partnerId, ...v };
    const attempt = await this.webhooks.sendTest(sample, sub);
    return { ok: attempt.ok, attempt };
  }

  private sampleEvent(partnerId: string, eventType: string): EventRec {
    const eventTime = new Date(this.now());
    const eventId = timeUuid(this.rng);
    const payload = { partnerId, sku: "SAMPLE-SKU", publishStatus: "UNPUBLISHED", sample: true };
    const body = JSON.stringify(
      envelope(eventType, eventId, eventTime, payload, {
        eventFilters: eventType === "ORDER_UPDATES",
      }),
    );
    return {
      eventId,
      eventType,
      subEventType: null,
      partnerId,
      eventTime: eventTime.toISOString(),
      payload,
      body,
    };
  }

  /** Records an event and enqueues one delivery per ACTIVE subscription to its type. */
  emit(
    partnerId: string,
    eventType: string,
    payload: unknown,
    subEventType: string | null = null,
  ): EventRec {
    const eventTime = new Date(this.now());
    const eventId = timeUuid(this.rng);
    const body = JSON.stringify(
      envelope(eventType, eventId, eventTime, payload, {
        eventFilters: eventType === "ORDER_UPDATES",
      }),
    );
    const event: EventRec = {
      eventId,
      eventType,
      subEventType,
      partnerId,
      eventTime: eventTime.toISOString(),
      payload,
      body,
    };
    this.events.push(event);
    const seller = this.sellers.get(partnerId);
    const subs = seller
      ? [...seller.subscriptions.values()].filter(
          (s) => s.status === "ACTIVE" && s.eventType === eventType,
        )
      : [];
    this.webhooks.enqueue(event, subs);
    return event;
  }

  eventLog(filter: { partnerId?: string; eventType?: string } = {}) {
    return this.events
      .filter((e) => filter.partnerId === undefined || e.partnerId === filter.partnerId)
      .filter((e) => filter.eventType === undefined || e.eventType === filter.eventType)
      .map((e) => ({
        eventId: e.eventId,
        eventType: e.eventType,
        subEventType: e.subEventType,
        partnerId: e.partnerId,
        eventTime: e.eventTime,
        payload: JSON.parse(e.body) as unknown,
      }));
  }

  deliveries(filter: { partnerId?: string; eventType?: string } = {}) {
    return this.webhooks.deliveries(filter);
  }

  configureDelivery(patch: Partial<DeliveryConfig>): DeliveryConfig {
    try {
      return this.webhooks.configure(patch);
    } catch (error) {
      if (error instanceof WebhookConfigError) throw badRequest(error.message);
      throw error;
    }
  }

  addDeliveryFault(rule: DeliveryFaultRule) {
    try {
      return this.webhooks.addFault(rule);
    } catch (error) {
      if (error instanceof WebhookConfigError) throw badRequest(error.message);
      throw error;
    }
  }

  waitForDeliveriesIdle(timeoutMs = 10_000): Promise<boolean> {
    return this.webhooks.waitForIdle(timeoutMs);
  }

  /** Resolves true once no feed is pending and no delivery is pending or in flight. */
  async waitForIdle(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const feeds = await this.waitForFeeds(Math.max(0, deadline - Date.now()));
      const deliveries = await this.webhooks.waitForIdle(Math.max(0, deadline - Date.now()));
      if (!feeds || !deliveries) return false;
      if (this.pendingFeeds() === 0 && this.webhooks.isIdle()) return true;
      if (Date.now() >= deadline) return false;
    }
  }

  idleStatus() {
    return { pendingFeeds: this.pendingFeeds(), ...this.webhooks.pendingCount() };
  }

  itemPayload(partnerId: string, sku: string) {
    return itemPayload(this.itemRec(partnerId, sku));
  }
}

function checkAuthDetails(
  value: unknown,
  fail: (field: string, message: string) => ControlError,
): AuthDetails | null {
  if (value === null) return null;
  if (typeof value !== "object" || Array.isArray(value))
    throw fail("authDetails", "authDetails must be an object");
  const a = value as Record<string, unknown>;
  const s = (k: string) => (typeof a[k] === "string" && a[k] !== "" ? (a[k] as string) : undefined);
  const method = s("authMethod");
  const authHeaderName = s("authHeaderName") ?? "Authorization";
  // `authSecret` is accepted as an alias of the documented `clientSecret` (HMAC key).
  const clientSecret = s("clientSecret") ?? s("authSecret");
  switch (method) {
    case "BASIC_AUTH": {
      const userName = s("userName");
      const password = s("password");
      if (!userName || !password)
        throw fail("authDetails", "BASIC_AUTH needs userName and password");
      return { authMethod: method, authHeaderName, userName, password };
    }
    case "HMAC":
      if (!clientSecret) throw fail("authDetails", "HMAC needs clientSecret");
      return { authMethod: method, authHeaderName, clientSecret };
    case "OAUTH": {
      const clientId = s("clientId");
      const authUrl = s("authUrl");
      if (!clientId || !clientSecret || !authUrl) {
        throw fail("authDetails", "OAUTH needs clientId, clientSecret and authUrl");
      }
      try {
        new URL(authUrl);
      } catch {
        throw fail("authDetails", `authUrl ${authUrl} is not a valid URL`);
      }
      return { authMethod: method, authHeaderName, clientId, clientSecret, authUrl };
    }
    default:
      throw fail("authDetails", "authMethod must be BASIC_AUTH, HMAC or OAUTH");
  }
}

function toMs(value: number | string, name: string): number {
  const ms = typeof value === "number" ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw badRequest(`${name} must be epoch ms or an ISO date`);
  return ms;
}

export function normalizeSeed(seed: SandboxOptions["seed"] | undefined): SandboxSeed | undefined {
  if (seed === undefined) return undefined;
  if (Array.isArray(seed)) return { sellers: seed };
  if (typeof seed === "object" && seed !== null && "partnerId" in seed) return { sellers: [seed] };
  return seed as SandboxSeed;
}

export type { Operation };

/**
 * The whole local eBay in one object: apps, sellers, inventory items and offers, Trading-API
 * listings, orders and cancellations, OAuth tokens, notification destinations / subscriptions,
 * signing keys, push delivery, faults and the eBay clock. The HTTP routes and the control API
 * call into this; tests can call it directly (every control function takes the same body as its
 * `/_control/…` route and throws ControlError where the route answers an error).
 */
import { Rng } from "../shopify/rng";
import { TokenStore, type TokenFilter } from "./auth";
import { EbayClock, DAY_MS } from "./clock";
import { badRequest, notFound, type EbayError } from "./errors";
import { CallLimiter, FaultError, FaultInjector, type FaultRule } from "./faults";
import { OutboundClient } from "./http";
import { IdAllocator, ebayUserId, eiasToken, notificationId } from "./ids";
import {
  TOPICS,
  type AppRec,
  type AppSeed,
  type ConsentConfig,
  type DestinationRec,
  type EbaySeed,
  type InventoryItemRec,
  type ItemSeed,
  type ListingView,
  type OfferRec,
  type OfferSeed,
  type OrderRec,
  type RevisionRec,
  type SellerRec,
  type SellerSeed,
  type SubscriptionRec,
  type TradingListingRec,
  type TradingListingSeed,
} from "./model";
import * as orders from "./orders";
import { itemQuantity, orderPayload } from "./payloads";
import {
  DEFAULT_PUSH_CONFIG,
  PushDispatcher,
  type DeliveryRec,
  type NotificationRec,
  type PushConfig,
} from "./push";
import { generateSigningKey, type SigningKey } from "./signing";
import * as writes from "./inventory-writes";

export type Settings = {
  /** Revisions allowed per listing per calendar day (the 251st is refused). */
  revisionLimit: number;
  /** Requests (SKUs) per bulkUpdatePriceQuantity call: 1 per the current spec text, 25 per the older text. */
  bulkUpdateMaxRequests: number;
  /** Offers per request of bulkUpdatePriceQuantity. */
  bulkUpdateMaxOffers: number;
  /** Count a revise call that leaves quantity and price unchanged (default true). */
  countNoopRevisions: boolean;
  /** Put cancelled quantities back on the listing (default true). */
  restockOnCancel: boolean;
  /** getInventoryItems `offset`: a record offset (default) or a page number (spec text). */
  inventoryItemsOffset: "record" | "page";
  /** Wrong challenge answer on createDestination: reject the call (default) or create MARKED_DOWN. */
  challengeFailure: "reject" | "markDown";
  /** createDestination needs the alert-email config first (default true). */
  requireAlertConfig: boolean;
  /** eBay only accepts https endpoints; the sandbox accepts http too unless this is false. */
  allowHttpEndpoints: boolean;
  /** Authorization schemes accepted by the Post-Order API (default ["IAF"]). */
  postOrderAuthSchemes: string[];
  /** Time zone of the "calendar day" (revisions, daily call limits). */
  dayTimeZone: string;
  /** Deadline for the endpoint's challenge answer, real ms. */
  challengeTimeoutMs: number;
};

export const DEFAULT_SETTINGS: Settings = {
  revisionLimit: 250,
  bulkUpdateMaxRequests: 1,
  bulkUpdateMaxOffers: 25,
  countNoopRevisions: true,
  restockOnCancel: true,
  inventoryItemsOffset: "record",
  challengeFailure: "reject",
  requireAlertConfig: true,
  allowHttpEndpoints: true,
  postOrderAuthSchemes: ["IAF"],
  dayTimeZone: "America/Los_Angeles",
  challengeTimeoutMs: 3000,
};

export type SandboxOptions = {
  /** Multiplies push retry intervals (default 1). */
  timeScale?: number;
  /** Seeds ids, delays, duplicates and random faults. */
  rngSeed?: number;
  seed?: EbaySeed;
  push?: Partial<PushConfig>;
  settings?: Partial<Settings>;
};

export type RequestLogRec = {
  seq: number;
  at: string;
  method: string;
  path: string;
  api: string;
  operation: string;
  status: number;
  clientId: string | null;
  userId: string | null;
  tokenKind: string | null;
  errorIds: number[];
  outcome: "ok" | "error" | "fault" | "rejected";
};

const SKU_RE = /^[A-Za-z0-9._\- ]{1,50}$/;

function int(value: unknown, name: string, min = 0): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw badRequest(`${name} must be an integer >= ${min}`);
  }
  return value;
}

function objectBody(input: unknown): Record<string, unknown> {
  if (input === undefined || input === null) return {};
  if (typeof input !== "object" || Array.isArray(input)) throw badRequest("expected a JSON object");
  return input as Record<string, unknown>;
}

export class EbaySandbox {
  timeScale: number;
  settings: Settings;
  readonly clock: EbayClock;
  readonly ids = new IdAllocator();
  readonly tokens: TokenStore;
  readonly faults: FaultInjector;
  readonly limiter = new CallLimiter();
  readonly push: PushDispatcher;
  readonly outbound = new OutboundClient();

  readonly apps = new Map<string, AppRec>();
  readonly sellers = new Map<string, SellerRec>();
  readonly items = new Map<string, InventoryItemRec>();
  readonly offers = new Map<string, OfferRec>();
  readonly tradingListings = new Map<string, TradingListingRec>();
  readonly orders = new Map<string, OrderRec>();
  readonly destinations = new Map<string, DestinationRec>();
  readonly subscriptions = new Map<string, SubscriptionRec>();
  readonly signingKeys: SigningKey[] = [];
  readonly revisions: RevisionRec[] = [];
  readonly requestLog: RequestLogRec[] = [];
  consent: ConsentConfig = { autoApprove: false, seller: null };

  private readonly revisionCounts = new Map<string, number>();
  private rng: Rng;
  private rngSeed: number | undefined;
  private revisionSeq = 0;
  private requestSeq = 0;
  private lastModified = 0;
  private readonly startup: SandboxOptions;

  constructor(options: SandboxOptions = {}) {
    this.startup = structuredClone(options);
    this.timeScale = options.timeScale ?? 1;
    this.rngSeed = options.rngSeed;
    this.rng = new Rng(options.rngSeed);
    this.settings = { ...DEFAULT_SETTINGS, ...options.settings };
    this.clock = new EbayClock(this.settings.dayTimeZone);
    this.tokens = new TokenStore(this.clock, () => this.rng);
    this.faults = new FaultInjector(() => this.rng);
    this.push = new PushDispatcher({
      rng: () => this.rng,
      timeScale: () => this.timeScale,
      nowIso: () => this.clock.iso(),
      signingKey: () => this.currentSigningKey(),
      client: this.outbound,
    });
    this.initialise();
  }

  private initialise(): void {
    this.signingKeys.push(generateSigningKey(this.clock.iso()));
    if (this.startup.push) this.configurePush(this.startup.push);
    if (this.startup.seed) this.applySeed(this.startup.seed);
  }

  // --- configuration -----------------------------------------------------------------------

  /** Restarts the RNG from `seed` (undefined: unseeded); reset() restarts it from here too. */
  setRngSeed(seed: number | undefined): void {
    this.rngSeed = seed;
    this.rng = new Rng(seed);
  }

  get random(): Rng {
    return this.rng;
  }

  configure(input: unknown): Settings {
    const body = objectBody(input) as Partial<Settings>;
    const next = { ...this.settings };
    for (const [key, value] of Object.entries(body)) {
      if (!(key in DEFAULT_SETTINGS)) throw badRequest(`unknown setting ${key}`);
      const expected = typeof DEFAULT_SETTINGS[key as keyof Settings];
      const actual = Array.isArray(value) ? "object" : typeof value;
      if (actual !== expected) throw badRequest(`${key} must be a ${expected}`);
      (next as Record<string, unknown>)[key] = value;
    }
    if (!(next.revisionLimit >= 1)) throw badRequest("revisionLimit must be >= 1");
    if (!(next.bulkUpdateMaxRequests >= 1)) throw badRequest("bulkUpdateMaxRequests must be >= 1");
    if (!["record", "page"].includes(next.inventoryItemsOffset)) {
      throw badRequest("inventoryItemsOffset is record or page");
    }
    if (!["reject", "markDown"].includes(next.challengeFailure)) {
      throw badRequest("challengeFailure is reject or markDown");
    }
    try {
      this.clock.timeZone = next.dayTimeZone;
    } catch {
      throw badRequest(`unknown time zone ${next.dayTimeZone}`);
    }
    this.settings = next;
    return { ...this.settings };
  }

  configurePush(input: unknown): PushConfig {
    const body = objectBody(input) as Partial<PushConfig>;
    const next: PushConfig = { ...this.push.config };
    const nonNegative = (value: unknown, name: string): number => {
      if (typeof value !== "number" || !(value >= 0)) throw badRequest(`${name} must be >= 0`);
      return value;
    };
    const probability = (value: unknown, name: string): number => {
      const p = nonNegative(value, name);
      if (p > 1) throw badRequest(`${name} must be within [0, 1]`);
      return p;
    };
    for (const [key, value] of Object.entries(body)) {
      switch (key) {
        case "delayMs": {
          if (!Array.isArray(value) || value.length !== 2)
            throw badRequest("delayMs is [min, max]");
          const min = nonNegative(value[0], "delayMs[0]");
          const max = nonNegative(value[1], "delayMs[1]");
          if (max < min) throw badRequest("delayMs needs min <= max");
          next.delayMs = [min, max];
          break;
        }
        case "reorder":
        case "paused":
          next[key] = value === true;
          break;
        case "duplicateProbability":
        case "repeatProbability":
        case "corruptSignatureProbability":
          next[key] = probability(value, key);
          break;
        case "timeoutMs":
          next.timeoutMs = nonNegative(value, key);
          break;
        case "concurrency":
          next.concurrency = Math.max(1, Math.floor(nonNegative(value, key)));
          break;
        case "retryIntervalsSeconds":
          if (!Array.isArray(value)) throw badRequest("retryIntervalsSeconds must be an array");
          next.retryIntervalsSeconds = value.map((v, i) =>
            nonNegative(v, `retryIntervalsSeconds[${i}]`),
          );
          break;
        case "signatureDigest":
          if (value !== "SHA1" && value !== "SHA256")
            throw badRequest("signatureDigest is SHA1 or SHA256");
          next.signatureDigest = value;
          break;
        default:
          throw badRequest(`unknown push setting ${key}`);
      }
    }
    this.push.config = next;
    this.push.pump();
    return { ...next };
  }

  configureConsent(input: unknown): ConsentConfig {
    const body = objectBody(input);
    const next = { ...this.consent };
    if (body.autoApprove !== undefined) next.autoApprove = body.autoApprove === true;
    if (body.seller !== undefined) {
      if (body.seller !== null && typeof body.seller !== "string") {
        throw badRequest("seller must be a username, user id or null");
      }
      if (typeof body.seller === "string") this.seller(body.seller);
      next.seller = body.seller;
    }
    this.consent = next;
    return { ...next };
  }

  // --- seed ----------------------------------------------------------------------------------

  applySeed(input: unknown): { apps: AppRec[]; sellers: SellerRec[] } {
    const seed = objectBody(input) as EbaySeed;
    const apps = (seed.apps ?? []).map((a) => this.createApp(a));
    const sellers = (seed.sellers ?? []).map((s) => this.createSeller(s));
    if (seed.consent) this.configureConsent(seed.consent);
    return { apps, sellers };
  }

  createApp(input: unknown): AppRec {
    const seed = objectBody(input) as Partial<AppSeed>;
    for (const field of ["clientId", "clientSecret", "ruName", "acceptUrl"] as const) {
      if (typeof seed[field] !== "string" || seed[field] === "") {
        throw badRequest(`an app needs ${field}`);
      }
    }
    const clientId = seed.clientId as string;
    if (this.apps.has(clientId)) throw badRequest(`app ${clientId} already exists`);
    if ([...this.apps.values()].some((a) => a.ruName === seed.ruName)) {
      throw badRequest(`RuName ${String(seed.ruName)} already exists`);
    }
    const app: AppRec = {
      clientId,
      clientSecret: seed.clientSecret as string,
      devId: seed.devId ?? this.rng.uuid(),
      ruName: seed.ruName as string,
      acceptUrl: seed.acceptUrl as string,
      declineUrl: seed.declineUrl ?? (seed.acceptUrl as string),
      alertEmail: seed.alertEmail ?? null,
    };
    this.apps.set(clientId, app);
    return { ...app };
  }

  app(clientId: string): AppRec {
    const app = this.apps.get(clientId);
    if (!app) throw notFound(`app ${clientId}`);
    return app;
  }

  createSeller(input: unknown): SellerRec {
    const seed = objectBody(input) as Partial<SellerSeed>;
    if (typeof seed.username !== "string" || seed.username === "") {
      throw badRequest("a seller needs a username");
    }
    const userId = seed.userId ?? ebayUserId(this.rng);
    if (this.sellers.has(userId) || this.findSeller(seed.username)) {
      throw badRequest(`seller ${seed.username} already exists`);
    }
    const seller: SellerRec = {
      userId,
      username: seed.username,
      eiasToken: seed.eiasToken ?? eiasToken(this.rng),
      marketplaceId: seed.marketplaceId ?? "EBAY_US",
      currency: seed.currency ?? "USD",
      deleted: false,
    };
    this.sellers.set(userId, seller);
    for (const item of seed.inventory ?? []) this.addInventoryItem(userId, item);
    for (const listing of seed.tradingListings ?? []) this.addTradingListing(userId, listing);
    return { ...seller };
  }

  private findSeller(ref: string): SellerRec | undefined {
    const byId = this.sellers.get(ref);
    if (byId) return byId;
    for (const s of this.sellers.values()) if (s.username === ref) return s;
    return undefined;
  }

  /** A seller by user id or username. */
  seller(ref: string): SellerRec {
    const seller = this.findSeller(ref);
    if (!seller) throw notFound(`seller ${ref}`);
    return seller;
  }

  /** Seeds an inventory item and its offers (published offers get a listing id). */
  addInventoryItem(
    sellerRef: string,
    input: unknown,
  ): { item: InventoryItemRec; offers: OfferRec[] } {
    const seller = this.seller(sellerRef);
    const seed = objectBody(input) as Partial<ItemSeed>;
    if (typeof seed.sku !== "string" || !SKU_RE.test(seed.sku)) throw badRequest("invalid sku");
    const quantity = int(seed.quantity, "quantity");
    const key = itemKey(seller.userId, seed.sku);
    if (this.items.has(key) || this.tradingBySku(seller.userId, seed.sku)) {
      throw badRequest(`sku ${seed.sku} already exists for ${seller.username}`);
    }
    const now = this.clock.iso();
    const title = seed.title ?? seed.sku;
    const item: InventoryItemRec = {
      sellerId: seller.userId,
      sku: seed.sku,
      locale: seed.locale ?? "en_US",
      body: {
        product: { title, description: `${title} (sandbox)`, imageUrls: [] },
        condition: seed.condition ?? "NEW",
        availability: { shipToLocationAvailability: { quantity } },
      },
      createdAt: now,
      updatedAt: now,
    };
    this.items.set(key, item);
    const offerSeeds = seed.offers ?? [{}];
    const offers = offerSeeds.map((o) => this.addOffer(seller, item, o, title));
    return { item, offers };
  }

  private addOffer(
    seller: SellerRec,
    item: InventoryItemRec,
    seed: OfferSeed,
    title: string,
  ): OfferRec {
    const offerId = seed.offerId ?? this.ids.offerId();
    this.ids.reserve("offer", Number(offerId));
    if (this.offers.has(offerId)) throw badRequest(`offer ${offerId} already exists`);
    const published = seed.published !== false;
    const listingId = published ? (seed.listingId ?? this.ids.listingId()) : null;
    if (listingId) this.ids.reserve("listing", Number(listingId));
    const offer: OfferRec = {
      offerId,
      sellerId: seller.userId,
      sku: item.sku,
      marketplaceId: seed.marketplaceId ?? seller.marketplaceId,
      format: seed.format ?? "FIXED_PRICE",
      availableQuantity:
        seed.availableQuantity === undefined ? itemQuantity(item) : seed.availableQuantity,
      price: { value: seed.price ?? "19.99", currency: seller.currency },
      categoryId: seed.categoryId ?? "20625",
      merchantLocationKey: seed.merchantLocationKey ?? "warehouse-1",
      listingDescription: `${title} (sandbox listing)`,
      listingPolicies: {
        fulfillmentPolicyId: "6000000001",
        paymentPolicyId: "6000000002",
        returnPolicyId: "6000000003",
      },
      status: published ? "PUBLISHED" : "UNPUBLISHED",
      listingId,
      listingStatus: "ACTIVE",
      soldQuantity: 0,
    };
    this.offers.set(offerId, offer);
    this.refreshListingStatus(offer);
    return offer;
  }

  /** Seeds a listing made with the Trading API: on sale, but unknown to the Inventory API. */
  addTradingListing(sellerRef: string, input: unknown): TradingListingRec {
    const seller = this.seller(sellerRef);
    const seed = objectBody(input) as Partial<TradingListingSeed>;
    if (typeof seed.sku !== "string" || !SKU_RE.test(seed.sku)) throw badRequest("invalid sku");
    if (
      this.items.has(itemKey(seller.userId, seed.sku)) ||
      this.tradingBySku(seller.userId, seed.sku)
    ) {
      throw badRequest(`sku ${seed.sku} already exists for ${seller.username}`);
    }
    const listingId = seed.listingId ?? this.ids.listingId();
    this.ids.reserve("listing", Number(listingId));
    const listing: TradingListingRec = {
      listingId,
      sellerId: seller.userId,
      sku: seed.sku,
      title: seed.title ?? seed.sku,
      quantity: int(seed.quantity, "quantity"),
      price: { value: seed.price ?? "19.99", currency: seller.currency },
      soldQuantity: 0,
    };
    this.tradingListings.set(listingId, listing);
    return listing;
  }

  // --- listings and revisions ----------------------------------------------------------------

  item(sellerId: string, sku: string): InventoryItemRec | undefined {
    return this.items.get(itemKey(sellerId, sku));
  }

  itemsOf(sellerId: string): InventoryItemRec[] {
    return [...this.items.values()].filter((i) => i.sellerId === sellerId);
  }

  offersOf(sellerId: string, sku?: string): OfferRec[] {
    return [...this.offers.values()].filter(
      (o) => o.sellerId === sellerId && (sku === undefined || o.sku === sku),
    );
  }

  tradingBySku(sellerId: string, sku: string): TradingListingRec | undefined {
    for (const l of this.tradingListings.values()) {
      if (l.sellerId === sellerId && l.sku === sku) return l;
    }
    return undefined;
  }

  /** Listing quantity = min(item ship-to-home quantity, offer availableQuantity) (KB 5100). */
  offerListingQuantity(offer: OfferRec): number {
    if (offer.status !== "PUBLISHED") return 0;
    const itemQty = itemQuantity(this.item(offer.sellerId, offer.sku));
    const qty =
      offer.availableQuantity === null ? itemQty : Math.min(itemQty, offer.availableQuantity);
    return Math.max(0, qty);
  }

  refreshListingStatus(offer: OfferRec): void {
    if (offer.status !== "PUBLISHED" || offer.listingStatus === "ENDED") return;
    offer.listingStatus = this.offerListingQuantity(offer) > 0 ? "ACTIVE" : "OUT_OF_STOCK";
  }

  revisionsToday(listingId: string): number {
    return this.revisionCounts.get(`${listingId}|${this.clock.dayKey()}`) ?? 0;
  }

  offerView(offer: OfferRec): ListingView {
    const item = this.item(offer.sellerId, offer.sku);
    const title = (item?.body.product as { title?: string } | undefined)?.title ?? offer.sku;
    return {
      listingId: offer.listingId ?? "",
      sellerId: offer.sellerId,
      sku: offer.sku,
      title,
      source: "inventory_api",
      offerId: offer.offerId,
      quantity: this.offerListingQuantity(offer),
      itemQuantity: itemQuantity(item),
      offerAvailableQuantity: offer.availableQuantity,
      price: { ...offer.price },
      soldQuantity: offer.soldQuantity,
      revisionsToday: offer.listingId ? this.revisionsToday(offer.listingId) : 0,
      revisionLimit: this.settings.revisionLimit,
      day: this.clock.dayKey(),
    };
  }

  tradingView(l: TradingListingRec): ListingView {
    return {
      listingId: l.listingId,
      sellerId: l.sellerId,
      sku: l.sku,
      title: l.title,
      source: "trading_api",
      offerId: null,
      quantity: l.quantity,
      itemQuantity: null,
      offerAvailableQuantity: null,
      price: { ...l.price },
      soldQuantity: l.soldQuantity,
      revisionsToday: this.revisionsToday(l.listingId),
      revisionLimit: this.settings.revisionLimit,
      day: this.clock.dayKey(),
    };
  }

  /** Every live listing of a seller (published offers and Trading-API listings). */
  listings(sellerRef: string): ListingView[] {
    const seller = this.seller(sellerRef);
    const views = this.offersOf(seller.userId)
      .filter((o) => o.status === "PUBLISHED" && o.listingId)
      .map((o) => this.offerView(o));
    for (const l of this.tradingListings.values()) {
      if (l.sellerId === seller.userId) views.push(this.tradingView(l));
    }
    return views;
  }

  /** The listing a buyer finds for a SKU on the seller's marketplace. */
  listing(sellerRef: string, sku: string): ListingView {
    const seller = this.seller(sellerRef);
    const offer = this.offersOf(seller.userId, sku).find(
      (o) => o.status === "PUBLISHED" && o.listingId && o.marketplaceId === seller.marketplaceId,
    );
    if (offer) return this.offerView(offer);
    const trading = this.tradingBySku(seller.userId, sku);
    if (trading) return this.tradingView(trading);
    throw notFound(`listing for sku ${sku} of ${seller.username}`);
  }

  /** The revision log, optionally for one seller / listing / SKU. */
  revisionLog(filter: { seller?: string; listingId?: string; sku?: string } = {}): RevisionRec[] {
    const sellerId = filter.seller ? this.seller(filter.seller).userId : undefined;
    return this.revisions
      .filter(
        (r) =>
          (sellerId === undefined || r.sellerId === sellerId) &&
          (filter.listingId === undefined || r.listingId === filter.listingId) &&
          (filter.sku === undefined || r.sku === filter.sku),
      )
      .map((r) => ({ ...r }));
  }

  recordRevision(
    offer: OfferRec,
    operation: RevisionRec["operation"],
    before: number,
    after: number,
    refused: boolean,
  ): RevisionRec {
    const listingId = offer.listingId ?? "";
    const day = this.clock.dayKey();
    const key = `${listingId}|${day}`;
    const count = (this.revisionCounts.get(key) ?? 0) + (refused ? 0 : 1);
    if (!refused) this.revisionCounts.set(key, count);
    this.revisionSeq += 1;
    const rec: RevisionRec = {
      seq: this.revisionSeq,
      at: this.clock.iso(),
      day,
      sellerId: offer.sellerId,
      listingId,
      offerId: offer.offerId,
      sku: offer.sku,
      operation,
      quantityBefore: before,
      quantityAfter: after,
      countToday: count,
      refused,
    };
    this.revisions.push(rec);
    return rec;
  }

  publishedOffers(sellerId: string, sku: string): OfferRec[] {
    return this.offersOf(sellerId, sku).filter((o) => o.status === "PUBLISHED" && o.listingId);
  }

  /** The first listing among `offers` that used up today's revisions, or null. */
  blockedListing(offers: OfferRec[]): OfferRec | null {
    for (const o of offers) {
      if (o.listingId && this.revisionsToday(o.listingId) >= this.settings.revisionLimit) return o;
    }
    return null;
  }

  createOrReplaceInventoryItem(
    sellerId: string,
    sku: string,
    locale: string,
    body: Record<string, unknown>,
  ): { created: boolean; errors: EbayError[] } {
    return writes.createOrReplaceInventoryItem(this, sellerId, sku, locale, body);
  }

  bulkUpdatePriceQuantity(sellerId: string, input: unknown): writes.BulkResult {
    return writes.bulkUpdatePriceQuantity(this, sellerId, input);
  }

  // --- buyers, orders, cancellations -----------------------------------------------------------

  /** A buyer checks out `{ lines: [{ sku, quantity }], buyer? }` from one seller (orders.ts). */
  checkout(sellerRef: string, input: unknown) {
    return orders.checkout(this, sellerRef, input);
  }

  /** A strictly increasing eBay-clock timestamp (orders' lastModifiedDate never ties). */
  nextModified(): string {
    const ms = Math.max(this.clock.nowMs(), this.lastModified + 1);
    this.lastModified = ms;
    return new Date(ms).toISOString();
  }

  order(orderId: string): OrderRec {
    const order = this.orders.get(orderId);
    if (!order) throw notFound(`order ${orderId}`);
    return order;
  }

  orderList(sellerRef?: string): Record<string, unknown>[] {
    const sellerId = sellerRef ? this.seller(sellerRef).userId : undefined;
    return [...this.orders.values()]
      .filter((o) => sellerId === undefined || o.sellerId === sellerId)
      .map((o) => orderPayload(o, this.sellerById(o.sellerId), true));
  }

  sellerById(userId: string): SellerRec {
    const seller = this.sellers.get(userId);
    if (!seller) throw notFound(`seller ${userId}`);
    return seller;
  }

  /** `{ initiator?: SELLER | BUYER, reason?, approve? }` (orders.ts). */
  cancelOrder(orderId: string, input: unknown = {}) {
    return orders.cancelOrder(this, orderId, input);
  }

  approveCancellation(orderId: string) {
    return orders.approveCancellation(this, orderId);
  }

  rejectCancellation(orderId: string) {
    return orders.rejectCancellation(this, orderId);
  }

  shipOrder(orderId: string) {
    return orders.shipOrder(this, orderId);
  }

  // --- notifications ------------------------------------------------------------------------

  currentSigningKey(): SigningKey {
    const key = this.signingKeys[this.signingKeys.length - 1];
    if (!key) throw new Error("no signing key");
    return key;
  }

  /** New signing key for later notifications; earlier keys stay retrievable by kid. */
  rotateSigningKey(): { kid: string } {
    const key = generateSigningKey(this.clock.iso());
    this.signingKeys.push(key);
    return { kid: key.kid };
  }

  signingKey(kid: string): SigningKey | undefined {
    return this.signingKeys.find((k) => k.kid === kid);
  }

  private deliverable(topicId: string, userId: string | null): SubscriptionRec[] {
    return [...this.subscriptions.values()].filter((s) => {
      if (s.topicId !== topicId || s.status !== "ENABLED") return false;
      if (userId !== null && s.userId !== null && s.userId !== userId) return false;
      const destination = this.destinations.get(s.destinationId);
      return destination?.status === "ENABLED";
    });
  }

  private publish(
    subscription: SubscriptionRec,
    topicId: string,
    data: Record<string, unknown>,
    userId: string | null,
    eventDate: string,
    options: { repeatOf?: string; test?: boolean; id?: string } = {},
  ): NotificationRec | null {
    const destination = this.destinations.get(subscription.destinationId);
    if (!destination) return null;
    const topic = TOPICS.find((t) => t.topicId === topicId);
    const notification: NotificationRec = {
      notificationId: options.id ?? notificationId(this.rng),
      topic: topicId,
      schemaVersion: subscription.payload.schemaVersion || topic?.schemaVersion || "1.0",
      eventDate,
      data,
      subscriptionId: subscription.subscriptionId,
      destinationId: destination.destinationId,
      endpoint: destination.endpoint,
      userId,
      repeatOf: options.repeatOf ?? null,
      test: options.test === true,
    };
    this.push.publish(notification);
    return notification;
  }

  publishOrderConfirmation(order: OrderRec): string[] {
    const ids: string[] = [];
    for (const subscription of this.deliverable("ORDER_CONFIRMATION", order.sellerId)) {
      if (subscription.userId !== order.sellerId) continue;
      const data = { orderId: order.orderId };
      const first = this.publish(
        subscription,
        "ORDER_CONFIRMATION",
        data,
        order.sellerId,
        order.creationDate,
      );
      if (!first) continue;
      ids.push(first.notificationId);
      if (this.rng.chance(this.push.config.repeatProbability)) {
        const again = this.publish(
          subscription,
          "ORDER_CONFIRMATION",
          data,
          order.sellerId,
          this.clock.iso(),
          {
            repeatOf: first.notificationId,
          },
        );
        if (again) ids.push(again.notificationId);
      }
    }
    return ids;
  }

  /**
   * The user deleted their eBay account: MARKETPLACE_ACCOUNT_DELETION to every enabled
   * application subscription, with `{ username, userId, eiasToken }`. With `revokeTokens`
   * (default true) the user's tokens stop working.
   */
  accountDeletion(sellerRef: string, input: unknown = {}): { notificationIds: string[] } {
    const seller = this.seller(sellerRef);
    const body = objectBody(input);
    const eventDate = this.clock.iso();
    const data = { username: seller.username, userId: seller.userId, eiasToken: seller.eiasToken };
    const ids: string[] = [];
    for (const subscription of this.deliverable("MARKETPLACE_ACCOUNT_DELETION", null)) {
      const n = this.publish(subscription, "MARKETPLACE_ACCOUNT_DELETION", data, null, eventDate);
      if (n) ids.push(n.notificationId);
    }
    seller.deleted = true;
    if (body.revokeTokens !== false) this.tokens.revoke({ userId: seller.userId });
    return { notificationIds: ids };
  }

  /** The `test` method of a subscription: a mocked payload of its topic. */
  testSubscription(subscription: SubscriptionRec): NotificationRec | null {
    const data: Record<string, unknown> =
      subscription.topicId === "MARKETPLACE_ACCOUNT_DELETION"
        ? {
            username: "test_user",
            userId: "ma8vp1jySJC",
            eiasToken: "nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6wJnY+gAZGEpwmdj6x9nY+seQ==",
          }
        : { orderId: "00-00000-00000" };
    return this.publish(
      subscription,
      subscription.topicId,
      data,
      subscription.userId,
      this.clock.iso(),
      {
        test: true,
        id: `test_${notificationId(this.rng)}`,
      },
    );
  }

  deliveries(filter: { topic?: string } = {}): DeliveryRec[] {
    return this.push
      .deliveries()
      .filter((d) => filter.topic === undefined || d.topic === filter.topic);
  }

  notifications(filter: { topic?: string } = {}): NotificationRec[] {
    return this.push.notifications
      .filter((n) => filter.topic === undefined || n.topic === filter.topic)
      .map((n) => structuredClone(n));
  }

  waitForIdle(timeoutMs = 10_000): Promise<boolean> {
    return this.push.waitForIdle(timeoutMs);
  }

  // --- tokens, clock, faults, log --------------------------------------------------------------

  /** Mints a user token pair for a seller without the consent flow (test shortcut). */
  issueUserTokens(input: unknown) {
    const body = objectBody(input);
    const clientId = typeof body.clientId === "string" ? body.clientId : [...this.apps.keys()][0];
    if (!clientId) throw badRequest("no app: seed one first");
    this.app(clientId);
    if (typeof body.seller !== "string") throw badRequest("seller is required");
    const seller = this.seller(body.seller);
    const scopes = Array.isArray(body.scopes) ? (body.scopes as string[]) : defaultUserScopes();
    return this.tokens.issueUserTokens(clientId, seller.userId, scopes);
  }

  /** Mints an application token (test shortcut for client credentials). */
  issueApplicationToken(input: unknown = {}) {
    const body = objectBody(input);
    const clientId = typeof body.clientId === "string" ? body.clientId : [...this.apps.keys()][0];
    if (!clientId) throw badRequest("no app: seed one first");
    this.app(clientId);
    return this.tokens.clientCredentials(clientId, ["https://api.ebay.com/oauth/api_scope"]);
  }

  private tokenFilter(input: unknown): TokenFilter {
    const body = objectBody(input);
    const filter: TokenFilter = {};
    if (typeof body.token === "string") filter.token = body.token;
    if (typeof body.seller === "string") filter.userId = this.seller(body.seller).userId;
    if (typeof body.clientId === "string") filter.clientId = body.clientId;
    if (body.kind !== undefined) {
      if (body.kind !== "user" && body.kind !== "application" && body.kind !== "refresh") {
        throw badRequest("kind is user, application or refresh");
      }
      filter.kind = body.kind;
    }
    return filter;
  }

  /** Expires matching access tokens now (`{ token? seller? clientId? kind? }`; {} = all). */
  expireTokens(input: unknown = {}): { expired: number } {
    return { expired: this.tokens.expire(this.tokenFilter(input)) };
  }

  /** Revokes matching tokens, refresh tokens included (the user revoked access). */
  revokeTokens(input: unknown = {}): { revoked: number } {
    return { revoked: this.tokens.revoke(this.tokenFilter(input)) };
  }

  /** Moves the eBay clock (`{ days?, ms? }`, default one day). */
  advanceClock(input: unknown = {}): { now: string; day: string } {
    const body = objectBody(input);
    const days = body.days === undefined && body.ms === undefined ? 1 : Number(body.days ?? 0);
    const ms = Number(body.ms ?? 0);
    if (!Number.isFinite(days) || !Number.isFinite(ms) || days < 0 || ms < 0) {
      throw badRequest("days and ms must be >= 0");
    }
    this.clock.advance(days * DAY_MS + ms);
    return this.clockState();
  }

  clockState(): { now: string; day: string; offsetMs: number; timeZone: string } {
    return {
      now: this.clock.iso(),
      day: this.clock.dayKey(),
      offsetMs: this.clock.offsetMs,
      timeZone: this.clock.timeZone,
    };
  }

  addFault(input: unknown) {
    try {
      return this.faults.add(input as FaultRule);
    } catch (error) {
      if (error instanceof FaultError) throw badRequest(error.message);
      throw error;
    }
  }

  setCallLimits(input: unknown): Record<string, number> {
    const body = objectBody(input);
    const limits: Record<string, number> = {};
    for (const [operation, value] of Object.entries(body)) {
      limits[operation] = int(value, operation);
    }
    this.limiter.limits = limits;
    return { ...limits };
  }

  logRequest(rec: Omit<RequestLogRec, "seq" | "at">): void {
    this.requestSeq += 1;
    this.requestLog.push({ seq: this.requestSeq, at: this.clock.iso(), ...rec });
  }

  /**
   * Empties everything (apps, sellers, listings, orders, tokens, subscriptions, deliveries,
   * faults, clock offset, settings, RNG); then re-applies the startup options and, unless
   * `reseed` is false, the startup seed.
   */
  reset(reseed = true): void {
    this.push.reset();
    this.apps.clear();
    this.sellers.clear();
    this.items.clear();
    this.offers.clear();
    this.tradingListings.clear();
    this.orders.clear();
    this.destinations.clear();
    this.subscriptions.clear();
    this.signingKeys.length = 0;
    this.revisions.length = 0;
    this.revisionCounts.clear();
    this.requestLog.length = 0;
    this.tokens.reset();
    this.faults.clear();
    this.limiter.reset();
    this.ids.reset();
    this.clock.reset();
    this.settings = { ...DEFAULT_SETTINGS, ...this.startup.settings };
    this.clock.timeZone = this.settings.dayTimeZone;
    this.consent = { autoApprove: false, seller: null };
    this.revisionSeq = 0;
    this.requestSeq = 0;
    this.lastModified = 0;
    this.rng = new Rng(this.rngSeed);
    this.signingKeys.push(generateSigningKey(this.clock.iso()));
    if (this.startup.push) this.configurePush(this.startup.push);
    if (reseed && this.startup.seed) this.applySeed(this.startup.seed);
  }

  close(): void {
    this.push.close();
    this.outbound.close();
  }
}

export function itemKey(sellerId: string, sku: string): string {
  return `${sellerId}|${sku}`;
}

export function defaultUserScopes(): string[] {
  return [
    "https://api.ebay.com/oauth/api_scope",
    "https://api.ebay.com/oauth/api_scope/sell.inventory",
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
    "https://api.ebay.com/oauth/api_scope/sell.account",
    "https://api.ebay.com/oauth/api_scope/commerce.notification.subscription",
    "https://api.ebay.com/oauth/api_scope/commerce.identity.readonly",
  ];
}

export { DEFAULT_PUSH_CONFIG };

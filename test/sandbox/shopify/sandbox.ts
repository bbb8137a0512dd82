/**
 * The whole local Shopify in one object: shops, webhook dispatcher, randomness and time scale.
 * Every control route and the HTTP server call into this; tests can too, without HTTP.
 */
import { badRequest, notFound } from "./errors";
import { FaultInjector } from "./faults";
import { IdAllocator } from "./ids";
import * as merchant from "./merchant";
import type { LevelRec } from "./model";
import * as orders from "./orders";
import { inventoryLevelPayload } from "./payloads";
import { Rng } from "./rng";
import { SeedError, ShopState, type EventRec, type ShopSeed, type SubscriptionSeed } from "./state";
import {
  WebhookDispatcher,
  type DeliveryConfig,
  type DeliveryRec,
  type SubscriptionRec,
} from "./webhooks";

export type SandboxSeed = {
  shops?: ShopSeed[];
  /** App-wide subscriptions (every shop), like the `[[webhooks.subscriptions]]` of the TOML. */
  webhooks?: { secret: string; subscriptions: SubscriptionSeed[] };
  delivery?: Partial<DeliveryConfig>;
};

export type SandboxOptions = {
  /** Multiplies webhook retry intervals and the idempotency-key retention (default 1). */
  timeScale?: number;
  /** Seeds the RNG (webhook ids, delays, duplicates, random faults) for reproducible runs. */
  rngSeed?: number;
  seed?: SandboxSeed | ShopSeed[] | ShopSeed;
  /** Global webhook delivery behaviour (re-applied by reset()). */
  delivery?: Partial<DeliveryConfig>;
};

/** Idempotency keys are kept 24 hours (scaled by timeScale). */
export const IDEMPOTENCY_RETENTION_MS = 24 * 3600 * 1000;

export class Sandbox {
  readonly ids = new IdAllocator();
  readonly shops = new Map<string, ShopState>();
  readonly webhooks: WebhookDispatcher;
  timeScale: number;
  private rng: Rng;
  private rngSeed: number | undefined;
  private readonly startupSeed: SandboxSeed | undefined;
  private readonly startupDelivery: Partial<DeliveryConfig> | undefined;

  constructor(options: SandboxOptions = {}) {
    this.timeScale = options.timeScale ?? 1;
    this.rngSeed = options.rngSeed;
    this.rng = new Rng(options.rngSeed);
    this.webhooks = new WebhookDispatcher({
      rng: () => this.rng,
      timeScale: () => this.timeScale,
    });
    this.startupSeed = normalizeSeed(options.seed);
    this.startupDelivery = options.delivery;
    if (this.startupDelivery) this.configureDelivery(this.startupDelivery);
    if (this.startupSeed) this.applySeed(this.startupSeed);
  }

  // --- shops ---------------------------------------------------------------------------------

  createShop(seed: ShopSeed): ShopState {
    if (!seed || typeof seed.domain !== "string") throw badRequest("a shop needs a domain");
    if (this.shops.has(seed.domain)) throw badRequest(`shop ${seed.domain} already exists`);
    let shop: ShopState;
    try {
      shop = new ShopState(seed, this.ids, new FaultInjector(() => this.rng));
      if (seed.webhooks) {
        shop.subscriptions = this.subscriptionsFrom(seed.webhooks, "shop");
      }
      if (seed.delivery) shop.deliveryConfig = checkDeliveryConfig(seed.delivery);
    } catch (error) {
      if (error instanceof SeedError) throw badRequest(error.message);
      throw error;
    }
    this.shops.set(shop.domain, shop);
    return shop;
  }

  shop(domain: string): ShopState {
    const shop = this.shops.get(domain);
    if (!shop) throw notFound(`shop ${domain}`);
    return shop;
  }

  deleteShop(domain: string): void {
    this.shop(domain);
    this.shops.delete(domain);
    this.webhooks.forgetShop(domain);
  }

  applySeed(seed: SandboxSeed | ShopSeed[] | ShopSeed): ShopState[] {
    const normalized = normalizeSeed(seed) ?? {};
    if (normalized.delivery) this.configureDelivery(normalized.delivery);
    if (normalized.webhooks) {
      this.webhooks.appSubscriptions = this.subscriptionsFrom(normalized.webhooks, "app");
    }
    return (normalized.shops ?? []).map((s) => this.createShop(s));
  }

  /**
   * Empties everything (shops, deliveries, subscriptions, delivery config, RNG); then re-applies
   * the startup delivery config and, unless `reseed` is false, the startup seed.
   */
  reset(reseed = true): void {
    this.webhooks.reset();
    if (this.startupDelivery) this.configureDelivery(this.startupDelivery);
    this.shops.clear();
    this.ids.reset();
    this.rng = new Rng(this.rngSeed);
    if (reseed && this.startupSeed) this.applySeed(this.startupSeed);
  }

  /** Restarts the RNG from `seed` (undefined: unseeded); reset() restarts it from here too. */
  setRngSeed(seed: number | undefined): void {
    this.rngSeed = seed;
    this.rng = new Rng(seed);
  }

  // --- events and webhooks -------------------------------------------------------------------

  /** Records an event and queues its deliveries. The body is serialised once, here. */
  emit(shop: ShopState, topic: string, payload: unknown, at = new Date()): EventRec {
    const event: EventRec = {
      eventId: this.rng.uuid(),
      topic,
      triggeredAt: at,
      payload,
      body: JSON.stringify(payload),
    };
    shop.events.push(event);
    this.webhooks.enqueue(shop, event);
    return event;
  }

  emitLevelUpdates(shop: ShopState, levels: readonly LevelRec[], at = new Date()): void {
    for (const level of levels) {
      this.emit(shop, "inventory_levels/update", inventoryLevelPayload(shop, level), at);
    }
  }

  subscriptionsFrom(
    config: { secret: string; subscriptions: SubscriptionSeed[] },
    scope: "shop" | "app",
  ): SubscriptionRec[] {
    if (!config || !Array.isArray(config.subscriptions)) {
      throw badRequest("expected { secret, subscriptions: [{ topics, address }] }");
    }
    return config.subscriptions.map((s) => {
      try {
        return this.webhooks.subscription(
          s.topics,
          s.address,
          config.secret,
          scope,
          s.includeFields,
        );
      } catch (error) {
        throw badRequest((error as Error).message);
      }
    });
  }

  setShopSubscriptions(
    domain: string,
    config: { secret: string; subscriptions: SubscriptionSeed[] },
  ): SubscriptionRec[] {
    const shop = this.shop(domain);
    shop.subscriptions = this.subscriptionsFrom(config, "shop");
    return shop.subscriptions;
  }

  setAppSubscriptions(config: {
    secret: string;
    subscriptions: SubscriptionSeed[];
  }): SubscriptionRec[] {
    this.webhooks.appSubscriptions = this.subscriptionsFrom(config, "app");
    return this.webhooks.appSubscriptions;
  }

  configureDelivery(config: Partial<DeliveryConfig>, domain?: string): DeliveryConfig {
    const checked = checkDeliveryConfig(config);
    if (domain === undefined) {
      this.webhooks.config = { ...this.webhooks.config, ...checked };
      this.webhooks.pump();
      return this.webhooks.config;
    }
    const shop = this.shop(domain);
    shop.deliveryConfig = { ...shop.deliveryConfig, ...checked };
    this.webhooks.pump();
    return this.webhooks.configFor(shop);
  }

  deliveries(domain?: string): DeliveryRec[] {
    if (domain !== undefined) this.shop(domain);
    return this.webhooks.deliveries(domain);
  }

  waitForWebhooksIdle(timeoutMs = 10_000): Promise<boolean> {
    return this.webhooks.waitForIdle(timeoutMs);
  }

  // --- storefront and merchant actions (see orders.ts and merchant.ts) ----------------------

  checkout(domain: string, input: unknown) {
    return orders.checkout(this, this.shop(domain), input);
  }
  fulfillOrder(domain: string, orderRef: string, input: unknown = {}) {
    return orders.fulfill(this, this.shop(domain), orderRef, input);
  }
  cancelFulfillment(domain: string, orderRef: string, fulfillmentRef: string) {
    return orders.cancelFulfillment(this, this.shop(domain), orderRef, fulfillmentRef);
  }
  cancelOrder(domain: string, orderRef: string, input: unknown = {}) {
    return orders.cancel(this, this.shop(domain), orderRef, input);
  }
  refundOrder(domain: string, orderRef: string, input: unknown) {
    return orders.refund(this, this.shop(domain), orderRef, input);
  }
  editOrder(domain: string, orderRef: string, input: unknown) {
    return orders.edit(this, this.shop(domain), orderRef, input);
  }
  adjustInventory(domain: string, input: unknown) {
    return merchant.adjustInventory(this, this.shop(domain), input);
  }
  setInventory(domain: string, input: unknown) {
    return merchant.setInventory(this, this.shop(domain), input);
  }
  activateInventory(domain: string, input: unknown) {
    return merchant.activateInventory(this, this.shop(domain), input);
  }
  createProduct(domain: string, input: unknown) {
    return merchant.createProduct(this, this.shop(domain), input);
  }
  updateVariant(domain: string, variantRef: string, input: unknown) {
    return merchant.updateVariant(this, this.shop(domain), variantRef, input);
  }
  deleteProduct(domain: string, productRef: string) {
    return merchant.deleteProduct(this, this.shop(domain), productRef);
  }
  createLocation(domain: string, input: unknown) {
    return merchant.createLocation(this, this.shop(domain), input);
  }
  updateLocation(domain: string, locationRef: string, input: unknown) {
    return merchant.updateLocation(this, this.shop(domain), locationRef, input);
  }

  /** Removes idempotency keys older than the (scaled) retention window. */
  expireIdempotencyKeys(shop: ShopState, now = Date.now()): void {
    for (const [key, entry] of shop.idempotency) {
      if (entry.expiresAt <= now) shop.idempotency.delete(key);
    }
  }

  idempotencyExpiry(now = Date.now()): number {
    return now + IDEMPOTENCY_RETENTION_MS * this.timeScale;
  }

  close(): void {
    this.webhooks.close();
  }
}

function normalizeSeed(seed: SandboxOptions["seed"]): SandboxSeed | undefined {
  if (seed === undefined) return undefined;
  if (Array.isArray(seed)) return { shops: seed };
  if ("domain" in seed) return { shops: [seed] };
  return seed;
}

function checkDeliveryConfig(input: Partial<DeliveryConfig>): Partial<DeliveryConfig> {
  if (typeof input !== "object" || input === null) throw badRequest("expected a JSON object");
  const out: Partial<DeliveryConfig> = {};
  const nonNegative = (value: unknown, name: string): number => {
    if (typeof value !== "number" || !(value >= 0)) throw badRequest(`${name} must be >= 0`);
    return value;
  };
  if (input.delayMs !== undefined) {
    const range = input.delayMs;
    if (!Array.isArray(range) || range.length !== 2) throw badRequest("delayMs is [min, max]");
    const min = nonNegative(range[0], "delayMs[0]");
    const max = nonNegative(range[1], "delayMs[1]");
    if (max < min) throw badRequest("delayMs needs min <= max");
    out.delayMs = [min, max];
  }
  if (input.duplicateProbability !== undefined) {
    const p = nonNegative(input.duplicateProbability, "duplicateProbability");
    if (p > 1) throw badRequest("duplicateProbability must be within [0, 1]");
    out.duplicateProbability = p;
  }
  if (input.reorder !== undefined) out.reorder = input.reorder === true;
  if (input.paused !== undefined) out.paused = input.paused === true;
  if (input.timeoutMs !== undefined) out.timeoutMs = nonNegative(input.timeoutMs, "timeoutMs");
  if (input.connectTimeoutMs !== undefined) {
    out.connectTimeoutMs = nonNegative(input.connectTimeoutMs, "connectTimeoutMs");
  }
  if (input.concurrency !== undefined) {
    out.concurrency = Math.max(1, Math.floor(nonNegative(input.concurrency, "concurrency")));
  }
  return out;
}

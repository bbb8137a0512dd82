/**
 * The whole local Shopify in one object: shops, webhook dispatcher, randomness and time scale.
 * Every control route and the HTTP server call into this; tests can too, without HTTP.
 */
import {
  ACCESS_TOKEN_TTL_SECONDS,
  AppConfigError,
  ONLINE_TOKEN_TTL_SECONDS,
  REFRESH_TOKEN_TTL_SECONDS,
  authenticate,
  checkAppSeed,
  isStringArray,
  mintSessionToken,
  revokeAppTokens,
  type AppRec,
  type AppSeed,
  type Caller,
  type InstallationRec,
} from "./apps";
import { badRequest, notFound, unprocessable } from "./errors";
import { FaultInjector } from "./faults";
import { IdAllocator } from "./ids";
import * as merchant from "./merchant";
import { restTime, type LevelRec } from "./model";
import * as orders from "./orders";
import { inventoryLevelPayload, shopPayload } from "./payloads";
import { Rng } from "./rng";
import {
  DEFAULT_ACCESS_SCOPES,
  SeedError,
  ShopState,
  type EventRec,
  type LevelHistoryEntry,
  type ShopSeed,
  type SubscriptionSeed,
} from "./state";
import { subscriptionsFromToml } from "./toml";
import {
  deleteSubscription,
  deleteSubscriptionsOf,
  resignSubscriptions,
  type ApiSubscriptionRec,
} from "./webhook-subscriptions";
import {
  WebhookDispatcher,
  type DeliveryConfig,
  type DeliveryRec,
  type SubscriptionRec,
} from "./webhooks";

export type SandboxSeed = {
  /** The app (client id, secret, scopes, toml webhooks): applied before the shops. */
  app?: AppSeed;
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
  /** The app stores install (StockGuard): null until configured (`configureApp`, seed `app`). */
  app: AppRec | null = null;
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
      if (seed.appInstalled !== undefined && seed.appInstalled !== false) {
        if (!this.app)
          throw new SeedError("appInstalled needs an app (seed `app` or configureApp)");
        const scopes = seed.appInstalled === true ? undefined : seed.appInstalled.scopes;
        shop.installation = this.newInstallation(this.grantedScopes(this.app, scopes));
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
    if (normalized.app) this.configureApp(normalized.app);
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
    this.app = null;
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

  /**
   * Records an event and queues its deliveries (to `subscriptions`, by default every subscription
   * that applies to the shop). The body is serialised once, here.
   */
  emit(
    shop: ShopState,
    topic: string,
    payload: unknown,
    at = new Date(),
    subscriptions: readonly SubscriptionRec[] = this.subscriptionsFor(shop),
  ): EventRec {
    const event: EventRec = {
      eventId: this.rng.uuid(),
      topic,
      triggeredAt: at,
      payload,
      body: JSON.stringify(payload),
    };
    shop.events.push(event);
    this.webhooks.enqueue(shop, event, subscriptions);
    return event;
  }

  /**
   * Every subscription an event of this shop goes to: the control API's (this shop's and the
   * app-wide ones), the app's toml subscriptions when the shop installed the app, and those apps
   * created through the Admin API.
   */
  subscriptionsFor(shop: ShopState): SubscriptionRec[] {
    const list: SubscriptionRec[] = [...shop.subscriptions, ...this.webhooks.appSubscriptions];
    if (this.app && shop.installation) list.push(...this.app.subscriptions);
    list.push(...shop.apiSubscriptions);
    return list;
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

  // --- the app: configuration, installs, tokens, Admin API subscriptions ---------------------

  /**
   * Sets the app (app-wide: client id, secret, scopes, toml webhooks). Reconfiguring keeps the
   * installs and tokens; subscriptions the app created are signed with the new secret.
   */
  configureApp(seed: AppSeed): AppRec {
    try {
      checkAppSeed(seed);
    } catch (error) {
      if (error instanceof AppConfigError) throw badRequest(error.message);
      throw error;
    }
    const subscriptionSeeds =
      seed.toml !== undefined
        ? subscriptionsFromToml(seed.toml, seed.baseUrl ?? "")
        : (seed.subscriptions ?? []);
    const subscriptions = this.subscriptionsFrom(
      { secret: seed.clientSecret, subscriptions: subscriptionSeeds },
      "app",
    );
    const previous = this.app;
    const title = seed.title ?? "StockGuard";
    const identity = previous?.identity ?? { key: "app", kind: "app", title, secret: "" };
    identity.title = title;
    identity.secret = seed.clientSecret;
    this.app = {
      id: previous?.id ?? this.ids.allocate("App"),
      clientId: seed.clientId,
      clientSecret: seed.clientSecret,
      title,
      scopes: [...(seed.scopes ?? DEFAULT_ACCESS_SCOPES)],
      subscriptions,
      accessTokenTtlSeconds: seed.accessTokenTtlSeconds ?? ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: seed.refreshTokenTtlSeconds ?? REFRESH_TOKEN_TTL_SECONDS,
      onlineTokenTtlSeconds: seed.onlineTokenTtlSeconds ?? ONLINE_TOKEN_TTL_SECONDS,
      installOnTokenExchange: seed.installOnTokenExchange === true,
      identity,
    };
    if (previous) for (const shop of this.shops.values()) resignSubscriptions(shop, identity);
    return this.app;
  }

  requireApp(): AppRec {
    if (!this.app) {
      throw unprocessable("no_app", "no app is configured (seed `app` or POST /_control/app)");
    }
    return this.app;
  }

  private grantedScopes(app: AppRec, scopes: unknown): string[] {
    if (scopes === undefined || scopes === null) return [...app.scopes];
    if (!isStringArray(scopes)) throw badRequest("scopes must be an array of strings");
    const foreign = scopes.filter((scope) => !app.scopes.includes(scope));
    if (foreign.length > 0) {
      throw badRequest(`the app does not ask for ${foreign.join(", ")}`);
    }
    return [...new Set(scopes)];
  }

  private newInstallation(scopes: string[]): InstallationRec {
    return { id: this.ids.allocate("AppInstallation"), scopes, installedAt: new Date() };
  }

  /**
   * The merchant installs the app (Shopify's managed installation: the scopes the app asks for,
   * or the `scopes` given, a subset). Installing again with other scopes updates them and sends
   * `app/scopes_update`; with the same scopes it changes nothing.
   */
  installApp(domain: string, options: { scopes?: unknown } = {}): InstallationRec {
    const shop = this.shop(domain);
    const app = this.requireApp();
    const scopes = this.grantedScopes(app, options.scopes);
    if (!shop.installation) {
      shop.installation = this.newInstallation(scopes);
      return shop.installation;
    }
    const previous = shop.installation.scopes;
    const same = previous.length === scopes.length && previous.every((s) => scopes.includes(s));
    if (same) return shop.installation;
    shop.installation.scopes = scopes;
    const now = new Date();
    this.emit(
      shop,
      "app/scopes_update",
      {
        id: shop.installation.id,
        previous,
        current: scopes,
        updated_at: restTime(now, shop.timezoneOffsetMinutes),
      },
      now,
    );
    return shop.installation;
  }

  /**
   * The merchant uninstalls the app: its tokens are revoked and the subscriptions it created at
   * this shop deleted first, then `app/uninstalled` (the shop) goes to the subscriptions the app
   * had for it (toml or Admin API) and the control API's. Custom apps are not affected.
   */
  uninstallApp(domain: string): {
    revokedTokens: number;
    deletedSubscriptions: number;
    eventId: string;
  } {
    const shop = this.shop(domain);
    const app = this.requireApp();
    if (!shop.installation) {
      throw unprocessable("not_installed", `the app is not installed on ${domain}`);
    }
    const revokedTokens = revokeAppTokens(shop);
    const created = deleteSubscriptionsOf(shop, app.identity.key);
    const targets = [
      ...shop.subscriptions,
      ...this.webhooks.appSubscriptions,
      ...app.subscriptions,
      ...created,
    ];
    shop.installation = null;
    const event = this.emit(shop, "app/uninstalled", shopPayload(shop), new Date(), targets);
    return { revokedTokens, deletedSubscriptions: created.length, eventId: event.eventId };
  }

  /** Install state and the app's live tokens at this shop (counts, not values). */
  appInstallation(domain: string) {
    const shop = this.shop(domain);
    const now = Date.now();
    const live = [...shop.appTokens.values()].filter(
      (t) => t.expiresAt === null || t.expiresAt > now,
    );
    return {
      installed: shop.installation !== null,
      installationId:
        shop.installation === null ? null : `gid://shopify/AppInstallation/${shop.installation.id}`,
      scopes: shop.installation?.scopes ?? [],
      installedAt: shop.installation?.installedAt.toISOString() ?? null,
      tokens: {
        offline: live.filter((t) => t.mode === "offline").length,
        expiringOffline: live.filter((t) => t.mode === "offline" && t.expiresAt !== null).length,
        online: live.filter((t) => t.mode === "online").length,
        refresh: [...shop.refreshTokens.values()].filter((t) => t.expiresAt > now).length,
      },
    };
  }

  /**
   * A session token as the admin hands it to the app's frontend (App Bridge `idToken()`): only
   * for a store that installed the app (or when the app installs on token exchange).
   */
  sessionToken(
    domain: string,
    options: { userId?: unknown; expiresInSeconds?: unknown } = {},
  ): { sessionToken: string; expiresAt: string } {
    const shop = this.shop(domain);
    const app = this.requireApp();
    if (!shop.installation && !app.installOnTokenExchange) {
      throw unprocessable("not_installed", `the app is not installed on ${domain}`);
    }
    const { userId, expiresInSeconds } = options;
    if (userId !== undefined && (typeof userId !== "number" || !Number.isSafeInteger(userId))) {
      throw badRequest("userId must be an integer");
    }
    if (expiresInSeconds !== undefined && typeof expiresInSeconds !== "number") {
      throw badRequest("expiresInSeconds must be a number");
    }
    const { token, claims } = mintSessionToken(app, domain, {
      ...(userId === undefined ? {} : { userId }),
      ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
    });
    return { sessionToken: token, expiresAt: new Date(claims.exp * 1000).toISOString() };
  }

  /** Expires the app's expiring access tokens at this shop now (refresh tokens stay). */
  expireAppTokens(domain: string): { expired: number } {
    const shop = this.shop(domain);
    const now = Date.now();
    let expired = 0;
    for (const rec of shop.appTokens.values()) {
      if (rec.expiresAt !== null && rec.expiresAt > now) {
        rec.expiresAt = now;
        expired += 1;
      }
    }
    return { expired };
  }

  /** The Admin API caller behind a token at this shop, or null (401). */
  authenticate(shop: ShopState, token: string): Caller | null {
    return authenticate(shop, this.app, token);
  }

  /** Subscriptions apps created through the Admin API at this shop, every app's. */
  webhookSubscriptions(domain: string): ApiSubscriptionRec[] {
    return [...this.shop(domain).apiSubscriptions];
  }

  /** The merchant deletes a subscription an app created (the app is not told). */
  deleteWebhookSubscription(domain: string, id: string): { deletedWebhookSubscriptionId: string } {
    const result = deleteSubscription(this.shop(domain), null, id);
    if (result.deletedWebhookSubscriptionId === null) throw notFound(`webhook subscription ${id}`);
    return { deletedWebhookSubscriptionId: result.deletedWebhookSubscriptionId };
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

  /**
   * Every change of `available` at the shop's levels, oldest first: storefront checkouts, order
   * actions, merchant actions and app mutations, each with its cause, the value after it and its
   * delta. `since` (epoch ms, inclusive) and `sku` filter. Entries are shared, not copied: read
   * them, do not change them.
   */
  levelHistory(
    domain: string,
    options: { since?: number; sku?: string } = {},
  ): readonly LevelHistoryEntry[] {
    const history = this.shop(domain).levelHistory;
    const { since, sku } = options;
    let start = 0;
    if (since !== undefined) {
      // Entries are appended in time order: binary search the first one at or after `since`.
      let high = history.length;
      while (start < high) {
        const mid = (start + high) >>> 1;
        if (history[mid]!.at < since) start = mid + 1;
        else high = mid;
      }
    }
    const tail = start === 0 ? history : history.slice(start);
    return sku === undefined ? tail.slice() : tail.filter((e) => e.sku === sku);
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
  if (input.dropFirstProbability !== undefined) {
    const p = nonNegative(input.dropFirstProbability, "dropFirstProbability");
    if (p > 1) throw badRequest("dropFirstProbability must be within [0, 1]");
    out.dropFirstProbability = p;
  }
  if (input.dropRetryMs !== undefined) {
    const range = input.dropRetryMs;
    if (range === null) out.dropRetryMs = null;
    else {
      if (!Array.isArray(range) || range.length !== 2)
        throw badRequest("dropRetryMs is [min, max]");
      const min = nonNegative(range[0], "dropRetryMs[0]");
      const max = nonNegative(range[1], "dropRetryMs[1]");
      if (max < min) throw badRequest("dropRetryMs needs min <= max");
      out.dropRetryMs = [min, max];
    }
  }
  if (input.concurrency !== undefined) {
    out.concurrency = Math.max(1, Math.floor(nonNegative(input.concurrency, "concurrency")));
  }
  if (input.keepAlive !== undefined) {
    if (typeof input.keepAlive !== "boolean") throw badRequest("keepAlive must be a boolean");
    out.keepAlive = input.keepAlive;
  }
  return out;
}

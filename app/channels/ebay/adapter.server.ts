/**
 * `EbayAdapter`, the eBay implementation of the channel port (registered in registry.server.ts),
 * for fixed-price listings made through the Inventory API. See docs/decisions/0006-ebay-channel.md.
 *
 * - Quantities out: `bulkUpdatePriceQuantity`, one SKU per call (the current spec text), setting
 *   the inventory item's ship-to-home quantity and the `availableQuantity` of every published
 *   offer of the SKU to the same absolute number (a listing shows the smaller of the two), so one
 *   call is one revision of each listing. Applied when every entry answers 200. A listing at
 *   eBay's 250-revisions-a-day limit is `rejected` (retryable) once, then `throttled` until eBay's
 *   next calendar day without calling eBay again. The daily budget itself is the framework's
 *   (`dailyRevisionsPerListing`, push-sales).
 * - Orders in: Notification API ORDER_CONFIRMATION (inbound.server.ts) → `fetchOrder`
 *   (Fulfillment `getOrder`); cancellations, shipments and missed notifications by polling
 *   `getOrders` on `lastmodifieddate` (eBay has no cancellation topic).
 * - Listings made with the Trading API (or Seller Hub) are unknown to the Inventory API: their
 *   sales are counted (the order names the SKU), their quantity cannot be set; each is reported
 *   as a `not_manageable` catalog issue the first time an order shows it.
 * - Every call: the seller's daily bucket per API family in Redis, 429 shared by all workers.
 */
import { calendarDay } from "../../domain/revisions";
import { env } from "../../env.server";
import { sharedRedis } from "../../lib/locks.server";
import { log } from "../../logger.server";
import * as catalog from "../../repositories/catalog.server";
import * as connections from "../../repositories/connections.server";
import type {
  AuthorizationFlow,
  InboundPort,
  AuthorizedAccount,
  CatalogEntry,
  ChannelAdapter,
  ChannelOrder,
  ConnectionContext,
  PollResult,
  PulledDelivery,
  QuantityWrite,
  RemoteLocation,
  RemoteQuantity,
  RemoteRef,
  SubscriptionReport,
  WriteResult,
} from "../channel-adapter";
import {
  ChannelAuthError,
  ChannelPermanentError,
  ChannelRetryableError,
  ChannelThrottledError,
} from "../errors";
import { describeErrors, EbayClient, errorsOf, type EbayAnswer } from "./client.server";
import { ebayConfig, ebayHosts } from "./config.server";
import { ebayInbound, PublicKeys, SHIP_TO_HOME_LOCATION } from "./inbound.server";
import { TOPICS, ZOrder, type EbayOrder } from "./schemas";
import { EbayTokens, tokenCall, type EbayCredentials, type TokenAnswer } from "./tokens.server";
import { orderOperations } from "./translate";

/** The one pseudo-location: the inventory item's ship-to-home quantity. */
export const SHIP_TO_HOME = SHIP_TO_HOME_LOCATION;
/** eBay's calendar day of the revision limit (the local eBay's default too). */
export const REVISION_DAY_TIME_ZONE = "America/Los_Angeles";
export const REVISIONS_PER_DAY = 250;
/** Offers of one inventory item per bulkUpdatePriceQuantity request (spec: up to 25). */
const MAX_OFFERS = 25;
const INVENTORY = "/sell/inventory/v1";
const FULFILLMENT = "/sell/fulfillment/v1";
const NOTIFICATION = "/commerce/notification/v1";
/** Concurrent calls of one adapter call (reads, catalog offers). */
const PARALLEL = 4;
/**
 * Concurrent writes (one SKU per call): a push of many listings is as slow as its sequential
 * rounds, and every change waits for the running push of its connection.
 */
const PARALLEL_WRITES = 8;
/** Offers of a SKU are re-read after this long (writes name them; orders check them). */
const OFFERS_TTL_MS = 10 * 60_000;
/** Reads of more listings than this page through getInventoryItems instead. */
const PAGE_READ_THRESHOLD = 20;
/** How long one scan of the inventory answers reads (a reconciliation's pages). */
const SNAPSHOT_TTL_MS = 5_000;
/** Each poll reads back orders modified this long before the last one it saw. */
export const POLL_OVERLAP_MS = 60_000;
/** A cancelled order's listings are read again on every poll for this long at least (see poll). */
const RESTOCK_RECHECK_MS = 30_000;
/** The first poll of a connection starts this far back. */
const FIRST_POLL_LOOKBACK_MS = 5 * 60_000;
const MAX_POLL_PAGES = 25;

/** `{from, seen}`: where the next poll starts, and the order states it already handed over. */
function parsePollCursor(
  cursor: string | null,
): { from: number; seen: Record<string, number> } | null {
  if (!cursor) return null;
  try {
    const value = JSON.parse(cursor) as { from?: unknown; seen?: unknown };
    const from = typeof value.from === "string" ? Date.parse(value.from) : NaN;
    if (Number.isNaN(from)) return null;
    const seen =
      value.seen && typeof value.seen === "object" ? (value.seen as Record<string, number>) : {};
    return { from, seen };
  } catch {
    const from = Date.parse(cursor);
    return Number.isNaN(from) ? null : { from, seen: {} };
  }
}

/** The text of eBay's revision-limit error (its id is not published: never keyed on it). */
export function isRevisionLimitError(error: { message?: string; longMessage?: string }): boolean {
  const text = `${error.message ?? ""} ${error.longMessage ?? ""}`;
  return /revis/i.test(text) && /(maximum|limit|threshold|250)/i.test(text);
}

type OfferInfo = {
  offerId: string;
  listingId: string | null;
  status: string;
  marketplaceId: string | null;
};
type Offers = { offers: OfferInfo[] };

type PriceQuantityResponse = {
  offerId?: string;
  sku?: string;
  statusCode?: number;
  errors?: { errorId?: number; message?: string; longMessage?: string }[];
};

export type EbayAdapterOptions = {
  fetch?: typeof fetch;
  /** The eBay clock for the revision day (tests use the local eBay's). */
  now?: () => Date;
  tokens?: EbayTokens;
};

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>) {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function nextOffset(href: string | undefined, param: string): string | null {
  if (!href) return null;
  try {
    return new URL(href, "https://ebay.invalid").searchParams.get(param);
  } catch {
    return null;
  }
}

export class EbayAdapter implements ChannelAdapter {
  readonly kind = "ebay" as const;
  readonly capabilities = {
    compareAndSet: false,
    relativeWrites: false,
    maxItemsPerWrite: 1,
    maxItemsPerRead: 200,
    confirmation: "immediate",
    orderSignal: "id_only",
    cancellationEvents: false,
    dailyRevisionsPerListing: REVISIONS_PER_DAY,
    revisionDayTimeZone: REVISION_DAY_TIME_ZONE,
    inbound: "webhook",
  } as const;
  readonly inbound: InboundPort;
  readonly authorization: AuthorizationFlow;

  private readonly tokens: EbayTokens;
  private readonly client: EbayClient;
  private readonly offersCache = new Map<string, { value: Offers; at: number }>();
  private readonly manageable = new Map<string, number>();
  private readonly snapshots = new Map<
    string,
    { value: Promise<Map<string, number>>; at: number }
  >();

  constructor(private readonly options: EbayAdapterOptions = {}) {
    this.tokens =
      options.tokens ??
      new EbayTokens({
        fetch: options.fetch,
        onRefused: (conn, reason) => this.pause(conn, reason),
      });
    this.client = new EbayClient(this.tokens, options.fetch);
    this.inbound = ebayInbound(new PublicKeys(this.client));
    this.authorization = {
      kind: "redirect",
      consentUrl: (input) => this.consentUrl(input),
      complete: (input) => this.completeAuthorization(input),
    };
  }

  /** EBAY_POLL_INTERVAL_MS (60 s unless configured). */
  get pollIntervalMs(): number {
    try {
      return ebayConfig().pollIntervalMs;
    } catch {
      return 60_000;
    }
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** eBay refused the stored authorization: the connection waits for the merchant. */
  private async pause(conn: ConnectionContext, reason: string): Promise<void> {
    await connections.markConnectionError(conn.id, reason);
    await connections.recordConnectionFailure({
      shopId: conn.shopId,
      connectionId: conn.id,
      kind: "auth",
      reason,
    });
    log({ connectionId: conn.id }).error({ reason }, "eBay authorization refused; paused");
  }

  // --- authorization ---------------------------------------------------------------------------

  private consentUrl(input: { state: string; apiBaseUrl: string | null }): string {
    const config = ebayConfig();
    const url = new URL(`${ebayHosts(input.apiBaseUrl).auth}/oauth2/authorize`);
    url.searchParams.set("client_id", config.clientId);
    // eBay takes the RuName, whose accept URL is StockGuard's /connect/ebay/callback.
    url.searchParams.set("redirect_uri", config.ruName);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("scope", config.scopes.join(" "));
    url.searchParams.set("state", input.state);
    return url.toString();
  }

  private async completeAuthorization(input: {
    params: URLSearchParams;
    apiBaseUrl: string | null;
  }): Promise<AuthorizedAccount> {
    const code = input.params.get("code");
    if (!code) throw new ChannelAuthError("eBay sent no authorization code");
    const answer = await this.tokens.exchangeCode(input.apiBaseUrl, code);
    if (!answer.refresh_token)
      throw new ChannelAuthError("eBay's code exchange returned no refresh token");
    const user = await this.getUser(input.apiBaseUrl, answer.access_token);
    const expiresAt = new Date(
      Date.now() + (answer.refresh_token_expires_in ?? 47_304_000) * 1000,
    ).toISOString();
    const credentials: EbayCredentials = {
      refreshToken: answer.refresh_token,
      refreshTokenExpiresAt: expiresAt,
      scopes: ebayConfig().scopes,
      userId: user.userId,
    };
    return {
      accountRef: user.userId,
      name: `eBay ${user.username}`,
      credentials,
      settings: {
        // Shown by the admin: the merchant reconnects before this date.
        refreshTokenExpiresAt: expiresAt,
        ...(user.marketplaceId ? { marketplaceId: user.marketplaceId } : {}),
      },
    };
  }

  /** Commerce Identity `getUser`: the seller's immutable id and username. */
  private async getUser(
    apiBaseUrl: string | null,
    accessToken: string,
  ): Promise<{ userId: string; username: string; marketplaceId: string | null }> {
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(
        `${ebayHosts(apiBaseUrl).apiz}/commerce/identity/v1/user/`,
        {
          headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json" },
          signal: AbortSignal.timeout(15_000),
        },
      );
    } catch (error) {
      throw new ChannelRetryableError(`eBay getUser failed: ${(error as Error).message}`);
    }
    const body = (await response.json().catch(() => null)) as {
      userId?: unknown;
      username?: unknown;
      registrationMarketplaceId?: unknown;
    } | null;
    if (response.status === 401 || response.status === 403)
      throw new ChannelAuthError(`eBay refused getUser (${describeErrors(body, "HTTP 401/403")})`);
    if (response.status >= 500)
      throw new ChannelRetryableError(`eBay getUser HTTP ${response.status}`);
    if (response.status !== 200 || typeof body?.userId !== "string" || !body.userId)
      throw new ChannelPermanentError(`eBay getUser answered HTTP ${response.status}`);
    return {
      userId: body.userId,
      username: typeof body.username === "string" ? body.username : body.userId,
      marketplaceId:
        typeof body.registrationMarketplaceId === "string" ? body.registrationMarketplaceId : null,
    };
  }

  async describeAccount(
    account: { accountRef: string; apiBaseUrl: string | null },
    credentials: Record<string, unknown>,
  ): Promise<{ name: string; scopes: string[] }> {
    const refreshToken = credentials.refreshToken;
    if (typeof refreshToken !== "string" || !refreshToken)
      throw new ChannelAuthError("an eBay refresh token is required");
    const answer: TokenAnswer = await tokenCall(
      account.apiBaseUrl,
      { grant_type: "refresh_token", refresh_token: refreshToken },
      this.options.fetch,
    );
    const user = await this.getUser(account.apiBaseUrl, answer.access_token);
    if (account.accountRef && user.userId !== account.accountRef)
      throw new ChannelAuthError(
        `these credentials belong to eBay user ${user.username}, not ${account.accountRef}`,
      );
    return {
      name: `eBay ${user.username}`,
      scopes: Array.isArray(credentials.scopes) ? (credentials.scopes as string[]) : [],
    };
  }

  forgetCredentials(connectionId: string): void {
    this.tokens.forget(connectionId);
    for (const key of [...this.offersCache.keys()])
      if (key.startsWith(`${connectionId}|`)) this.offersCache.delete(key);
  }

  // --- catalog and quantities ------------------------------------------------------------------

  async listLocations(): Promise<RemoteLocation[]> {
    return [
      {
        id: SHIP_TO_HOME,
        name: "eBay (ship-to-home quantity)",
        isActive: true,
        fulfillsOnlineOrders: true,
      },
    ];
  }

  /** Every inventory item by SKU (getInventoryItems pages), with its offers (getOffers). */
  async *listCatalog(conn: ConnectionContext): AsyncGenerator<CatalogEntry[]> {
    for await (const items of this.inventoryPages(conn)) {
      const entries = await mapLimit(items, PARALLEL, async (item): Promise<CatalogEntry> => {
        const offers = await this.offers(conn, item.sku, true);
        const listed = offers.offers.some((o) => o.status === "PUBLISHED" && o.listingId);
        return {
          remoteRef: item.sku,
          remoteVariantRef: null,
          sku: item.sku,
          title: `${item.title}${listed ? "" : " (no published eBay offer)"}`,
          tracked: true,
          sellsWhenOutOfStock: false,
        };
      });
      yield entries;
    }
  }

  private async *inventoryPages(
    conn: ConnectionContext,
  ): AsyncGenerator<{ sku: string; title: string; quantity: number | null }[]> {
    let offset = "0";
    for (let page = 0; page < 10_000; page++) {
      const answer = await this.client.call<{
        inventoryItems?: {
          sku?: string;
          product?: { title?: string };
          availability?: { shipToLocationAvailability?: { quantity?: number } };
        }[];
        next?: string;
        total?: number;
      }>(conn, {
        group: "inventory",
        operation: "getInventoryItems",
        method: "GET",
        path: `${INVENTORY}/inventory_item`,
        query: { limit: "200", offset },
        auth: "user",
      });
      if (answer.status !== 200)
        throw new ChannelPermanentError(
          `eBay getInventoryItems: ${describeErrors(answer.body, `HTTP ${answer.status}`)}`,
        );
      const items = (answer.body?.inventoryItems ?? [])
        .filter((i): i is typeof i & { sku: string } => typeof i.sku === "string" && !!i.sku)
        .map((i) => ({
          sku: i.sku,
          title: i.product?.title ?? i.sku,
          quantity:
            typeof i.availability?.shipToLocationAvailability?.quantity === "number"
              ? i.availability.shipToLocationAvailability.quantity
              : 0,
        }));
      if (items.length > 0) yield items;
      const next = nextOffset(answer.body?.next, "offset");
      if (!next || next === offset || items.length === 0) return;
      offset = next;
    }
  }

  /** A SKU's offers (cached): their ids are what a write names, their listings what orders name. */
  private async offers(conn: ConnectionContext, sku: string, fresh = false): Promise<Offers> {
    const key = `${conn.id}|${sku}`;
    const cached = this.offersCache.get(key);
    if (!fresh && cached && Date.now() - cached.at < OFFERS_TTL_MS) return cached.value;
    const all: OfferInfo[] = [];
    let offset = "0";
    for (let page = 0; page < 20; page++) {
      const answer = await this.client.call<{
        offers?: {
          offerId?: string;
          status?: string;
          marketplaceId?: string;
          listing?: { listingId?: string };
        }[];
        next?: string;
      }>(conn, {
        group: "inventory",
        operation: "getOffers",
        method: "GET",
        path: `${INVENTORY}/offer`,
        query: { sku, limit: "100", offset },
        auth: "user",
      });
      if (answer.status === 404) break; // no offer for this SKU (or no such item)
      if (answer.status !== 200)
        throw new ChannelPermanentError(
          `eBay getOffers ${sku}: ${describeErrors(answer.body, `HTTP ${answer.status}`)}`,
        );
      for (const o of answer.body?.offers ?? []) {
        if (typeof o.offerId !== "string") continue;
        all.push({
          offerId: o.offerId,
          listingId: o.listing?.listingId ?? null,
          status: o.status ?? "UNPUBLISHED",
          marketplaceId: o.marketplaceId ?? null,
        });
      }
      const next = nextOffset(answer.body?.next, "offset");
      if (!next || next === offset) break;
      offset = next;
    }
    const value = { offers: all };
    this.offersCache.set(key, { value, at: Date.now() });
    return value;
  }

  /** The inventory items' ship-to-home quantities (a listing shows at most that). */
  async readQuantities(conn: ConnectionContext, refs: RemoteRef[]): Promise<RemoteQuantity[]> {
    const skus = [...new Set(refs.map((r) => r.remoteRef))];
    const quantities = new Map<string, number | null>();
    if (skus.length > PAGE_READ_THRESHOLD) {
      for (const [sku, quantity] of await this.inventorySnapshot(conn))
        quantities.set(sku, quantity);
    } else {
      await mapLimit(skus, PARALLEL, async (sku) => {
        const answer = await this.client.call<{
          availability?: { shipToLocationAvailability?: { quantity?: number } };
        }>(conn, {
          group: "inventory",
          operation: "getInventoryItem",
          method: "GET",
          path: `${INVENTORY}/inventory_item/${encodeURIComponent(sku)}`,
          auth: "user",
        });
        if (answer.status === 404) quantities.set(sku, null);
        else if (answer.status === 200)
          quantities.set(sku, answer.body?.availability?.shipToLocationAvailability?.quantity ?? 0);
        else
          throw new ChannelPermanentError(
            `eBay getInventoryItem ${sku}: ${describeErrors(answer.body, `HTTP ${answer.status}`)}`,
          );
      });
    }
    const observedAt = new Date();
    return refs.map((ref): RemoteQuantity => {
      const quantity = quantities.get(ref.remoteRef) ?? null;
      return {
        remoteRef: ref.remoteRef,
        remoteLocationRef: ref.remoteLocationRef,
        quantity,
        states: quantity === null ? {} : { ship_to_home: quantity },
        observedAt,
      };
    });
  }

  /**
   * Every item's quantity, one scan shared for a few seconds: reconciliation reads its listings
   * page by page, and each page would otherwise scan the whole catalog again.
   */
  private inventorySnapshot(conn: ConnectionContext): Promise<Map<string, number>> {
    const cached = this.snapshots.get(conn.id);
    if (cached && Date.now() - cached.at < SNAPSHOT_TTL_MS) return cached.value;
    const value = (async () => {
      const out = new Map<string, number>();
      for await (const items of this.inventoryPages(conn))
        for (const item of items) out.set(item.sku, item.quantity ?? 0);
      return out;
    })();
    this.snapshots.set(conn.id, { value, at: Date.now() });
    value.catch(() => this.snapshots.delete(conn.id));
    return value;
  }

  // --- writes ----------------------------------------------------------------------------------

  private blockKey(conn: ConnectionContext, sku: string): string {
    return `${env().QUEUE_PREFIX}:ebay:revision-limit:${conn.id}:${sku}`;
  }

  /** When eBay refused a listing's revisions for today: the end of eBay's day, else null. */
  private async blockedUntil(conn: ConnectionContext, sku: string): Promise<Date | null> {
    const day = await sharedRedis().get(this.blockKey(conn, sku));
    if (!day) return null;
    const today = calendarDay(this.now(), REVISION_DAY_TIME_ZONE);
    return day === today.day ? today.endsAt : null;
  }

  private async block(conn: ConnectionContext, sku: string): Promise<void> {
    const today = calendarDay(this.now(), REVISION_DAY_TIME_ZONE);
    const ttl = Math.max(60_000, today.endsAt.getTime() - this.now().getTime() + 3_600_000);
    await sharedRedis().set(this.blockKey(conn, sku), today.day, "PX", ttl);
  }

  /**
   * One absolute quantity per call (`bulkUpdatePriceQuantity`, one SKU): the item's ship-to-home
   * quantity and every published offer's available quantity. Writes of different SKUs go out
   * eight at a time; once eBay throttles, the rest are not sent.
   */
  async writeQuantities(conn: ConnectionContext, writes: QuantityWrite[]): Promise<WriteResult[]> {
    let throttledUntil = 0;
    return mapLimit(writes, PARALLEL_WRITES, async (w): Promise<WriteResult> => {
      const sku = w.sku ?? w.remoteRef;
      if (throttledUntil > Date.now())
        return {
          listingId: w.listingId,
          state: "throttled",
          retryAfterMs: throttledUntil - Date.now(),
        };
      const blocked = await this.blockedUntil(conn, sku);
      if (blocked)
        return {
          listingId: w.listingId,
          state: "throttled",
          retryAfterMs: Math.max(1_000, blocked.getTime() - this.now().getTime()),
        };
      try {
        return await this.writeOne(conn, w, sku);
      } catch (error) {
        if (error instanceof ChannelThrottledError) {
          throttledUntil = Math.max(throttledUntil, Date.now() + error.retryAfterMs);
          return { listingId: w.listingId, state: "throttled", retryAfterMs: error.retryAfterMs };
        }
        if (error instanceof ChannelRetryableError)
          return {
            listingId: w.listingId,
            state: "rejected",
            retryable: true,
            code: "EBAY_UNAVAILABLE",
            message: error.message,
          };
        throw error;
      }
    });
  }

  private async writeOne(
    conn: ConnectionContext,
    w: QuantityWrite,
    sku: string,
  ): Promise<WriteResult> {
    for (let attempt = 0; ; attempt++) {
      const offers = await this.offers(conn, sku, attempt > 0);
      const published = offers.offers
        .filter((o) => o.status === "PUBLISHED" && o.listingId)
        .slice(0, MAX_OFFERS);
      let answer: EbayAnswer<{ responses?: PriceQuantityResponse[] }>;
      try {
        answer = await this.client.call(conn, {
          group: "inventory",
          operation: "bulkUpdatePriceQuantity",
          method: "POST",
          path: `${INVENTORY}/bulk_update_price_quantity`,
          body: {
            requests: [
              {
                sku,
                shipToLocationAvailability: { quantity: w.quantity },
                ...(published.length > 0
                  ? {
                      offers: published.map((o) => ({
                        offerId: o.offerId,
                        availableQuantity: w.quantity,
                      })),
                    }
                  : {}),
              },
            ],
          },
          auth: "user",
        });
      } catch (error) {
        // One quick second try for a server error before reporting it.
        if (error instanceof ChannelRetryableError && attempt === 0) {
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
        throw error;
      }
      const outcome = this.classify(w, answer);
      if (outcome === "offers_changed" && attempt === 0) continue;
      if (outcome === "offers_changed")
        return {
          listingId: w.listingId,
          state: "rejected",
          retryable: true,
          code: "OFFERS_CHANGED",
          message: `the offers of ${sku} changed on eBay while writing: ${describeErrors(answer.body, "")}`,
        };
      if (outcome.state === "rejected" && outcome.code === "REVISION_LIMIT")
        await this.block(conn, sku);
      return outcome;
    }
  }

  private classify(
    w: QuantityWrite,
    answer: EbayAnswer<{ responses?: PriceQuantityResponse[] }>,
  ): WriteResult | "offers_changed" {
    const rejected = (retryable: boolean, code: string, message: string): WriteResult => ({
      listingId: w.listingId,
      state: "rejected",
      retryable,
      code,
      message,
    });
    const entries = answer.body?.responses;
    if ((answer.status !== 200 && answer.status !== 207) || !Array.isArray(entries)) {
      const errors = errorsOf(answer.body);
      if (errors.some(isRevisionLimitError))
        return rejected(true, "REVISION_LIMIT", describeErrors(answer.body, ""));
      return rejected(
        false,
        `HTTP_${answer.status}`,
        `bulkUpdatePriceQuantity: ${describeErrors(answer.body, `HTTP ${answer.status}`)}`,
      );
    }
    const failed = entries.filter((e) => e.statusCode !== 200);
    if (failed.length === 0)
      return { listingId: w.listingId, state: "applied", quantity: w.quantity };
    const text = failed
      .flatMap((e) =>
        (e.errors ?? []).map((x) => `${x.errorId ?? "?"}: ${x.longMessage ?? x.message ?? ""}`),
      )
      .join("; ");
    if (failed.some((e) => (e.errors ?? []).some(isRevisionLimitError)))
      return rejected(true, "REVISION_LIMIT", text || "eBay's daily revision limit");
    const item = failed.find((e) => e.offerId === undefined);
    if (item?.statusCode === 404)
      return rejected(
        false,
        "SKU_NOT_ON_EBAY",
        `eBay has no inventory item ${w.sku ?? w.remoteRef}: ${text}`,
      );
    if (!item) return "offers_changed";
    return rejected(false, `ENTRY_${item.statusCode ?? "?"}`, text || "refused by eBay");
  }

  // --- orders ----------------------------------------------------------------------------------

  async fetchOrder(conn: ConnectionContext, orderId: string): Promise<ChannelOrder | null> {
    const answer = await this.client.call(conn, {
      group: "fulfillment",
      operation: "getOrder",
      method: "GET",
      path: `${FULFILLMENT}/order/${encodeURIComponent(orderId)}`,
      auth: "user",
    });
    if (answer.status === 404 || answer.status === 400) return null;
    if (answer.status !== 200)
      throw new ChannelPermanentError(
        `eBay getOrder ${orderId}: ${describeErrors(answer.body, `HTTP ${answer.status}`)}`,
      );
    const parsed = ZOrder.safeParse(answer.body);
    if (!parsed.success)
      throw new ChannelPermanentError(
        `eBay order ${orderId} has an unexpected shape: ${parsed.error.issues[0]?.message ?? "?"}`,
      );
    await this.checkManageable(conn, [parsed.data]);
    return {
      orderId: parsed.data.orderId,
      updatedAt: parsed.data.lastModifiedDate,
      operations: orderOperations(conn.id, parsed.data),
    };
  }

  /**
   * Orders modified since the cursor (`getOrders` by `lastmodifieddate`): cancellations (eBay has
   * no topic for them), shipments, and orders whose notification never came. Each order state
   * is one delivery keyed by order and modification time, so reading it again stores nothing.
   */
  async poll(conn: ConnectionContext, cursor: string | null): Promise<PollResult> {
    const state = parsePollCursor(cursor);
    const from = state?.from ?? this.now().getTime() - FIRST_POLL_LOOKBACK_MS;
    const seen = new Map(Object.entries(state?.seen ?? {}));
    const orders: EbayOrder[] = [];
    let offset = 0;
    let complete = false;
    for (let page = 0; page < MAX_POLL_PAGES; page++) {
      const answer = await this.client.call<{ orders?: unknown[]; total?: number }>(conn, {
        group: "fulfillment",
        operation: "getOrders",
        method: "GET",
        path: `${FULFILLMENT}/order`,
        query: {
          filter: `lastmodifieddate:[${new Date(from).toISOString()}..]`,
          limit: "200",
          offset: String(offset),
        },
        auth: "user",
      });
      if (answer.status !== 200)
        throw new ChannelPermanentError(
          `eBay getOrders: ${describeErrors(answer.body, `HTTP ${answer.status}`)}`,
        );
      const page_ = answer.body?.orders ?? [];
      for (const raw of page_) {
        const parsed = ZOrder.safeParse(raw);
        if (parsed.success) orders.push(parsed.data);
        else
          log({ connectionId: conn.id }).warn(
            "eBay getOrders returned an order of unexpected shape",
          );
      }
      offset += page_.length;
      if (page_.length === 0 || offset >= (answer.body?.total ?? 0)) {
        complete = true;
        break;
      }
    }
    let latest = from;
    for (const o of orders) latest = Math.max(latest, Date.parse(o.lastModifiedDate));
    // Not every page read (more than MAX_POLL_PAGES × 200 changes): start from here again.
    const next = complete ? Math.max(from, latest - POLL_OVERLAP_MS) : from;
    // Order states already handed over by an earlier poll (the overlap reads them again).
    const fresh = orders.filter((o) => seen.get(o.orderId) !== Date.parse(o.lastModifiedDate));
    await this.checkManageable(conn, fresh);
    const nextSeen: Record<string, number> = {};
    for (const o of orders) {
      const modified = Date.parse(o.lastModifiedDate);
      if (modified >= next) nextSeen[o.orderId] = Math.max(modified, seen.get(o.orderId) ?? 0);
    }
    const deliveries: PulledDelivery[] = fresh.map((order) => ({
      topic: TOPICS.orderSnapshot,
      eventId: `order:${order.orderId}@${order.lastModifiedDate}`,
      occurredAt: new Date(order.lastModifiedDate),
      payload: { order },
      resourceId: order.orderId,
    }));
    // Cancellations: eBay restocked their listings. Read them now, and again on the next polls
    // for a while: a write of ours that landed just before the restock but was recorded after
    // this read would make the framework discard this observation as older than our write.
    const recheckFrom =
      this.now().getTime() - Math.max(RESTOCK_RECHECK_MS, 2.5 * this.pollIntervalMs);
    deliveries.push(
      ...(await this.restockedLevels(
        conn,
        orders.filter((o) => fresh.includes(o) || Date.parse(o.lastModifiedDate) >= recheckFrom),
      )),
    );
    return {
      deliveries,
      // Saved only once every delivery is stored: a crash re-reads from the previous cursor.
      cursor: JSON.stringify({ from: new Date(next).toISOString(), seen: nextSeen }),
    };
  }

  /**
   * eBay puts a cancelled order's units back on its listings by itself: a number StockGuard did
   * not write, and one the ledger may not want shown (the released units may cover an oversell).
   * The cancelled orders' SKUs are read and reported as level observations (what eBay shows,
   * when), so the push corrects eBay when it shows more than published; an observation of what
   * StockGuard knows already is an echo and changes nothing.
   */
  private async restockedLevels(
    conn: ConnectionContext,
    orders: EbayOrder[],
  ): Promise<PulledDelivery[]> {
    const cancelled = orders.filter((o) => o.cancelStatus?.cancelState === "CANCELED");
    const skus = [
      ...new Set(cancelled.flatMap((o) => o.lineItems.map((l) => l.sku).filter((s) => !!s))),
    ] as string[];
    if (skus.length === 0) return [];
    const reads = await this.readQuantities(
      conn,
      skus.map((sku) => ({ remoteRef: sku, remoteLocationRef: SHIP_TO_HOME })),
    );
    const quantityOf = new Map(reads.map((r) => [r.remoteRef, r]));
    return cancelled.flatMap((order) =>
      [...new Set(order.lineItems.map((l) => l.sku).filter((s): s is string => !!s))].flatMap(
        (sku): PulledDelivery[] => {
          const read = quantityOf.get(sku);
          if (!read) return [];
          return [
            {
              topic: TOPICS.level,
              // Each read is its own observation (the framework drops the outdated ones).
              eventId: `restock:${order.orderId}:${sku}@${read.observedAt.getTime()}`,
              occurredAt: read.observedAt,
              payload: {
                level: { sku, quantity: read.quantity, at: read.observedAt.toISOString() },
              },
              resourceId: sku,
            },
          ];
        },
      ),
    );
  }

  /**
   * A line sold through a listing the Inventory API does not know (made with the Trading API or
   * Seller Hub): its sales count, its quantity cannot be set. Reported once per SKU as a
   * `not_manageable` catalog issue (resolved when the listing becomes an Inventory API offer).
   */
  private async checkManageable(conn: ConnectionContext, orders: EbayOrder[]): Promise<void> {
    const lines = new Map<string, string | null>();
    for (const o of orders)
      for (const l of o.lineItems) if (l.sku) lines.set(l.sku, l.legacyItemId ?? null);
    for (const [sku, listingId] of lines) {
      const key = `${conn.id}|${sku}|${listingId ?? ""}`;
      if (Date.now() - (this.manageable.get(key) ?? 0) < OFFERS_TTL_MS) continue;
      try {
        const knows = (offers: Offers) =>
          listingId
            ? offers.offers.some((o) => o.listingId === listingId)
            : offers.offers.length > 0;
        let known = knows(await this.offers(conn, sku));
        if (!known) known = knows(await this.offers(conn, sku, true));
        this.manageable.set(key, Date.now());
        if (known) {
          await catalog.resolveCatalogIssue({ connectionId: conn.id, kind: "not_manageable", sku });
          continue;
        }
        await catalog.recordCatalogIssue({
          shopId: conn.shopId,
          connectionId: conn.id,
          kind: "not_manageable",
          sku,
          remoteRefs: listingId ? [listingId] : [],
          details:
            `eBay listing ${listingId ?? "(unknown)"} (SKU ${sku}) was not created through the Inventory API ` +
            "(Trading API or Seller Hub): StockGuard counts its sales but cannot set its quantity. " +
            "Move it to the Inventory API (eBay's listing migration) or keep its quantity up to date on eBay yourself.",
        });
        log({ connectionId: conn.id, sku, listingId }).warn(
          "eBay listing not manageable through the Inventory API",
        );
      } catch (error) {
        if (error instanceof ChannelAuthError) throw error;
        log({ connectionId: conn.id, sku }).warn(
          { err: (error as Error).message },
          "could not check whether an eBay listing is manageable",
        );
      }
    }
  }

  // --- notifications ---------------------------------------------------------------------------

  /**
   * The notification set-up a connection needs: the application's alert email (eBay requires it
   * before any destination), a destination at `callbackUrl` (eBay runs the endpoint challenge
   * against StockGuard's web process while creating it), the seller's ORDER_CONFIRMATION
   * subscription, and the application's MARKETPLACE_ACCOUNT_DELETION subscription (one per
   * application: kept where it is while its destination works).
   */
  async ensureSubscriptions(
    conn: ConnectionContext,
    callback: { callbackUrl: string },
  ): Promise<SubscriptionReport> {
    const config = ebayConfig();
    const report: SubscriptionReport = { present: [], created: [], removed: [] };
    const app = (call: Omit<Parameters<EbayClient["call"]>[1], "group" | "auth">) =>
      this.client.call<Record<string, unknown>>(conn, {
        ...call,
        group: "notification",
        auth: "app",
      });

    const current = await app({
      operation: "getConfig",
      method: "GET",
      path: `${NOTIFICATION}/config`,
    });
    if (current.status === 404) {
      if (!config.alertEmail)
        throw new ChannelPermanentError(
          "EBAY_ALERT_EMAIL is required: eBay asks for the application's alert email before its first notification destination",
        );
      const put = await app({
        operation: "updateConfig",
        method: "PUT",
        path: `${NOTIFICATION}/config`,
        body: { alertEmail: config.alertEmail },
      });
      this.expect(put, [200, 204], "updateConfig");
      report.created.push("notification alert email");
    } else this.expect(current, [200], "getConfig");

    type Destination = {
      destinationId: string;
      status?: string;
      deliveryConfig?: { endpoint?: string; verificationToken?: string };
    };
    const destinations = await this.listAll<Destination>(
      conn,
      "app",
      "/destination",
      "destinations",
    );
    const destinationBody = {
      name: `StockGuard ${conn.id}`,
      status: "ENABLED",
      deliveryConfig: {
        endpoint: callback.callbackUrl,
        verificationToken: config.verificationToken,
      },
    };
    let destination = destinations.find((d) => d.deliveryConfig?.endpoint === callback.callbackUrl);
    if (!destination) {
      const created = await app({
        operation: "createDestination",
        method: "POST",
        path: `${NOTIFICATION}/destination`,
        body: destinationBody,
      });
      this.expect(created, [201], "createDestination (eBay checks the endpoint with a challenge)");
      const id = created.headers.get("location")?.split("/").pop();
      if (!id) throw new ChannelRetryableError("eBay createDestination returned no Location");
      destination = { destinationId: id, status: "ENABLED" };
      report.created.push(`destination ${callback.callbackUrl}`);
    } else if (
      destination.status !== "ENABLED" ||
      destination.deliveryConfig?.verificationToken !== config.verificationToken
    ) {
      const updated = await app({
        operation: "updateDestination",
        method: "PUT",
        path: `${NOTIFICATION}/destination/${destination.destinationId}`,
        body: destinationBody,
      });
      this.expect(updated, [200, 204], "updateDestination (eBay checks the endpoint again)");
      report.created.push(`destination ${callback.callbackUrl} (re-enabled)`);
    } else report.present.push(`destination ${callback.callbackUrl}`);

    const working = new Set(
      destinations.filter((d) => d.status === "ENABLED").map((d) => d.destinationId),
    );
    working.add(destination.destinationId);
    await this.ensureSubscription(
      conn,
      "user",
      TOPICS.orderConfirmation,
      destination.destinationId,
      report,
      null,
    );
    await this.ensureSubscription(
      conn,
      "app",
      TOPICS.accountDeletion,
      destination.destinationId,
      report,
      working,
    );
    return report;
  }

  private expect(answer: EbayAnswer, statuses: number[], what: string): void {
    if (statuses.includes(answer.status)) return;
    throw new ChannelPermanentError(
      `eBay ${what}: ${describeErrors(answer.body, `HTTP ${answer.status}`)}`,
    );
  }

  private async listAll<T>(
    conn: ConnectionContext,
    auth: "user" | "app",
    path: string,
    field: string,
  ): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    for (let page = 0; page < 50; page++) {
      const answer = await this.client.call<Record<string, unknown>>(conn, {
        group: "notification",
        operation: `list ${path}`,
        method: "GET",
        path: `${NOTIFICATION}${path}`,
        query: { limit: "100", continuation_token: token },
        auth,
      });
      if (answer.status === 404) break;
      this.expect(answer, [200], `GET ${path}`);
      out.push(...((answer.body?.[field] as T[] | undefined) ?? []));
      const next = nextOffset(answer.body?.next as string | undefined, "continuation_token");
      if (!next || next === token) break;
      token = next;
    }
    return out;
  }

  private async ensureSubscription(
    conn: ConnectionContext,
    auth: "user" | "app",
    topicId: string,
    destinationId: string,
    report: SubscriptionReport,
    /** Application topics: leave an existing subscription on any of these destinations. */
    keepOn: Set<string> | null,
  ): Promise<void> {
    type Subscription = {
      subscriptionId: string;
      topicId: string;
      status?: string;
      destinationId?: string;
    };
    const existing = (
      await this.listAll<Subscription>(conn, auth, "/subscription", "subscriptions")
    ).find((s) => s.topicId === topicId);
    const topic = await this.client.call<{ supportedPayloads?: { schemaVersion?: string }[] }>(
      conn,
      {
        group: "notification",
        operation: "getTopic",
        method: "GET",
        path: `${NOTIFICATION}/topic/${topicId}`,
        auth,
      },
    );
    const schemaVersion = topic.body?.supportedPayloads?.[0]?.schemaVersion ?? "1.0";
    const payload = { format: "JSON", schemaVersion, deliveryProtocol: "HTTPS" };
    const call = (operation: string, method: "POST" | "PUT", path: string, body?: unknown) =>
      this.client.call(conn, {
        group: "notification",
        operation,
        method,
        path: `${NOTIFICATION}${path}`,
        body,
        auth,
      });
    if (!existing) {
      const created = await call("createSubscription", "POST", "/subscription", {
        topicId,
        status: "ENABLED",
        destinationId,
        payload,
      });
      this.expect(created, [201], `createSubscription ${topicId}`);
      report.created.push(topicId);
      return;
    }
    const elsewhereWorks =
      keepOn !== null && existing.destinationId !== undefined && keepOn.has(existing.destinationId);
    if (existing.destinationId !== destinationId && !elsewhereWorks) {
      const moved = await call(
        "updateSubscription",
        "PUT",
        `/subscription/${existing.subscriptionId}`,
        {
          status: "ENABLED",
          destinationId,
          payload,
        },
      );
      this.expect(moved, [200, 204], `updateSubscription ${topicId}`);
      report.created.push(`${topicId} (moved to this connection)`);
    } else if (existing.status !== "ENABLED") {
      const enabled = await call(
        "enableSubscription",
        "POST",
        `/subscription/${existing.subscriptionId}/enable`,
      );
      this.expect(enabled, [200, 204], `enableSubscription ${topicId}`);
      report.created.push(`${topicId} (enabled)`);
    } else report.present.push(topicId);
  }
}

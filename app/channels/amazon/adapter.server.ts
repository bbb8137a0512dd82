/**
 * `AmazonAdapter`, the Amazon implementation of the channel port (registered in
 * registry.server.ts): merchant-fulfilled quantities written with `patchListingsItem` (a `merge`
 * of `fulfillment_availability` for channel `DEFAULT`, never an FBA code) under the seller's
 * shared 5 req/s budget, `ACCEPTED` writes confirmed by read-back or the MFN quantity
 * notification, listings matched by seller SKU, ORDER_CHANGE notifications pulled from SQS, the
 * Orders API polled for what notifications missed, the notification subscriptions created for
 * each seller, and the Login with Amazon website authorisation workflow.
 */
import type {
  AuthorizationFlow,
  AuthorizedAccount,
  CatalogEntry,
  ChannelAdapter,
  ChannelOrder,
  ConnectionContext,
  PendingWrite,
  PollResult,
  PulledDelivery,
  QueueBatch,
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
import { SpApiClient, type SpCall, type SpTarget } from "./client.server";
import {
  amazonConfig,
  DEFAULT_MARKETPLACE_ID,
  sellerCentralOrigin,
  type AmazonConfig,
} from "./config.server";
import { AMAZON_LOCATION, amazonInbound } from "./inbound";
import { MFN_CHANNEL, TOPICS, ZOrderPolled } from "./payloads";
import { AmazonQueues, queueAccess } from "./sqs.server";
import { AmazonTokens, type AmazonCredentials, ZAmazonCredentials } from "./tokens.server";
import { isFulfilledByAmazon, orderOperations, snapshotOfPolled } from "./translate";

/** SKUs per searchListingsItems call (its `identifiers` limit) and per catalog page. */
export const READ_BATCH = 20;
/** Writes sent at once (patchListingsItem's burst). */
const WRITE_CONCURRENCY = 5;
/**
 * How long one push waits in place for the write budget before leaving the rest throttled: a
 * little over a second, so a 429's one-second block is waited out rather than deferred.
 */
const WRITE_WAIT_MS = 1_200;
/** How long a read waits in place for its budget (reads come in pages; failing them restarts). */
const READ_WAIT_MS = 15_000;
/** Orders API v0: LastUpdatedBefore is at least two minutes in the past. */
const ORDERS_API_LAG_MS = 120_000;
/** Offer-only patches are sent with the generic product type (no product data is touched). */
const PRODUCT_TYPE = "PRODUCT";

type ListingItem = {
  sku: string;
  summaries?: { marketplaceId?: string; itemName?: string; productType?: string }[];
  attributes?: {
    fulfillment_availability?: { fulfillment_channel_code?: string; quantity?: number }[];
  };
  fulfillmentAvailability?: { fulfillmentChannelCode?: string; quantity?: number }[];
};

type SubmissionResponse = {
  sku?: string;
  status?: "ACCEPTED" | "INVALID" | "VALID";
  submissionId?: string;
  issues?: { code?: string; message?: string; severity?: string }[];
};

type OrdersPayload = {
  payload?: {
    Orders?: Record<string, unknown>[];
    NextToken?: string;
    LastUpdatedBefore?: string;
  };
};

type Destination = {
  destinationId: string;
  resource?: { sqs?: { arn?: string }; eventBridge?: { accountId?: string; region?: string } };
};

export type AmazonAdapterOptions = {
  fetch?: typeof globalThis.fetch;
  config?: () => AmazonConfig;
  /** Prefix of the shared rate-limit buckets (default `amazon`). */
  scopePrefix?: string;
  tokens?: AmazonTokens;
  queues?: AmazonQueues;
  now?: () => number;
};

const enc = encodeURIComponent;
const str = (value: unknown): string | undefined =>
  typeof value === "string" && value.trim() ? value.trim() : undefined;

/** The marketplace a connection sells on (`--setting marketplaceId=…`, default Amazon.com). */
export function marketplaceOf(conn: { settings: Record<string, unknown> }): string {
  return str(conn.settings.marketplaceId) ?? DEFAULT_MARKETPLACE_ID;
}

function mfnEntry(item: ListingItem): { quantity: number | null } | null {
  const live = item.fulfillmentAvailability?.find((f) => f.fulfillmentChannelCode === MFN_CHANNEL);
  if (!live) return null;
  return { quantity: typeof live.quantity === "number" ? live.quantity : null };
}

function submittedQuantity(item: ListingItem): number | null {
  const entry = item.attributes?.fulfillment_availability?.find(
    (f) => f.fulfillment_channel_code === MFN_CHANNEL,
  );
  return typeof entry?.quantity === "number" ? entry.quantity : null;
}

export class AmazonAdapter implements ChannelAdapter {
  readonly kind = "amazon" as const;
  readonly capabilities = {
    compareAndSet: false,
    relativeWrites: false,
    // patchListingsItem takes one SKU per call (writeQuantities sends a batch one by one).
    maxItemsPerWrite: 1,
    maxItemsPerRead: READ_BATCH,
    confirmation: "accepted",
    orderSignal: "with_lines",
    cancellationEvents: true,
    dailyRevisionsPerListing: null,
    revisionDayTimeZone: "UTC",
    inbound: "queue",
  } as const;
  readonly inbound = amazonInbound;
  /** getOrders runs at 0.0167 req/s: one poll a minute. */
  readonly pollIntervalMs = 60_000;
  readonly tokens: AmazonTokens;
  readonly client: SpApiClient;
  readonly queues: AmazonQueues;
  readonly authorization: AuthorizationFlow;

  constructor(private readonly options: AmazonAdapterOptions = {}) {
    this.tokens =
      options.tokens ?? new AmazonTokens({ fetch: options.fetch, config: options.config });
    this.client = new SpApiClient({
      tokens: this.tokens,
      fetch: options.fetch,
      scopePrefix: options.scopePrefix,
    });
    this.queues = options.queues ?? new AmazonQueues();
    this.authorization = {
      kind: "redirect",
      consentUrl: (input) => this.consentUrl(input),
      complete: (input) => this.completeAuthorization(input),
    };
  }

  private config(): AmazonConfig {
    return (this.options.config ?? amazonConfig)();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private target(conn: ConnectionContext): SpTarget {
    return {
      connectionId: conn.id,
      sellerId: conn.accountRef,
      apiBaseUrl: conn.apiBaseUrl,
      marketplaceId: marketplaceOf(conn),
    };
  }

  // --- authorisation ------------------------------------------------------------------------

  /** The website authorisation workflow's consent page on Seller Central. */
  consentUrl(input: { state: string; redirectUri: string; apiBaseUrl: string | null }): string {
    const config = this.config();
    const url = new URL(
      "/apps/authorize/consent",
      input.apiBaseUrl ??
        config.AMAZON_SELLER_CENTRAL_URL ??
        sellerCentralOrigin(DEFAULT_MARKETPLACE_ID),
    );
    url.searchParams.set("application_id", config.AMAZON_APPLICATION_ID);
    url.searchParams.set("state", input.state);
    url.searchParams.set("redirect_uri", input.redirectUri);
    if (config.AMAZON_APPLICATION_DRAFT) url.searchParams.set("version", "beta");
    return url.toString();
  }

  /** The callback: `spapi_oauth_code` → the seller's refresh token, checked before it is kept. */
  async completeAuthorization(input: {
    params: URLSearchParams;
    redirectUri: string;
    apiBaseUrl: string | null;
  }): Promise<AuthorizedAccount> {
    const code = input.params.get("spapi_oauth_code");
    const sellerId = input.params.get("selling_partner_id");
    if (!code) throw new ChannelAuthError("Amazon did not send an authorisation code");
    if (!sellerId || !/^[A-Za-z0-9]{1,40}$/.test(sellerId))
      throw new ChannelAuthError("Amazon did not name the selling partner");
    const answer = await this.tokens.exchange(
      { grant_type: "authorization_code", code, redirect_uri: input.redirectUri },
      input.apiBaseUrl,
    );
    if (!answer.refresh_token)
      throw new ChannelAuthError("Login with Amazon answered without a refresh token");
    const credentials: AmazonCredentials = { refreshToken: answer.refresh_token };
    const { name } = await this.describeAccount(
      { accountRef: sellerId, apiBaseUrl: input.apiBaseUrl },
      credentials,
    );
    return { accountRef: sellerId, name, credentials };
  }

  /**
   * Checks a refresh token: LWA must exchange it, and SP-API must accept the access token for a
   * seller call (the ORDER_CHANGE subscription, present or not, needs no marketplace).
   */
  async describeAccount(
    account: { accountRef: string; apiBaseUrl: string | null },
    credentials: Record<string, unknown>,
  ): Promise<{ name: string; scopes: string[] }> {
    const parsed = ZAmazonCredentials.safeParse(credentials);
    if (!parsed.success) throw new ChannelAuthError("an Amazon refresh token is required");
    const accessToken = await this.tokens.tokenFor(parsed.data, account.apiBaseUrl);
    await this.client.call(
      {
        connectionId: null,
        sellerId: account.accountRef,
        apiBaseUrl: account.apiBaseUrl,
        marketplaceId: DEFAULT_MARKETPLACE_ID,
        accessToken,
      },
      {
        operation: "getSubscription",
        method: "GET",
        path: `/notifications/v1/subscriptions/${TOPICS.orderChange}`,
        query: { payloadVersion: "1.0" },
      },
      5_000,
    );
    return { name: `Amazon seller ${account.accountRef}`, scopes: ["sellingpartnerapi"] };
  }

  forgetCredentials(connectionId: string): void {
    this.tokens.forgetSeller(connectionId);
  }

  // --- quantities out -----------------------------------------------------------------------

  /**
   * One `patchListingsItem` per SKU (a `merge` of the DEFAULT channel's quantity: lead times and
   * FBA entries are left alone), up to five at once, within the seller's 5 req/s shared budget.
   * ACCEPTED → pending with the submission id; INVALID → rejected with Amazon's issues; 429, or
   * the budget still spent after waiting about a second → throttled (nothing written); a 5xx → throttled
   * for a second (nothing known to be written; the value is absolute, so resending is safe).
   */
  async writeQuantities(
    conn: ConnectionContext,
    writes: QuantityWrite[],
    _version?: string,
  ): Promise<WriteResult[]> {
    const byListing = new Map<string, QuantityWrite>();
    for (const w of writes) byListing.set(w.listingId, w);
    const list = [...byListing.values()];
    const results: WriteResult[] = new Array<WriteResult>(list.length);
    const deadline = this.now() + WRITE_WAIT_MS;
    let throttledUntil: number | null = null;
    let next = 0;
    const worker = async () => {
      for (;;) {
        const index = next++;
        const w = list[index];
        if (!w) return;
        if (throttledUntil !== null) {
          results[index] = {
            listingId: w.listingId,
            state: "throttled",
            retryAfterMs: Math.max(50, throttledUntil - this.now()),
          };
          continue;
        }
        try {
          results[index] = await this.patch(conn, w, Math.max(0, deadline - this.now()));
        } catch (error) {
          if (error instanceof ChannelThrottledError) {
            throttledUntil = this.now() + error.retryAfterMs;
            results[index] = {
              listingId: w.listingId,
              state: "throttled",
              retryAfterMs: Math.max(50, error.retryAfterMs),
            };
          } else if (error instanceof ChannelRetryableError) {
            results[index] = { listingId: w.listingId, state: "throttled", retryAfterMs: 1_000 };
          } else if (error instanceof ChannelPermanentError) {
            results[index] = {
              listingId: w.listingId,
              state: "rejected",
              retryable: false,
              message: error.message,
            };
          } else throw error;
        }
      }
    };
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(WRITE_CONCURRENCY, list.length) }, worker),
    );
    const failure = settled.find((s) => s.status === "rejected");
    if (failure) throw (failure as PromiseRejectedResult).reason;
    return results;
  }

  private async patch(
    conn: ConnectionContext,
    w: QuantityWrite,
    waitMs: number,
  ): Promise<WriteResult> {
    if (w.remoteLocationRef !== AMAZON_LOCATION)
      return {
        listingId: w.listingId,
        state: "rejected",
        retryable: false,
        code: "NOT_MFN",
        message: `only the merchant-fulfilled quantity (${AMAZON_LOCATION}) is written, not ${w.remoteLocationRef}`,
      };
    const op = conn.settings.patchOperation === "replace" ? "replace" : "merge";
    const answer = await this.client.call<SubmissionResponse>(
      this.target(conn),
      {
        operation: "patchListingsItem",
        method: "PATCH",
        path: `/listings/2021-08-01/items/${enc(conn.accountRef)}/${enc(w.remoteRef)}`,
        query: { marketplaceIds: marketplaceOf(conn), includedData: "issues" },
        body: {
          productType: PRODUCT_TYPE,
          patches: [
            {
              op,
              path: "/attributes/fulfillment_availability",
              value: [{ fulfillment_channel_code: MFN_CHANNEL, quantity: w.quantity }],
            },
          ],
        },
      },
      waitMs,
    );
    const body = answer.body;
    if (answer.status === 404)
      return {
        listingId: w.listingId,
        state: "rejected",
        retryable: false,
        code: "NOT_FOUND",
        message: `SKU ${w.remoteRef} is not listed on Amazon`,
      };
    if (body.status === "ACCEPTED" && body.submissionId)
      return {
        listingId: w.listingId,
        state: "pending",
        trackingId: body.submissionId,
        quantity: w.quantity,
      };
    const errors = (body.issues ?? []).filter(
      (i) => i.severity !== "WARNING" && i.severity !== "INFO",
    );
    return {
      listingId: w.listingId,
      state: "rejected",
      retryable: false,
      code: errors[0]?.code ?? body.status ?? "INVALID",
      message:
        errors.map((i) => `${i.code ?? "?"}: ${i.message ?? ""}`).join("; ") ||
        `patchListingsItem answered ${body.status ?? "nothing"}`,
    };
  }

  // --- quantities in ------------------------------------------------------------------------

  /** Listings by seller SKU: `searchListingsItems` with up to 20 SKUs per call. */
  private async readItems(
    conn: ConnectionContext,
    skus: string[],
    includedData: string[],
  ): Promise<Map<string, ListingItem>> {
    const waitMs = Math.max(conn.throttleWaitMs ?? 0, READ_WAIT_MS);
    const target = this.target(conn);
    const marketplaceIds = marketplaceOf(conn);
    const out = new Map<string, ListingItem>();
    const unique = [...new Set(skus)];
    // identifiers is a comma-separated list: SKUs holding a comma are read one by one.
    const listable = unique.filter((s) => !s.includes(","));
    for (const sku of unique.filter((s) => s.includes(","))) {
      const answer = await this.client.call<ListingItem>(
        target,
        {
          operation: "getListingsItem",
          method: "GET",
          path: `/listings/2021-08-01/items/${enc(conn.accountRef)}/${enc(sku)}`,
          query: { marketplaceIds, includedData },
        },
        waitMs,
      );
      if (answer.status === 200) out.set(sku, answer.body);
    }
    for (let i = 0; i < listable.length; i += READ_BATCH) {
      const chunk = listable.slice(i, i + READ_BATCH);
      const answer = await this.client.call<{ items?: ListingItem[] }>(
        target,
        {
          operation: "searchListingsItems",
          method: "GET",
          path: `/listings/2021-08-01/items/${enc(conn.accountRef)}`,
          query: {
            marketplaceIds,
            identifiers: chunk,
            identifiersType: "SKU",
            includedData,
            pageSize: READ_BATCH,
          },
        },
        waitMs,
      );
      for (const item of answer.body.items ?? [])
        if (chunk.includes(item.sku)) out.set(item.sku, item);
    }
    return out;
  }

  /** The live MFN quantity (`fulfillmentAvailability`, which Amazon lowers as orders arrive). */
  async readQuantities(conn: ConnectionContext, refs: RemoteRef[]): Promise<RemoteQuantity[]> {
    const mine = refs.filter((r) => r.remoteLocationRef === AMAZON_LOCATION);
    const items = await this.readItems(
      conn,
      mine.map((r) => r.remoteRef),
      ["fulfillmentAvailability"],
    );
    const observedAt = new Date(this.now());
    return mine.map((ref): RemoteQuantity => {
      const item = items.get(ref.remoteRef);
      const mfn = item ? mfnEntry(item) : null;
      const quantity = mfn?.quantity ?? null;
      return {
        remoteRef: ref.remoteRef,
        remoteLocationRef: ref.remoteLocationRef,
        quantity,
        states: quantity === null ? ({} as Record<string, number>) : { available: quantity },
        observedAt,
      };
    });
  }

  /**
   * Read-back of accepted writes: applied once the listing's submitted DEFAULT quantity (the
   * attribute Amazon sets when the patch is processed) or its live quantity equals what we sent;
   * the live quantity is what the channel shows. A listing gone from Amazon is refused.
   */
  async confirmWrites(conn: ConnectionContext, pending: PendingWrite[]): Promise<WriteResult[]> {
    const items = await this.readItems(
      conn,
      pending.map((p) => p.remoteRef),
      ["attributes", "fulfillmentAvailability"],
    );
    return pending.map((p): WriteResult => {
      const item = items.get(p.remoteRef);
      if (!item)
        return {
          listingId: p.listingId,
          state: "rejected",
          retryable: false,
          code: "NOT_FOUND",
          message: `SKU ${p.remoteRef} is no longer listed on Amazon`,
        };
      const live = mfnEntry(item)?.quantity ?? null;
      if (submittedQuantity(item) === p.quantity || live === p.quantity)
        return { listingId: p.listingId, state: "applied", quantity: live ?? p.quantity };
      return {
        listingId: p.listingId,
        state: "pending",
        trackingId: p.trackingId,
        quantity: p.quantity,
      };
    });
  }

  // --- catalog ------------------------------------------------------------------------------

  /** One pseudo-location: the merchant-fulfilled channel of the connection's marketplace. */
  listLocations(conn: ConnectionContext): Promise<RemoteLocation[]> {
    return Promise.resolve([
      {
        id: AMAZON_LOCATION,
        name: `Merchant-fulfilled on ${marketplaceOf(conn)}`,
        isActive: true,
        fulfillsOnlineOrders: true,
      },
    ]);
  }

  /**
   * Every listing of the seller on the marketplace (searchListingsItems by SKU order, 20 a page).
   * FBA-only listings are Amazon's stock: reported, never synced.
   */
  async *listCatalog(conn: ConnectionContext): AsyncGenerator<CatalogEntry[]> {
    const waitMs = Math.max(conn.throttleWaitMs ?? 0, READ_WAIT_MS);
    let pageToken: string | undefined;
    do {
      const answer: { body: { items?: ListingItem[]; pagination?: { nextToken?: string } } } =
        await this.client.call<{ items?: ListingItem[]; pagination?: { nextToken?: string } }>(
          this.target(conn),
          {
            operation: "searchListingsItems",
            method: "GET",
            path: `/listings/2021-08-01/items/${enc(conn.accountRef)}`,
            query: {
              marketplaceIds: marketplaceOf(conn),
              includedData: ["summaries", "fulfillmentAvailability"],
              pageSize: READ_BATCH,
              sortBy: "sku",
              sortOrder: "ASC",
              pageToken,
            },
          },
          waitMs,
        );
      yield (answer.body.items ?? []).map((item): CatalogEntry => {
        const fbaOnly = mfnEntry(item) === null && (item.fulfillmentAvailability ?? []).length > 0;
        return {
          remoteRef: item.sku,
          remoteVariantRef: null,
          sku: item.sku,
          title: item.summaries?.[0]?.itemName ?? item.sku,
          tracked: true,
          sellsWhenOutOfStock: false,
          ...(fbaOnly
            ? {
                notSynced:
                  "fulfilled by Amazon only (FBA stock is Amazon's and is never overwritten)",
              }
            : {}),
        };
      });
      pageToken = answer.body.pagination?.nextToken;
    } while (pageToken);
  }

  // --- orders -------------------------------------------------------------------------------

  private async orderItems(
    conn: ConnectionContext,
    orderId: string,
    waitMs: number,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let nextToken: string | undefined;
    do {
      const answer = await this.client.call<{
        payload?: { OrderItems?: Record<string, unknown>[]; NextToken?: string };
      }>(
        this.target(conn),
        {
          operation: "getOrderItems",
          method: "GET",
          path: `/orders/v0/orders/${enc(orderId)}/orderItems`,
          query: { NextToken: nextToken },
        },
        waitMs,
      );
      if (answer.status === 404) return [];
      items.push(...(answer.body.payload?.OrderItems ?? []));
      nextToken = answer.body.payload?.NextToken;
    } while (nextToken);
    return items;
  }

  /** An order and its items as a stored ORDER_POLLED payload (validated, stripped). */
  private polled(
    conn: ConnectionContext,
    order: Record<string, unknown>,
    items: Record<string, unknown>[],
  ): PulledDelivery | null {
    const parsed = ZOrderPolled.safeParse({ sellerId: conn.accountRef, order, items });
    if (!parsed.success) return null;
    const o = parsed.data.order;
    return {
      topic: TOPICS.orderPolled,
      eventId: `poll:${o.AmazonOrderId}:${o.LastUpdateDate}`,
      occurredAt: new Date(o.LastUpdateDate),
      payload: parsed.data,
      resourceId: o.AmazonOrderId,
    };
  }

  /** Reads an order back (an ORDER_CHANGE naming no item). */
  async fetchOrder(conn: ConnectionContext, orderId: string): Promise<ChannelOrder | null> {
    const answer = await this.client.call<{ payload?: Record<string, unknown> }>(
      this.target(conn),
      { operation: "getOrder", method: "GET", path: `/orders/v0/orders/${enc(orderId)}` },
      5_000,
    );
    if (answer.status === 404 || !answer.body.payload) return null;
    const items = await this.orderItems(conn, orderId, 5_000);
    const delivery = this.polled(conn, answer.body.payload, items);
    if (!delivery) return null;
    const polled = ZOrderPolled.parse(delivery.payload);
    const snapshot = snapshotOfPolled(polled);
    return {
      orderId,
      updatedAt: polled.order.LastUpdateDate,
      operations: isFulfilledByAmazon(snapshot) ? [] : orderOperations(conn.id, snapshot),
    };
  }

  /**
   * Orders changed since the cursor (getOrders by LastUpdatedAfter, merchant-fulfilled only), each
   * read with its items: what notifications may have missed. The first poll only sets the cursor
   * (orders from before the connection are not StockGuard's); the next cursor is the
   * `LastUpdatedBefore` Amazon answered, or the last order read when the item reads ran out of
   * budget.
   */
  async poll(conn: ConnectionContext, cursor: string | null): Promise<PollResult> {
    const lagSetting = Number(conn.settings.ordersApiLagMs);
    const lag = Number.isFinite(lagSetting) && lagSetting > 0 ? lagSetting : ORDERS_API_LAG_MS;
    if (!cursor || Number.isNaN(Date.parse(cursor)))
      return { deliveries: [], cursor: new Date(this.now() - lag).toISOString() };
    const deliveries: PulledDelivery[] = [];
    let before: string | null = null;
    let lastDone: string | null = null;
    let nextToken: string | undefined;
    let first = true;
    try {
      do {
        const answer: { body: OrdersPayload } = await this.client.call<OrdersPayload>(
          this.target(conn),
          {
            operation: "getOrders",
            method: "GET",
            path: "/orders/v0/orders",
            query: nextToken
              ? { MarketplaceIds: marketplaceOf(conn), NextToken: nextToken }
              : {
                  MarketplaceIds: marketplaceOf(conn),
                  LastUpdatedAfter: cursor,
                  FulfillmentChannels: "MFN",
                  MaxResultsPerPage: 100,
                },
          },
        );
        first = false;
        before = answer.body.payload?.LastUpdatedBefore ?? before;
        for (const order of answer.body.payload?.Orders ?? []) {
          const orderId = str(order.AmazonOrderId);
          if (!orderId) continue;
          const items = await this.orderItems(conn, orderId, 0);
          const delivery = this.polled(conn, order, items);
          if (delivery) deliveries.push(delivery);
          lastDone = str(order.LastUpdateDate) ?? lastDone;
        }
        nextToken = answer.body.payload?.NextToken;
      } while (nextToken);
    } catch (error) {
      // Out of budget half-way: keep what was read, resume from the last order read.
      if (!(error instanceof ChannelThrottledError) || first) throw error;
      return { deliveries, cursor: lastDone ?? cursor };
    }
    return { deliveries, cursor: before ?? cursor };
  }

  // --- notifications ------------------------------------------------------------------------

  /** One short long-poll of the app's notification queue(s). */
  async receiveQueue(settings: Record<string, unknown>): Promise<QueueBatch> {
    return this.queues.receive(queueAccess(this.config(), settings));
  }

  /**
   * The seller's notifications reach the app's queue: an SQS destination for the queue (grantless,
   * shared by every seller) and the seller's ORDER_CHANGE subscription; with
   * AMAZON_EVENTBRIDGE_ACCOUNT_ID, an EventBridge destination and the seller's
   * LISTINGS_ITEM_MFN_QUANTITY_CHANGE subscription too. Amazon pushes nothing over HTTP, so
   * `callbackUrl` is not used.
   */
  async ensureSubscriptions(
    conn: ConnectionContext,
    _callback: { callbackUrl: string },
  ): Promise<SubscriptionReport> {
    const config = this.config();
    const access = queueAccess(config, conn.settings);
    const report: SubscriptionReport = { present: [], created: [], removed: [] };
    const arn = await this.queues.queueArn(access, access.queueUrls[0]!);
    const sqsDestination = await this.destination(
      conn,
      (d) => d.resource?.sqs?.arn === arn,
      { name: "stockguard-orders", resourceSpecification: { sqs: { arn } } },
      report,
    );
    await this.subscription(conn, TOPICS.orderChange, sqsDestination, report);
    const account = config.AMAZON_EVENTBRIDGE_ACCOUNT_ID;
    if (account) {
      const region = config.AMAZON_EVENTBRIDGE_REGION ?? access.region;
      const bus = await this.destination(
        conn,
        (d) =>
          d.resource?.eventBridge?.accountId === account &&
          d.resource.eventBridge.region === region,
        {
          name: "stockguard-listings",
          resourceSpecification: { eventBridge: { accountId: account, region } },
        },
        report,
      );
      await this.subscription(conn, TOPICS.mfnQuantity, bus, report);
    }
    return report;
  }

  private async destination(
    conn: ConnectionContext,
    matches: (d: Destination) => boolean,
    create: Record<string, unknown>,
    report: SubscriptionReport,
  ): Promise<string> {
    const target = this.target(conn);
    const list = async () =>
      (
        await this.client.call<{ payload?: Destination[] }>(
          target,
          {
            operation: "getDestinations",
            method: "GET",
            path: "/notifications/v1/destinations",
            grantless: true,
          },
          10_000,
        )
      ).body.payload ?? [];
    const existing = (await list()).find(matches);
    const what = `destination ${String(create.name)}`;
    if (existing) {
      report.present.push(what);
      return existing.destinationId;
    }
    const created = await this.client.call<{ payload?: Destination }>(
      target,
      {
        operation: "createDestination",
        method: "POST",
        path: "/notifications/v1/destinations",
        body: create,
        grantless: true,
        accept: [409],
      },
      10_000,
    );
    if (created.status === 409) {
      // Created meanwhile by another connection.
      const again = (await list()).find(matches);
      if (!again) throw new ChannelRetryableError(`Amazon answered 409 for ${what} but lists none`);
      report.present.push(what);
      return again.destinationId;
    }
    const id = created.body.payload?.destinationId;
    if (!id) throw new ChannelPermanentError(`Amazon created ${what} without an id`);
    report.created.push(what);
    return id;
  }

  private async subscription(
    conn: ConnectionContext,
    type: string,
    destinationId: string,
    report: SubscriptionReport,
  ): Promise<void> {
    const target = this.target(conn);
    const path = `/notifications/v1/subscriptions/${type}`;
    const existing = await this.client.call<{ payload?: { destinationId?: string } }>(
      target,
      { operation: "getSubscription", method: "GET", path, query: { payloadVersion: "1.0" } },
      10_000,
    );
    if (existing.status === 200 && existing.body.payload) {
      report.present.push(type);
      return;
    }
    const created = await this.client.call(
      target,
      {
        operation: "createSubscription",
        method: "POST",
        path,
        body: { payloadVersion: "1.0", destinationId },
        accept: [409],
      } satisfies SpCall,
      10_000,
    );
    if (created.status === 409) report.present.push(type);
    else report.created.push(type);
  }
}

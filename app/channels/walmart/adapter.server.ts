/**
 * `WalmartAdapter`, the Walmart Marketplace (US) implementation of the channel port (registered
 * in registry.server.ts): the seller's own keys (client credentials), quantities written one SKU
 * at a time within Walmart's token buckets, orders from webhooks (PO_CREATED / ORDER_UPDATES)
 * and from polling `GET /v3/orders` by last-modified time, catalog from `GET /v3/items`.
 *
 * ## What StockGuard's number means on Walmart
 *
 * StockGuard publishes, per listing, **what buyers can buy**. Walmart keeps per SKU and ship node
 * an `inputQty` (what the seller last set), a `reservedQty` (units of Walmart orders not yet
 * shipped) and shows buyers `availToSellQty = inputQty − reservedQty`, summed over the seller's
 * ship nodes. A placed order reserves units; shipping takes them out of both input and reserved;
 * a cancellation releases the reservation. The ledger already counts Walmart's open orders as
 * committed, so writing the published number P as `inputQty` would subtract them twice. The
 * adapter therefore reads the SKU's nodes first (`GET /v3/inventories/{sku}`) and writes, at the
 * ship node it manages (the `shipNode` setting, else the first node Walmart lists),
 *
 *     inputQty = max(0, P − availToSell at the seller's other nodes) + reservedQty
 *
 * so that buyers see exactly P (or more, only if other nodes alone hold more). Walmart's own
 * order life cycle then leaves that input unchanged: a sale lowers P and raises reserved by the
 * same units, a shipment lowers both, a cancellation raises P and lowers reserved. Walmart's own
 * sales therefore cost no write back, and a write whose input equals Walmart's is not sent. P does
 * not always follow, though: a rule may cap it ("show at most 1": a Walmart sale leaves P at 1
 * while Walmart drops to 0), an oversold SKU stays at 0 while a cancellation releases units
 * Walmart offers again. So every order the poll finds new, or with more units cancelled, asks
 * for a check of those SKUs (`LISTING_CHECK`): the push reads them and writes where Walmart is
 * off.
 *
 * After a PUT of a SKU with reserved units the SKU is read again (confirmation against what
 * Walmart actually shows): what buyers can buy then is the applied quantity, which becomes the
 * listing's `remote`. If a shipment or cancellation took reserved units away between the read and
 * the write, Walmart shows more than intended and the input is computed again from that read
 * (twice at most). Without reservations nothing can raise it in between, and no read-back is
 * spent (reads share a bucket of their own with the poll's checks).
 * Reads report the same number (the sum of `availToSellQty`), with `inputQty`, `reservedQty` and
 * the other nodes' units as states. An offer Walmart lists as UNPUBLISHED shows 0 (buyers cannot
 * buy it) with the state `unpublished: 1`: reads and writes report 0 for the SKUs
 * `GET /v3/items?publishedStatus=UNPUBLISHED` lists (cached a minute, refreshed by every catalog
 * read). OFFER_UNPUBLISHED is a catalog change (catalog and quantities are read again, so the
 * listing shows it); INVENTORY_OOS is recorded and ignored. Neither is a level observation:
 * StockGuard takes a level drop for a sale and holds the units on every channel (provisional
 * holds), while unpublishing sells nothing, and OOS follows Walmart's own orders (which arrive as
 * orders) or StockGuard's own write of 0 (an echo that may be processed before that write is
 * recorded).
 *
 * ## Limits
 *
 * `PUT /v3/inventory` takes one SKU, absolute, applied when it answers (no compare-and-set): the
 * push's per-connection lock makes writes single-flight per listing, its coalescing makes a flash
 * sale one write per window. Calls take a token from Redis buckets per seller and operation
 * (inventory writes and reads 200/min by default, WALMART_INVENTORY_*_PER_MINUTE); a 429 blocks
 * the operation for every worker for `Retry-After`, and `x-current-token-count: 0` blocks it
 * until `x-next-replenish-time`. The bulk inventory feed is not used (see
 * docs/decisions/0005-walmart-channel.md).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type {
  AuthorizationFlow,
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
  ChannelReadsThrottledError,
  ChannelRetryableError,
  ChannelThrottledError,
} from "../errors";
import {
  WalmartClient,
  WalmartRequestError,
  type CallContext,
  type WalmartKeys,
} from "./client.server";
import { walmartConfig } from "./config.server";
import {
  newWebhookSecret,
  storedCredentials,
  type CredentialsProvider,
} from "./credentials.server";
import { SIGNATURE_HEADER, walmartInbound } from "./inbound";
import { CHECK_TOPIC, SNAPSHOT_TOPIC, ZOrder, type WalmartOrder } from "./payloads";
import { WALMART_LOCATION, lineTotals, orderUpdatedAt, snapshotOperations } from "./translate";

const ZAmount = z.object({ amount: z.coerce.number().int() }).optional();
const ZNodeView = z.object({
  sku: z.string(),
  nodes: z
    .array(
      z.object({
        shipNode: z.string(),
        inputQty: ZAmount,
        availToSellQty: ZAmount,
        reservedQty: ZAmount,
      }),
    )
    .default([]),
});
type NodeView = z.infer<typeof ZNodeView>;

const ZItemsPage = z.object({
  ItemResponse: z
    .array(
      z.object({
        sku: z.string().nullish(),
        productName: z.string().nullish(),
        publishedStatus: z.string().nullish(),
        lifecycleStatus: z.string().nullish(),
      }),
    )
    .default([]),
  nextCursor: z.string().nullish(),
});

const ZInventoriesPage = z.object({
  meta: z.object({ nextCursor: z.string().nullish() }).optional(),
  elements: z.object({ inventories: z.array(ZNodeView).default([]) }).optional(),
});

const ZOrdersPage = z.object({
  list: z.object({
    meta: z.object({ nextCursor: z.string().nullish() }).optional(),
    elements: z.object({ order: z.array(z.unknown()).default([]) }).optional(),
  }),
});

const ZSubscriptions = z.object({
  events: z
    .array(
      z.object({
        subscriptionId: z.string(),
        eventType: z.string(),
        eventUrl: z.string().nullish(),
        status: z.string().nullish(),
        partnerId: z.string().nullish(),
        authDetails: z
          .object({
            authMethod: z.string().nullish(),
            authHeaderName: z.string().nullish(),
            clientSecret: z.string().nullish(),
          })
          .nullish(),
      }),
    )
    .default([]),
});

const ZEventTypes = z.object({
  events: z
    .array(z.object({ eventType: z.string(), eventVersion: z.string(), resourceName: z.string() }))
    .default([]),
});

/** Events StockGuard subscribes to (ORDER_UPDATES when Walmart offers it, else the older two). */
const ORDER_EVENTS = ["ORDER_UPDATES"];
const LEGACY_ORDER_EVENTS = ["PO_CREATED", "PO_LINE_AUTOCANCELLED"];
const LISTING_EVENTS = ["INVENTORY_OOS", "OFFER_UNPUBLISHED"];
const KNOWN_EVENTS: Record<string, { eventVersion: string; resourceName: string }> = {
  ORDER_UPDATES: { eventVersion: "V1", resourceName: "ORDER" },
  PO_CREATED: { eventVersion: "V1", resourceName: "ORDER" },
  PO_LINE_AUTOCANCELLED: { eventVersion: "V1", resourceName: "ORDER" },
  INVENTORY_OOS: { eventVersion: "V1", resourceName: "INVENTORY" },
  OFFER_UNPUBLISHED: { eventVersion: "V1", resourceName: "ITEM" },
};

/** Polls look back this far past the previous poll (Walmart's clock is not ours). */
const POLL_OVERLAP_MS = 60_000;
/** The first poll adopts orders modified this recently (Walmart auto-cancels older open lines). */
const ADOPT_LOOKBACK_MS = 14 * 86_400_000;
const ORDER_PAGES_PER_POLL = 50;
/** Below this many SKUs a read asks per SKU; above, it pages through every inventory. */
const PER_SKU_READS = 25;
const BULK_READ_TTL_MS = 15_000;
/** A paged read throttled part-way resumes from its cursor if retried within this long. */
const BULK_RESUME_MS = 60_000;
const UNPUBLISHED_TTL_MS = 60_000;
const WRITE_CONCURRENCY = 8;

type PollCursor = { since: string; seen?: Record<string, string> };

/** One SKU's inventory as read, and when (ms). */
type TimedView = { view: NodeView; at: number };

/** A paged read throttled part-way: Walmart's answer and the views read before it. */
class BulkReadThrottled extends Error {
  constructor(
    override readonly cause: ChannelThrottledError,
    readonly views: ReadonlyMap<string, TimedView>,
  ) {
    super(cause.message);
  }
}

export type WalmartAdapterOptions = {
  client?: WalmartClient;
  credentials?: CredentialsProvider;
  /** Inventories per page of a bulk read (Walmart allows 1–50; default 50). */
  inventoryPageSize?: number;
};

export class WalmartAdapter implements ChannelAdapter {
  readonly kind = "walmart" as const;
  readonly capabilities = {
    compareAndSet: false,
    relativeWrites: false,
    maxItemsPerWrite: 1,
    maxItemsPerRead: 50,
    confirmation: "immediate",
    orderSignal: "with_lines",
    cancellationEvents: true,
    dailyRevisionsPerListing: null,
    revisionDayTimeZone: "UTC",
    inbound: "webhook",
  } as const;

  readonly client: WalmartClient;
  private readonly credentials: CredentialsProvider;
  private readonly bulkReads = new Map<string, { at: number; views: Map<string, TimedView> }>();
  /**
   * Per connection: a paged read of every inventory that Walmart throttled part-way — the pages
   * read so far and the cursor of the next, so the next read goes on from there instead of
   * spending its budget on the same first pages again.
   */
  private readonly bulkProgress = new Map<
    string,
    { startedAt: number; cursor: string; views: Map<string, TimedView> }
  >();
  private readonly unpublished = new Map<string, { until: number; skus: Set<string> }>();
  /** Per seller: until when Walmart's write bucket is known to be empty (a 429, a blocked bucket). */
  private readonly writesBlockedUntil = new Map<string, number>();

  readonly inbound = walmartInbound(async (conn, fresh) => [
    (await this.credentials.get(conn.id, fresh)).webhookSecret,
  ]);

  readonly authorization: AuthorizationFlow = {
    kind: "keys",
    fields: [
      { name: "clientId", label: "Client ID", secret: false },
      { name: "clientSecret", label: "Client secret", secret: true },
    ],
    complete: async ({ keys, apiBaseUrl }) => {
      const credentials = {
        clientId: (keys.clientId ?? "").trim(),
        clientSecret: (keys.clientSecret ?? "").trim(),
      };
      const account = await this.describeAccount(
        { accountRef: credentials.clientId, apiBaseUrl },
        credentials,
      );
      return {
        // The keys are the account StockGuard acts for: Walmart's token call names no seller.
        accountRef: credentials.clientId,
        name: account.name,
        credentials: { ...credentials, webhookSecret: newWebhookSecret() },
      };
    },
  };

  private readonly inventoryPageSize: number;

  constructor(options: WalmartAdapterOptions = {}) {
    this.client = options.client ?? new WalmartClient();
    this.credentials = options.credentials ?? storedCredentials();
    this.inventoryPageSize = Math.min(50, Math.max(1, options.inventoryPageSize ?? 50));
  }

  get pollIntervalMs(): number {
    return walmartConfig().WALMART_POLL_INTERVAL_MS;
  }

  private baseUrl(apiBaseUrl: string | null): string {
    return (apiBaseUrl ?? walmartConfig().WALMART_API_BASE_URL).replace(/\/+$/, "");
  }

  private async ctx(conn: ConnectionContext): Promise<CallContext> {
    const creds = await this.credentials.get(conn.id);
    return {
      baseUrl: this.baseUrl(conn.apiBaseUrl),
      keys: { clientId: creds.clientId, clientSecret: creds.clientSecret },
      scope: `walmart:${conn.accountRef}`,
      throttleWaitMs: conn.throttleWaitMs,
    };
  }

  async describeAccount(
    account: { accountRef: string; apiBaseUrl: string | null },
    credentials: Record<string, unknown>,
  ): Promise<{ name: string; scopes: string[] }> {
    const keys: WalmartKeys = {
      clientId: typeof credentials.clientId === "string" ? credentials.clientId : "",
      clientSecret: typeof credentials.clientSecret === "string" ? credentials.clientSecret : "",
    };
    if (!keys.clientId || !keys.clientSecret)
      throw new ChannelAuthError("a Walmart client id and client secret are required");
    const ctx: CallContext = {
      baseUrl: this.baseUrl(account.apiBaseUrl),
      keys,
      scope: `walmart:${keys.clientId}`,
      throttleWaitMs: 10_000,
    };
    await this.client.accessToken(ctx.baseUrl, keys, true);
    // The subscriptions name the seller (partner id) when there are any; the keys must reach
    // the Notifications API anyway (StockGuard subscribes right after).
    const { body } = await this.client.request(
      ctx,
      "webhooks",
      "GET",
      "/v3/webhooks/subscriptions",
    );
    const partnerId = ZSubscriptions.safeParse(body).data?.events.find(
      (e) => e.partnerId,
    )?.partnerId;
    return {
      name: partnerId ? `Walmart seller ${partnerId}` : `Walmart (${keys.clientId.slice(0, 8)}…)`,
      scopes: [],
    };
  }

  forgetCredentials(connectionId: string): void {
    this.credentials.forget(connectionId);
    this.bulkReads.delete(connectionId);
    this.bulkProgress.delete(connectionId);
    this.unpublished.delete(connectionId);
  }

  // --- catalog --------------------------------------------------------------------------------

  async listLocations(conn: ConnectionContext): Promise<RemoteLocation[]> {
    const node = typeof conn.settings.shipNode === "string" ? conn.settings.shipNode : null;
    return [
      {
        id: WALMART_LOCATION,
        name: node ? `Walmart ship node ${node}` : "Walmart (default ship node)",
        isActive: true,
        fulfillsOnlineOrders: true,
      },
    ];
  }

  async *listCatalog(conn: ConnectionContext): AsyncGenerator<CatalogEntry[]> {
    const ctx = await this.ctx(conn);
    const unpublished = new Set<string>();
    let cursor: string | null = "*";
    while (cursor) {
      const { body } = await this.client.request(ctx, "items.list", "GET", "/v3/items", {
        query: { limit: "200", nextCursor: cursor },
      });
      const page = ZItemsPage.parse(body);
      const entries: CatalogEntry[] = [];
      for (const item of page.ItemResponse) {
        // Retired and archived items cannot sell again without the seller: not listings.
        if (item.lifecycleStatus && item.lifecycleStatus !== "ACTIVE") continue;
        if (item.sku && item.publishedStatus === "UNPUBLISHED") unpublished.add(item.sku);
        entries.push({
          remoteRef: item.sku ?? `item:${item.productName ?? "?"}`,
          remoteVariantRef: null,
          sku: item.sku ?? null,
          title: item.productName ?? item.sku ?? "Walmart item",
          tracked: true,
          sellsWhenOutOfStock: false,
        });
      }
      yield entries;
      cursor = page.nextCursor && page.nextCursor !== cursor ? page.nextCursor : null;
    }
    this.unpublished.set(conn.id, { until: Date.now() + UNPUBLISHED_TTL_MS, skus: unpublished });
  }

  /** SKUs Walmart shows UNPUBLISHED (buyers cannot buy them), cached a minute per connection. */
  private async unpublishedSkus(conn: ConnectionContext, ctx: CallContext): Promise<Set<string>> {
    const hit = this.unpublished.get(conn.id);
    if (hit && hit.until > Date.now()) return hit.skus;
    const skus = new Set<string>();
    try {
      let cursor: string | null = "*";
      for (let page = 0; cursor && page < 50; page++) {
        const { body } = await this.client.request(
          { ...ctx, throttleWaitMs: 0 },
          "items.list",
          "GET",
          "/v3/items",
          { query: { limit: "200", nextCursor: cursor, publishedStatus: "UNPUBLISHED" } },
        );
        const parsed = ZItemsPage.parse(body);
        for (const item of parsed.ItemResponse)
          if (item.sku && item.publishedStatus === "UNPUBLISHED") skus.add(item.sku);
        cursor = parsed.nextCursor && parsed.nextCursor !== cursor ? parsed.nextCursor : null;
      }
    } catch (error) {
      if (error instanceof ChannelAuthError) throw error;
      // Not knowing is not a reason to hold quantities back: keep what we knew, look again soon.
      return hit?.skus ?? skus;
    }
    this.unpublished.set(conn.id, { until: Date.now() + UNPUBLISHED_TTL_MS, skus });
    return skus;
  }

  // --- quantities -----------------------------------------------------------------------------

  private async nodeView(ctx: CallContext, sku: string): Promise<NodeView | null> {
    try {
      const { body } = await this.client.request(
        ctx,
        "inventories.get",
        "GET",
        `/v3/inventories/${encodeURIComponent(sku)}`,
      );
      return ZNodeView.parse(body);
    } catch (error) {
      if (error instanceof WalmartRequestError && error.status === 404) return null;
      throw error;
    }
  }

  /**
   * Every inventory of the seller, page by page (each view with the time it was read). Throttled
   * part-way, it keeps the pages read and the next cursor (`bulkProgress`) and throws
   * `BulkReadThrottled` with them; the next call within BULK_RESUME_MS goes on from there.
   */
  private async allViews(
    conn: ConnectionContext,
    ctx: CallContext,
  ): Promise<Map<string, TimedView>> {
    const hit = this.bulkReads.get(conn.id);
    if (hit && Date.now() - hit.at < BULK_READ_TTL_MS) return hit.views;
    const resumed = this.bulkProgress.get(conn.id);
    this.bulkProgress.delete(conn.id);
    const fresh = resumed && Date.now() - resumed.startedAt < BULK_RESUME_MS ? resumed : null;
    const startedAt = fresh?.startedAt ?? Date.now();
    const views = fresh?.views ?? new Map<string, TimedView>();
    let cursor: string | null = fresh?.cursor ?? null;
    do {
      let body: unknown;
      try {
        ({ body } = await this.client.request(ctx, "inventories.list", "GET", "/v3/inventories", {
          query: {
            limit: String(this.inventoryPageSize),
            ...(cursor ? { nextCursor: cursor } : {}),
          },
        }));
      } catch (error) {
        if (!(error instanceof ChannelThrottledError) || cursor === null) throw error;
        this.bulkProgress.set(conn.id, { startedAt, cursor, views });
        throw new BulkReadThrottled(error, views);
      }
      const page = ZInventoriesPage.parse(body);
      const at = Date.now();
      for (const view of page.elements?.inventories ?? []) views.set(view.sku, { view, at });
      const next = page.meta?.nextCursor ?? null;
      cursor = next && next !== cursor ? next : null;
    } while (cursor);
    this.bulkReads.set(conn.id, { at: startedAt, views });
    return views;
  }

  async readQuantities(conn: ConnectionContext, refs: RemoteRef[]): Promise<RemoteQuantity[]> {
    const ctx = await this.ctx(conn);
    const skus = [...new Set(refs.map((r) => r.remoteRef))];
    const unpublished = await this.unpublishedSkus(conn, ctx);
    const views = new Map<string, { view: NodeView | null; at: number }>();
    const quantities = () =>
      [...views].map(([sku, { view, at }]): RemoteQuantity => {
        const shown = view ? shownOf(view, conn) : null;
        return {
          remoteRef: sku,
          remoteLocationRef: WALMART_LOCATION,
          quantity: shown === null ? null : unpublished.has(sku) ? 0 : shown.total,
          states: shown
            ? {
                availToSell: shown.total,
                inputQty: shown.node?.input ?? 0,
                reservedQty: shown.node?.reserved ?? 0,
                otherNodes: shown.other,
                unpublished: unpublished.has(sku) ? 1 : 0,
              }
            : {},
          observedAt: new Date(at),
        };
      });
    if (skus.length > PER_SKU_READS) {
      let all: Map<string, TimedView>;
      try {
        all = await this.allViews(conn, ctx);
      } catch (error) {
        if (!(error instanceof BulkReadThrottled)) throw error;
        // Only SKUs on the pages read so far are known; the rest may be on the next ones.
        for (const sku of skus) {
          const read = error.views.get(sku);
          if (read) views.set(sku, read);
        }
        if (views.size === 0) throw error.cause;
        throw new ChannelReadsThrottledError(
          error.cause.message,
          error.cause.retryAfterMs,
          quantities(),
          error.cause.details,
        );
      }
      const at = Date.now();
      for (const sku of skus) views.set(sku, all.get(sku) ?? { view: null, at });
      return quantities();
    }
    for (const sku of skus) {
      try {
        views.set(sku, { view: await this.nodeView(ctx, sku), at: Date.now() });
      } catch (error) {
        // The read bucket ran dry part-way: what was read is kept (see ChannelReadsThrottledError).
        if (!(error instanceof ChannelThrottledError) || views.size === 0) throw error;
        throw new ChannelReadsThrottledError(
          error.message,
          error.retryAfterMs,
          quantities(),
          error.details,
        );
      }
    }
    return quantities();
  }

  /**
   * Absolute quantities, one SKU per call (see the file comment for the mapping). At most
   * WRITE_CONCURRENCY SKUs in flight; once a bucket is empty the remaining SKUs are reported
   * throttled without calling.
   */
  async writeQuantities(conn: ConnectionContext, writes: QuantityWrite[]): Promise<WriteResult[]> {
    const ctx: CallContext = { ...(await this.ctx(conn)), throttleWaitMs: 0 };
    const unpublished = await this.unpublishedSkus(conn, ctx);
    const results: WriteResult[] = new Array<WriteResult>(writes.length);
    // Walmart's write bucket is the seller's: once it refuses one write, every write waits (in
    // this process without even reading first; other processes learn it from the Redis bucket).
    let throttledUntil = this.writesBlockedUntil.get(ctx.scope) ?? 0;
    let next = 0;
    const worker = async () => {
      for (;;) {
        const index = next++;
        const w = writes[index];
        if (!w) return;
        if (throttledUntil > Date.now()) {
          results[index] = {
            listingId: w.listingId,
            state: "throttled",
            retryAfterMs: throttledUntil - Date.now(),
          };
          continue;
        }
        try {
          results[index] = await this.writeOne(conn, ctx, w, unpublished.has(w.remoteRef));
        } catch (error) {
          if (error instanceof ChannelThrottledError) {
            throttledUntil = Math.max(throttledUntil, Date.now() + error.retryAfterMs);
            if (error instanceof WritesThrottled)
              this.writesBlockedUntil.set(ctx.scope, throttledUntil);
            results[index] = {
              listingId: w.listingId,
              state: "throttled",
              retryAfterMs: error.retryAfterMs,
            };
          } else if (error instanceof ChannelRetryableError) {
            results[index] = {
              listingId: w.listingId,
              state: "rejected",
              retryable: true,
              code: "WALMART_UNAVAILABLE",
              message: error.message,
            };
          } else throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, writes.length) }, worker));
    this.bulkReads.delete(conn.id);
    // Pages read before these writes no longer show the SKUs written.
    const progress = this.bulkProgress.get(conn.id);
    if (progress) for (const w of writes) progress.views.delete(w.remoteRef);
    return results;
  }

  private async writeOne(
    conn: ConnectionContext,
    ctx: CallContext,
    w: QuantityWrite,
    unpublished: boolean,
  ): Promise<WriteResult> {
    const sku = w.remoteRef;
    const before = await this.nodeView(ctx, sku);
    if (!before)
      return rejected(w, "CONTENT_NOT_FOUND", `SKU ${sku} is not in this Walmart catalog`);
    let state = shownOf(before, conn);
    if (!state.node) {
      return rejected(
        w,
        "INVALID_SHIP_NODE",
        `ship node ${String(conn.settings.shipNode)} does not stock SKU ${sku} on Walmart`,
      );
    }
    for (let round = 0; ; round++) {
      const node = state.node!;
      const target = Math.max(0, w.quantity - state.other) + node.reserved;
      if (target === node.input) {
        return {
          listingId: w.listingId,
          state: "applied",
          quantity: unpublished ? 0 : state.total,
        };
      }
      try {
        await this.client.request(ctx, "inventory.update", "PUT", "/v3/inventory", {
          query: { sku, shipNode: node.shipNode },
          body: { sku, quantity: { unit: "EACH", amount: target } },
        });
      } catch (error) {
        if (error instanceof WalmartRequestError)
          return rejected(w, error.code, error.message, error.status >= 500);
        if (error instanceof ChannelThrottledError)
          throw new WritesThrottled(error.message, error.retryAfterMs, error.details);
        throw error;
      }
      const intended = Math.max(0, w.quantity - state.other) + state.other;
      // Without reservations nothing can raise what Walmart shows between the read and the
      // write (a new order only lowers it, and its own event follows): no read-back needed.
      if (node.reserved === 0) {
        return { listingId: w.listingId, state: "applied", quantity: unpublished ? 0 : intended };
      }
      let after: NodeView | null = null;
      try {
        after = await this.nodeView(ctx, sku);
      } catch (error) {
        if (error instanceof ChannelAuthError) throw error;
        // Written; the read-back is only a check. Report what the write makes buyers see.
      }
      const next = after ? shownOf(after, conn) : null;
      // Walmart released units between our read and our write (a shipment or a cancellation
      // took reserved units away): it shows more than intended. Compute again from this read.
      if (!next?.node || next.total <= intended || round >= 2) {
        const quantity = next ? next.total : intended;
        return { listingId: w.listingId, state: "applied", quantity: unpublished ? 0 : quantity };
      }
      state = next;
    }
  }

  // --- orders -------------------------------------------------------------------------------

  async fetchOrder(conn: ConnectionContext, orderId: string): Promise<ChannelOrder | null> {
    const ctx = await this.ctx(conn);
    let body: unknown;
    try {
      body = (
        await this.client.request(
          ctx,
          "orders.get",
          "GET",
          `/v3/orders/${encodeURIComponent(orderId)}`,
        )
      ).body;
    } catch (error) {
      if (error instanceof WalmartRequestError && error.status === 404) return null;
      throw error;
    }
    const parsed = ZOrder.safeParse((body as { order?: unknown } | null)?.order);
    if (!parsed.success) return null;
    return {
      orderId: parsed.data.purchaseOrderId,
      updatedAt: orderUpdatedAt(parsed.data),
      operations: snapshotOperations(conn.id, { order: parsed.data }),
    };
  }

  /**
   * Orders Walmart changed since the last poll (with an overlap), each as a snapshot keyed by its
   * content: a seller's or buyer's cancellation and every shipment (which Walmart does not push),
   * and any event that never arrived; for each new order, or one with more units cancelled, a
   * check of its SKUs (what Walmart offers moved with its reservations). The first poll adopts
   * the orders still open.
   */
  async poll(conn: ConnectionContext, cursor: string | null): Promise<PollResult> {
    const ctx = await this.ctx(conn);
    const started = Date.now();
    // No cursor: the connection's first poll. An unreadable one reads the last day again
    // (snapshots are idempotent) without adopting anything.
    const first = cursor === null;
    const previous = parseCursor(cursor) ?? {
      since: new Date(
        started - (first ? ADOPT_LOOKBACK_MS : 86_400_000) + POLL_OVERLAP_MS,
      ).toISOString(),
    };
    const from = Date.parse(previous.since) - POLL_OVERLAP_MS;
    const deliveries: PulledDelivery[] = [];
    const checks: PulledDelivery[] = [];
    const seen: Record<string, string> = {};
    let query: Record<string, string> | null = {
      lastModifiedStartDate: new Date(from).toISOString(),
      limit: "200",
    };
    for (let page = 0; query && page < ORDER_PAGES_PER_POLL; page++) {
      let body: unknown;
      try {
        body = (await this.client.request(ctx, "orders.list", "GET", "/v3/orders", { query })).body;
      } catch (error) {
        // The older API answers 404 when nothing matches.
        if (error instanceof WalmartRequestError && error.status === 404) break;
        throw error;
      }
      const parsed = ZOrdersPage.safeParse(body);
      if (!parsed.success) throw new ChannelRetryableError("Walmart orders list was not readable");
      for (const raw of parsed.data.list.elements?.order ?? []) {
        const order = ZOrder.safeParse(raw);
        if (!order.success) continue;
        const hash = contentHash(order.data);
        const po = order.data.purchaseOrderId;
        const cancelled = cancelledUnits(order.data);
        const mark = `${hash}:${cancelled}`;
        const before = previous.seen?.[po];
        if (before === mark) {
          seen[po] = mark;
          continue;
        }
        // The first poll reads two weeks back: only the orders still open matter (and are kept
        // in the cursor, so the next poll does not read them as changed).
        if (first && !hasOpenUnits(order.data)) continue;
        seen[po] = mark;
        deliveries.push({
          topic: SNAPSHOT_TOPIC,
          eventId: `${po}:${hash}`,
          occurredAt: new Date(orderUpdatedAt(order.data)),
          payload: first ? { order: order.data, adopted: true } : { order: order.data },
          resourceId: po,
        });
        if (first) continue;
        // An order that reserved units (new to this poll) or released some (more cancelled than
        // last time) moved what Walmart offers by them; the ledger moves what StockGuard
        // publishes by as much only when it can (not past a "show at most" cap, not above 0 for
        // an oversold SKU). Have the push read those SKUs. Acknowledgements and shipments move
        // nothing buyers see.
        const known = before === undefined ? null : Number(before.split(":")[1] ?? Number.NaN);
        if (known !== null && !(cancelled > known)) continue;
        for (const line of order.data.orderLines.orderLine) {
          if (known !== null && lineTotals(line).cancelled === 0) continue;
          checks.push({
            topic: CHECK_TOPIC,
            eventId: `${po}:${hash}:check:${line.lineNumber}`,
            occurredAt: new Date(started),
            payload: { sku: line.item.sku, at: started },
            resourceId: line.item.sku,
          });
        }
      }
      const next = parsed.data.list.meta?.nextCursor;
      query = next ? Object.fromEntries(new URLSearchParams(next.replace(/^\?/, ""))) : null;
    }
    const nextCursor: PollCursor = { since: new Date(started).toISOString(), seen };
    return { deliveries: [...deliveries, ...checks], cursor: JSON.stringify(nextCursor) };
  }

  // --- subscriptions ------------------------------------------------------------------------

  /**
   * Subscribes the connection's webhook URL to the order and listing events, authenticated by an
   * HMAC under the connection's own secret; subscriptions to that URL with another secret (a
   * reconnection) or inactive are updated, and ones to events no longer used are removed.
   */
  async ensureSubscriptions(
    conn: ConnectionContext,
    callback: { callbackUrl: string },
  ): Promise<SubscriptionReport> {
    const ctx = await this.ctx(conn);
    const { webhookSecret } = await this.credentials.get(conn.id, true);
    const offered = new Map<string, { eventVersion: string; resourceName: string }>();
    try {
      const { body } = await this.client.request(ctx, "webhooks", "GET", "/v3/webhooks/eventTypes");
      for (const e of ZEventTypes.parse(body).events) offered.set(e.eventType, e);
    } catch (error) {
      if (!(error instanceof WalmartRequestError)) throw error;
      for (const [type, e] of Object.entries(KNOWN_EVENTS)) offered.set(type, e);
    }
    const orderEvents = ORDER_EVENTS.every((e) => offered.has(e))
      ? ORDER_EVENTS
      : LEGACY_ORDER_EVENTS;
    const wanted = [...orderEvents, ...LISTING_EVENTS].filter((e) => offered.has(e));
    const authDetails = {
      authMethod: "HMAC",
      authHeaderName: SIGNATURE_HEADER,
      clientSecret: webhookSecret,
    };
    const { body } = await this.client.request(
      ctx,
      "webhooks",
      "GET",
      "/v3/webhooks/subscriptions",
    );
    const mine = ZSubscriptions.parse(body).events.filter(
      (e) => e.eventUrl === callback.callbackUrl,
    );
    const report: SubscriptionReport = { present: [], created: [], removed: [] };
    const missing: string[] = [];
    for (const type of wanted) {
      const existing = mine.filter((e) => e.eventType === type);
      if (existing.length === 0) {
        missing.push(type);
        continue;
      }
      for (const sub of existing) {
        const current =
          sub.status === "ACTIVE" &&
          sub.authDetails?.authMethod === "HMAC" &&
          sub.authDetails.authHeaderName === SIGNATURE_HEADER &&
          sub.authDetails.clientSecret === webhookSecret;
        if (!current) {
          await this.client.request(
            ctx,
            "webhooks",
            "PATCH",
            `/v3/webhooks/subscriptions/${encodeURIComponent(sub.subscriptionId)}`,
            { body: { status: "ACTIVE", authDetails } },
          );
        }
      }
      report.present.push(type);
    }
    if (missing.length > 0) {
      await this.client.request(ctx, "webhooks", "POST", "/v3/webhooks/subscriptions", {
        body: {
          events: missing.map((eventType) => ({
            eventType,
            eventVersion: offered.get(eventType)!.eventVersion,
            resourceName: offered.get(eventType)!.resourceName,
            eventUrl: callback.callbackUrl,
            status: "ACTIVE",
            authDetails,
          })),
        },
      });
      report.created.push(...missing);
    }
    for (const sub of mine.filter((e) => !wanted.includes(e.eventType))) {
      await this.client.request(
        ctx,
        "webhooks",
        "DELETE",
        `/v3/webhooks/subscriptions/${encodeURIComponent(sub.subscriptionId)}`,
      );
      report.removed.push(sub.eventType);
    }
    return report;
  }
}

/** Walmart's (or our shared) inventory write bucket is empty. */
class WritesThrottled extends ChannelThrottledError {}

/** What buyers can buy of a SKU, and the managed node's input and reservations. */
function shownOf(view: NodeView, conn: ConnectionContext) {
  const wantedNode = typeof conn.settings.shipNode === "string" ? conn.settings.shipNode : null;
  const nodes = view.nodes.map((n) => {
    const input = Math.max(0, n.inputQty?.amount ?? 0);
    const reserved = Math.max(0, n.reservedQty?.amount ?? 0);
    const avail = Math.max(0, n.availToSellQty?.amount ?? input - reserved);
    return { shipNode: n.shipNode, input, reserved, avail };
  });
  const node = wantedNode ? nodes.find((n) => n.shipNode === wantedNode) : nodes[0];
  const total = nodes.reduce((s, n) => s + n.avail, 0);
  return { node: node ?? null, total, other: total - (node?.avail ?? 0) };
}

function rejected(w: QuantityWrite, code: string, message: string, retryable = false): WriteResult {
  return { listingId: w.listingId, state: "rejected", retryable, code, message };
}

function cancelledUnits(order: WalmartOrder): number {
  return order.orderLines.orderLine.reduce((s, l) => s + lineTotals(l).cancelled, 0);
}

function hasOpenUnits(order: WalmartOrder): boolean {
  return order.orderLines.orderLine.some((l) => lineTotals(l).open > 0);
}

function contentHash(order: WalmartOrder): string {
  return createHash("sha256").update(JSON.stringify(order)).digest("hex").slice(0, 20);
}

function parseCursor(cursor: string | null): PollCursor | null {
  if (!cursor) return null;
  try {
    const value = JSON.parse(cursor) as PollCursor;
    if (typeof value.since === "string" && !Number.isNaN(Date.parse(value.since))) return value;
  } catch {
    // An unreadable cursor starts over (snapshots are idempotent).
  }
  return null;
}

/**
 * `ShopifyAdapter`, the Shopify implementation of the channel port (registered in
 * registry.server.ts): account check, locations, catalog, quantity reads and writes, and the
 * source-store state moves, sent through our own Admin GraphQL client under the shop's budget.
 */
import { createHash } from "node:crypto";
import type {
  CatalogEntry,
  ChannelAdapter,
  ConnectionContext,
  QuantityWrite,
  RemoteLocation,
  RemoteQuantity,
  RemoteRef,
  SourceStorePort,
  StateAdjustment,
  StateChangeOutcome,
  StateMove,
  SubscriptionReport,
  WriteResult,
} from "../channel-adapter";
import { ChannelAuthError, ChannelPermanentError, ChannelThrottledError } from "../errors";
import type { ShopifyBudget } from "./budget.server";
import { ShopifyAdminClient, type ShopifyCost } from "./client.server";
import { shopifyInbound } from "./inbound";
import {
  adjustQuantitiesMutation,
  CATALOG,
  CATALOG_PAGE_SIZE,
  LEVELS_AT_LOCATION,
  LEVELS_BATCH_SIZE,
  LOCATIONS,
  moveQuantitiesMutation,
  setQuantitiesMutation,
  SHOP_INFO,
  type CatalogData,
  type LevelsAtData,
  type LocationsData,
  type MutationPayload,
  type ShopInfoData,
  VARIANTS_DENY,
  type VariantsDenyData,
  WEBHOOK_SUBSCRIPTION_CREATE,
  WEBHOOK_SUBSCRIPTION_DELETE,
  WEBHOOK_SUBSCRIPTIONS,
  type WebhookSubscriptionCreateData,
  type WebhookSubscriptionsData,
  type WebhookSubscriptionDeleteData,
} from "./operations";
import { STORE_SUBSCRIPTIONS } from "./subscriptions";

/** Shopify caps every input array at 250 entries (platform/shopify.md §2.10). */
export const MAX_BATCH = 250;

export type TokenProvider = (conn: ConnectionContext) => Promise<string>;

export type ShopifyAdapterOptions = {
  tokens: TokenProvider;
  budget?: ShopifyBudget;
  /** SHOPIFY_ADMIN_API_ORIGIN (sandbox). */
  origin?: string;
  fetch?: typeof globalThis.fetch;
  /** Drops a cached token after Shopify refused it. */
  forgetToken?: (connectionId: string) => void;
  /** Whether a connection was made with its own token (then it needs its own subscriptions). */
  hasOwnCredentials?: (conn: ConnectionContext) => Promise<boolean>;
};

/** Stable UUID-shaped key from the logical content of a write (same content ⇒ same key). */
export function idempotencyKey(...parts: (string | number)[]): string {
  const hex = createHash("sha256").update(parts.join("\u0000")).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const levelKey = (item: string, location: string, name: string) => `${item}|${location}|${name}`;

export function estimateLevelsCost(ids: number): number {
  return 1 + ids * 3;
}

/**
 * Shopify as a channel: reads levels, writes `available` with compare-and-set (other stores),
 * and moves units between quantity states (the source store), all with mandatory idempotency
 * keys, in batches of at most 250, under the shop's shared cost budget.
 */
export class ShopifyAdapter implements ChannelAdapter {
  readonly kind = "shopify" as const;
  readonly capabilities = {
    compareAndSet: true,
    relativeWrites: true,
    maxItemsPerWrite: MAX_BATCH,
    maxItemsPerRead: LEVELS_BATCH_SIZE,
    confirmation: "immediate",
    orderSignal: "with_lines",
    cancellationEvents: true,
    dailyRevisionsPerListing: null,
    revisionDayTimeZone: "UTC",
    inbound: "webhook",
  } as const;
  readonly inbound = shopifyInbound;
  readonly source: SourceStorePort = {
    move: (conn, moves, keyParts) => this.move(conn, moves, keyParts),
    adjust: (conn, name, changes, key, reason) => this.adjust(conn, name, changes, key, reason),
    levelKey,
  };

  constructor(private readonly options: ShopifyAdapterOptions) {}

  async describeAccount(
    account: { accountRef: string; apiBaseUrl: string | null },
    credentials: Record<string, unknown>,
  ): Promise<{ name: string; scopes: string[] }> {
    const accessToken = typeof credentials.accessToken === "string" ? credentials.accessToken : "";
    if (!accessToken) throw new ChannelAuthError("an Admin API access token is required");
    const client = new ShopifyAdminClient({
      shop: account.accountRef,
      accessToken,
      origin: account.apiBaseUrl ?? this.options.origin,
      fetch: this.options.fetch,
    });
    const { data } = await client.request<ShopInfoData>(SHOP_INFO);
    return {
      name: data.shop.name,
      scopes: data.currentAppInstallation?.accessScopes.map((s) => s.handle) ?? [],
    };
  }

  /**
   * A store connected with a token has none of the app's toml subscriptions: create every one it
   * lacks, pointing at the app's routes (`callbackUrl`'s origin). Stores that installed the app
   * (no credentials of their own) get them from `shopify.app.toml` and are left alone.
   */
  async ensureSubscriptions(
    conn: ConnectionContext,
    callback: { callbackUrl: string },
  ): Promise<SubscriptionReport> {
    const report: SubscriptionReport = { present: [], created: [], removed: [] };
    if (conn.role === "source" || !(await this.options.hasOwnCredentials?.(conn))) return report;
    const origin = new URL(callback.callbackUrl).origin;
    const existing = await this.subscriptions(conn);
    for (const wanted of STORE_SUBSCRIPTIONS) {
      const uri = `${origin}${wanted.path}`;
      if (existing.some((e) => e.topic === wanted.topic && e.uri === uri)) {
        report.present.push(wanted.topic);
        continue;
      }
      const { data } = await this.request<WebhookSubscriptionCreateData>(
        conn,
        10,
        WEBHOOK_SUBSCRIPTION_CREATE,
        { topic: wanted.topic, webhookSubscription: { uri, format: "JSON" } },
      );
      const result = data.webhookSubscriptionCreate;
      if (result.userErrors.length > 0 || !result.webhookSubscription) {
        throw new ChannelPermanentError(
          `webhookSubscriptionCreate ${wanted.topic} failed: ${result.userErrors.map((e) => e.message).join("; ")}`,
        );
      }
      report.created.push(wanted.topic);
    }
    return report;
  }

  /** Deletes the subscriptions of a token-connected store that point at this app. */
  async removeSubscriptions(
    conn: ConnectionContext,
    callback: { callbackUrl: string },
  ): Promise<number> {
    if (conn.role === "source" || !(await this.options.hasOwnCredentials?.(conn))) return 0;
    const origin = new URL(callback.callbackUrl).origin;
    const ours = (await this.subscriptions(conn)).filter((e) => e.uri.startsWith(`${origin}/`));
    for (const subscription of ours) {
      const { data } = await this.request<WebhookSubscriptionDeleteData>(
        conn,
        10,
        WEBHOOK_SUBSCRIPTION_DELETE,
        { id: subscription.id },
      );
      const errors = data.webhookSubscriptionDelete.userErrors;
      if (errors.length > 0)
        throw new ChannelPermanentError(
          `webhookSubscriptionDelete ${subscription.topic} failed: ${errors.map((e) => e.message).join("; ")}`,
        );
    }
    return ours.length;
  }

  private async subscriptions(
    conn: ConnectionContext,
  ): Promise<{ id: string; topic: string; uri: string }[]> {
    const existing: { id: string; topic: string; uri: string }[] = [];
    let after: string | null = null;
    do {
      const { data }: { data: WebhookSubscriptionsData } =
        await this.request<WebhookSubscriptionsData>(conn, 20, WEBHOOK_SUBSCRIPTIONS, {
          first: 100,
          after,
        });
      existing.push(...data.webhookSubscriptions.nodes);
      after = data.webhookSubscriptions.pageInfo.hasNextPage
        ? data.webhookSubscriptions.pageInfo.endCursor
        : null;
    } while (after);
    return existing;
  }

  forgetCredentials(connectionId: string): void {
    this.options.forgetToken?.(connectionId);
  }

  async client(conn: ConnectionContext): Promise<ShopifyAdminClient> {
    const accessToken = await this.options.tokens(conn);
    const budget = this.options.budget;
    return new ShopifyAdminClient({
      shop: conn.accountRef,
      accessToken,
      origin: conn.apiBaseUrl ?? this.options.origin,
      fetch: this.options.fetch,
      onCost: budget ? (cost: ShopifyCost) => budget.observe(conn.accountRef, cost) : undefined,
    });
  }

  private async request<T>(
    conn: ConnectionContext,
    estimate: number,
    query: string,
    variables: Record<string, unknown>,
  ) {
    const deadline = Date.now() + (conn.throttleWaitMs ?? 0);
    for (;;) {
      try {
        await this.options.budget?.reserve(conn.accountRef, estimate);
        return await (await this.client(conn)).request<T>(query, variables);
      } catch (error) {
        // Throttled means not executed (budget refused, or Shopify answered THROTTLED / 429),
        // so sending the same request again is safe.
        if (!(error instanceof ChannelThrottledError)) throw error;
        const wait = Math.max(50, error.retryAfterMs);
        if (Date.now() + wait > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  async listLocations(conn: ConnectionContext): Promise<RemoteLocation[]> {
    const all: LocationsData["locations"]["nodes"] = [];
    let after: string | null = null;
    do {
      const { data }: { data: LocationsData } = await this.request<LocationsData>(
        conn,
        60,
        LOCATIONS,
        { first: 50, after },
      );
      all.push(...data.locations.nodes);
      after = data.locations.pageInfo.hasNextPage ? data.locations.pageInfo.endCursor : null;
    } while (after);
    return all;
  }

  async *listCatalog(conn: ConnectionContext): AsyncGenerator<CatalogEntry[]> {
    let after: string | null = null;
    do {
      const { data }: { data: CatalogData } = await this.request<CatalogData>(conn, 760, CATALOG, {
        first: CATALOG_PAGE_SIZE,
        after,
      });
      yield data.productVariants.nodes.map((v) => ({
        remoteRef: v.inventoryItem.id,
        remoteVariantRef: v.id,
        sku: v.sku,
        title: v.displayName,
        tracked: v.inventoryItem.tracked,
        sellsWhenOutOfStock: v.inventoryPolicy === "CONTINUE",
        barcode: v.barcode ?? null,
        unitPrice: v.price ?? null,
        remoteProductRef: v.product.id,
      }));
      after = data.productVariants.pageInfo.hasNextPage
        ? data.productVariants.pageInfo.endCursor
        : null;
    } while (after);
  }

  /** Every quantity state of the given levels; levels Shopify does not stock come back empty. */
  async readQuantities(conn: ConnectionContext, refs: RemoteRef[]): Promise<RemoteQuantity[]> {
    const byLocation = new Map<string, string[]>();
    for (const ref of refs) {
      byLocation.set(ref.remoteLocationRef, [
        ...(byLocation.get(ref.remoteLocationRef) ?? []),
        ref.remoteRef,
      ]);
    }
    const out: RemoteQuantity[] = [];
    for (const [locationId, items] of byLocation) {
      const unique = [...new Set(items)];
      for (let i = 0; i < unique.length; i += LEVELS_BATCH_SIZE) {
        const ids = unique.slice(i, i + LEVELS_BATCH_SIZE);
        const { data } = await this.request<LevelsAtData>(
          conn,
          estimateLevelsCost(ids.length),
          LEVELS_AT_LOCATION,
          {
            ids,
            locationId,
          },
        );
        const observedAt = new Date();
        for (const node of data.nodes) {
          if (!node) continue;
          const states = Object.fromEntries(
            (node.inventoryLevel?.quantities ?? []).map((q) => [q.name, q.quantity]),
          );
          out.push({
            remoteRef: node.id,
            remoteLocationRef: locationId,
            quantity: node.inventoryLevel ? (states.available ?? null) : null,
            states,
            observedAt,
          });
        }
      }
    }
    return out;
  }

  /**
   * Sets `available` (other Shopify stores) with compare-and-set. The mutation is atomic: on a
   * stale expectation nothing is applied, the caller re-reads and recomputes. Writes marked
   * `relative` are sent as changes from their expectation instead (`inventoryAdjustQuantities`,
   * no compare): a sale the store made meanwhile is kept, and each answer carries what the store
   * shows after, so a busy SKU costs no stale round and no read. Listings Shopify rejects for a
   * mapping reason are reported and the rest of the batch is retried without them.
   */
  async writeQuantities(
    conn: ConnectionContext,
    writes: QuantityWrite[],
    version = "",
  ): Promise<WriteResult[]> {
    const isChange = (w: QuantityWrite) =>
      w.relative === true && w.expected !== null && w.quantity !== w.expected;
    return [
      ...(await this.writeAvailable(
        conn,
        writes.filter((w) => !isChange(w)),
        version,
        "set",
      )),
      ...(await this.writeAvailable(conn, writes.filter(isChange), version, "adjust")),
    ];
  }

  private async writeAvailable(
    conn: ConnectionContext,
    writes: QuantityWrite[],
    version: string,
    mode: "set" | "adjust",
  ): Promise<WriteResult[]> {
    const results: WriteResult[] = [];
    for (let i = 0; i < writes.length; i += MAX_BATCH) {
      let batch = dedupeLevels(writes.slice(i, i + MAX_BATCH));
      for (let round = 0; batch.length > 0 && round < 3; round++) {
        const key = idempotencyKey(
          mode,
          conn.id,
          version,
          ...batch.flatMap((w) => [
            w.remoteRef,
            w.remoteLocationRef,
            w.quantity,
            w.expected ?? "null",
          ]),
        );
        const payload = await this.sendAvailable(conn, batch, key, mode);
        if (payload.userErrors.length === 0) {
          const after = afterQuantities(payload);
          for (const w of batch) {
            results.push({
              listingId: w.listingId,
              state: "applied",
              quantity:
                after.get(levelKey(w.remoteRef, w.remoteLocationRef, "available")) ?? w.quantity,
            });
          }
          batch = [];
          break;
        }
        // Errors name the entry by index (field ["input", "quantities" | "changes", i, …]).
        const entryOf = (error: MutationPayload["userErrors"][number]) => {
          const index = Number(error.field?.[2]);
          return Number.isInteger(index) && index >= 0 && index < batch.length ? index : null;
        };
        const staleErrors = payload.userErrors.filter(
          (e) => e.code === "CHANGE_FROM_QUANTITY_STALE" || e.code === "COMPARE_QUANTITY_STALE",
        );
        if (staleErrors.length > 0) {
          // Nothing was applied. Only the named entries are stale: report those (the caller
          // re-reads and recomputes them) and send the rest again at once, so one busy SKU
          // cannot hold a whole batch back while its store keeps selling it.
          const stale = new Set(staleErrors.map(entryOf));
          const all = stale.has(null) || payload.userErrors.length > staleErrors.length;
          for (const [index, w] of batch.entries()) {
            if (all || stale.has(index))
              results.push({ listingId: w.listingId, state: "stale", observed: null });
          }
          batch = all ? [] : batch.filter((_, index) => !stale.has(index));
          continue;
        }
        // Mapping problems: drop the named entries and retry the rest.
        const bad = new Set<number>();
        for (const error of payload.userErrors) {
          const index = entryOf(error);
          if (index !== null) bad.add(index);
        }
        if (bad.size === 0) {
          throw new ChannelPermanentError(
            `${mode === "set" ? "inventorySetQuantities" : "inventoryAdjustQuantities"} rejected: ${payload.userErrors.map((e) => `${e.code}: ${e.message}`).join("; ")}`,
          );
        }
        for (const index of bad) {
          const w = batch[index]!;
          const error = payload.userErrors.find((e) => Number(e.field?.[2]) === index);
          results.push({
            listingId: w.listingId,
            state: "rejected",
            retryable: false,
            code: error?.code ?? undefined,
            message: error?.message ?? "rejected",
          });
        }
        batch = batch.filter((_, index) => !bad.has(index));
      }
      // Still unsent after the rounds (other entries kept going stale): re-read them too.
      for (const w of batch)
        results.push({ listingId: w.listingId, state: "stale", observed: null });
    }
    return results;
  }

  /** One call: absolute quantities with compare-and-set, or changes from the expectations. */
  private async sendAvailable(
    conn: ConnectionContext,
    batch: QuantityWrite[],
    key: string,
    mode: "set" | "adjust",
  ): Promise<MutationPayload> {
    const common = {
      name: "available",
      reason: "correction",
      referenceDocumentUri: `gid://stockguard/PushBatch/${key}`,
    };
    if (mode === "set") {
      const { data } = await this.request<{ inventorySetQuantities: MutationPayload }>(
        conn,
        10,
        setQuantitiesMutation(key),
        {
          input: {
            ...common,
            quantities: batch.map((w) => ({
              inventoryItemId: w.remoteRef,
              locationId: w.remoteLocationRef,
              quantity: w.quantity,
              changeFromQuantity: w.expected,
            })),
          },
        },
      );
      return data.inventorySetQuantities;
    }
    const { data } = await this.request<{ inventoryAdjustQuantities: MutationPayload }>(
      conn,
      10,
      adjustQuantitiesMutation(key),
      {
        input: {
          ...common,
          changes: batch.map((w) => ({
            inventoryItemId: w.remoteRef,
            locationId: w.remoteLocationRef,
            delta: w.quantity - w.expected!,
            // Explicitly no compare: the change lands on whatever the store shows now.
            changeFromQuantity: null,
          })),
        },
      },
    );
    return data.inventoryAdjustQuantities;
  }

  /** inventoryPolicy DENY for the variants, one productVariantsBulkUpdate per product. */
  async stopSellingWhenOutOfStock(
    conn: ConnectionContext,
    variants: { variantRef: string; productRef: string }[],
  ): Promise<{ variantRef: string; ok: boolean; message?: string }[]> {
    const byProduct = new Map<string, string[]>();
    for (const v of variants)
      byProduct.set(v.productRef, [...(byProduct.get(v.productRef) ?? []), v.variantRef]);
    const out: { variantRef: string; ok: boolean; message?: string }[] = [];
    for (const [productId, refs] of byProduct) {
      for (let i = 0; i < refs.length; i += MAX_BATCH) {
        const chunk = refs.slice(i, i + MAX_BATCH);
        const { data } = await this.request<VariantsDenyData>(conn, 10, VARIANTS_DENY, {
          productId,
          variants: chunk.map((id) => ({ id, inventoryPolicy: "DENY" })),
        });
        const payload = data.productVariantsBulkUpdate;
        const errors = payload?.userErrors ?? [];
        for (const ref of chunk) {
          const now = payload?.productVariants?.find((v) => v.id === ref);
          out.push(
            now?.inventoryPolicy === "DENY"
              ? { variantRef: ref, ok: true }
              : {
                  variantRef: ref,
                  ok: false,
                  message: errors.map((e) => e.message).join("; ") || "Shopify did not change it",
                },
          );
        }
      }
    }
    return out;
  }

  /** Moves units between quantity states at a level (on_hand unchanged). */
  async move(
    conn: ConnectionContext,
    moves: StateMove[],
    keyParts: (string | number)[],
  ): Promise<StateChangeOutcome> {
    if (moves.length === 0) return { ok: true, after: new Map() };
    const key = idempotencyKey("move", conn.id, ...keyParts);
    const doc = `gid://stockguard/Projection/${key}`;
    const { data } = await this.request<{ inventoryMoveQuantities: MutationPayload }>(
      conn,
      10,
      moveQuantitiesMutation(key),
      {
        input: {
          reason: moves.some((m) => m.ownedState === "reserved")
            ? "reservation_updated"
            : "safety_stock",
          referenceDocumentUri: doc,
          changes: moves.map((m) => ({
            inventoryItemId: m.inventoryItemId,
            quantity: m.quantity,
            from: terminal(m.locationId, m.from, m.ownedState, m.ownedExpected, doc),
            to: terminal(m.locationId, m.to, m.ownedState, m.ownedExpected, doc),
          })),
        },
      },
    );
    return outcome(data.inventoryMoveQuantities);
  }

  /**
   * Applies deltas to states (changes on_hand too). `key` is the caller's idempotency key: the
   * outbox stores it with the rows, so a resend after a crash carries the same key and the same
   * parameters, and Shopify applies the batch at most once.
   */
  async adjust(
    conn: ConnectionContext,
    name: string,
    changes: StateAdjustment[],
    key: string,
    reason?: string | null,
  ): Promise<StateChangeOutcome> {
    if (changes.length === 0) return { ok: true, after: new Map() };
    const { data } = await this.request<{ inventoryAdjustQuantities: MutationPayload }>(
      conn,
      10,
      adjustQuantitiesMutation(key),
      {
        input: {
          name,
          reason:
            reason ??
            (name === "reserved"
              ? "reservation_updated"
              : name === "quality_control"
                ? "quality_control"
                : name === "damaged"
                  ? "damaged"
                  : "correction"),
          referenceDocumentUri: `gid://stockguard/Movement/${key}`,
          // One canonical order: a resend of the same batch (rebuilt from the outbox after a
          // crash) must carry exactly the parameters of the first send, or Shopify refuses the
          // idempotency key as reused with different parameters.
          changes: [...changes].sort(byLevel).map((c) => ({
            inventoryItemId: c.inventoryItemId,
            locationId: c.locationId,
            delta: c.delta,
            changeFromQuantity: c.expected,
            ...(name === "available" ? {} : { ledgerDocumentUri: c.ledgerDocumentUri }),
          })),
        },
      },
    );
    return outcome(data.inventoryAdjustQuantities);
  }
}

function byLevel(a: StateAdjustment, b: StateAdjustment): number {
  return a.inventoryItemId < b.inventoryItemId
    ? -1
    : a.inventoryItemId > b.inventoryItemId
      ? 1
      : a.locationId < b.locationId
        ? -1
        : a.locationId > b.locationId
          ? 1
          : 0;
}

function terminal(locationId: string, name: string, owned: string, expected: number, doc: string) {
  return {
    locationId,
    name,
    // CAS on the state StockGuard owns; `available` moves with concurrent sales, so it opts out.
    changeFromQuantity: name === owned ? expected : null,
    ...(name === "available" ? {} : { ledgerDocumentUri: doc }),
  };
}

function afterQuantities(payload: MutationPayload): Map<string, number> {
  const after = new Map<string, number>();
  for (const change of payload.inventoryAdjustmentGroup?.changes ?? []) {
    if (change.quantityAfterChange !== null) {
      after.set(
        levelKey(change.item.id, change.location.id, change.name),
        change.quantityAfterChange,
      );
    }
  }
  return after;
}

function outcome(payload: MutationPayload): StateChangeOutcome {
  if (payload.userErrors.length === 0) return { ok: true, after: afterQuantities(payload) };
  return {
    ok: false,
    stale: payload.userErrors.some((e) => e.code === "CHANGE_FROM_QUANTITY_STALE"),
    errors: payload.userErrors,
  };
}

/** Shopify rejects the same (item, location) twice in one call; keep the last write per level. */
function dedupeLevels(writes: QuantityWrite[]): QuantityWrite[] {
  const byLevel = new Map<string, QuantityWrite>();
  for (const w of writes) byLevel.set(`${w.remoteRef}|${w.remoteLocationRef}`, w);
  return [...byLevel.values()];
}

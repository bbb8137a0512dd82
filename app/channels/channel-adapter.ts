/**
 * The channel port: everything a service may ask of a sales channel (a Shopify store, a
 * marketplace account). Services receive adapters from the registry (`registry.server.ts`) keyed
 * by connection kind and never learn which channel they talk to; adapters throw only the closed
 * error set in ./errors.ts. Shapes follow ../shared/docs/platform/marketplaces.md §10.
 */
import type { LedgerOperation } from "../domain/operations";

export type ChannelKind = "shopify" | "amazon" | "ebay" | "walmart";

/** What a service knows about a connection when it calls an adapter. */
export type ConnectionContext = {
  id: string;
  shopId: string;
  kind: ChannelKind;
  role: "source" | "sales";
  /** Shop domain for Shopify; seller / partner id for marketplaces. */
  accountRef: string;
  /** The channel's API origin; null means the real host (or the sandbox rewrite for Shopify). */
  apiBaseUrl: string | null;
  settings: Record<string, unknown>;
  /**
   * How long one call may wait for the channel's budget to refill instead of failing with
   * `ChannelThrottledError` (whole-catalog imports, which cannot resume mid-way). Unset: fail at
   * once and let the job runner delay the job.
   */
  throttleWaitMs?: number;
};

// ---------------------------------------------------------------------------------------------
// Capabilities

export type Capabilities = {
  /** Writes can carry the quantity we expect the channel to show (Shopify only). */
  compareAndSet: boolean;
  /**
   * Writes can instead be a change from `expected` that keeps what the channel sold meanwhile,
   * answered with what it shows after (Shopify `inventoryAdjustQuantities`).
   */
  relativeWrites: boolean;
  /** Items per write call. */
  maxItemsPerWrite: number;
  /** Items per read call. */
  maxItemsPerRead: number;
  /**
   * `immediate`: a write is applied when the call returns. `accepted`: the channel queues it
   * (Amazon `ACCEPTED`, feeds); it counts only once confirmed by read-back or notification.
   */
  confirmation: "immediate" | "accepted";
  /** Whether order events carry their lines (SKU, quantity) or only an order id to fetch. */
  orderSignal: "with_lines" | "id_only";
  /** Whether the channel tells us about cancellations, or they must be polled. */
  cancellationEvents: boolean;
  /** Revisions allowed per listing per calendar day (eBay: 250); null when unlimited. */
  dailyRevisionsPerListing: number | null;
  /** The time zone of that calendar day (eBay: America/Los_Angeles). */
  revisionDayTimeZone: string;
  /** How inbound events reach us. */
  inbound: "webhook" | "queue" | "poll";
};

// ---------------------------------------------------------------------------------------------
// Outbound: quantities

export type RemoteRef = { remoteRef: string; remoteLocationRef: string };

/** One absolute quantity to show for a listing. */
export type QuantityWrite = RemoteRef & {
  listingId: string;
  /** SKU on the channel (marketplaces address listings by seller SKU). */
  sku?: string | null;
  quantity: number;
  /** What we believe the channel shows now (compare-and-set), or null to write unconditionally. */
  expected: number | null;
  /**
   * Apply `quantity − expected` as a change instead (channels with `relativeWrites`): a sale
   * the channel made since `expected` was seen is kept, not refused as stale, and the result's
   * `quantity` is what the channel shows after — `quantity` only if nothing moved meanwhile.
   */
  relative?: boolean;
};

export type WriteResult = { listingId: string } & (
  | { state: "applied"; quantity: number }
  /** Accepted but applied later (Amazon ACCEPTED, Walmart feeds): confirm with `confirmWrites`. */
  | { state: "pending"; trackingId: string; quantity: number }
  /** The compare-and-set expectation was wrong: the channel shows `observed` (null: unknown). */
  | { state: "stale"; observed: number | null }
  /** The channel asked us to slow down for this item; nothing was written. */
  | { state: "throttled"; retryAfterMs: number }
  | { state: "rejected"; retryable: boolean; code?: string; message: string }
);

/** A write the channel accepted but has not confirmed yet. */
export type PendingWrite = RemoteRef & {
  listingId: string;
  sku?: string | null;
  trackingId: string;
  quantity: number;
};

export type RemoteQuantity = RemoteRef & {
  /** The sellable quantity the channel shows; null when the item is not stocked there. */
  quantity: number | null;
  /** Every state the channel exposes (Shopify: on_hand, committed, reserved, …). */
  states: Record<string, number>;
  observedAt: Date;
};

// ---------------------------------------------------------------------------------------------
// Catalog

export type RemoteLocation = {
  id: string;
  name: string;
  isActive: boolean;
  fulfillsOnlineOrders: boolean;
};

/** One sellable thing on the channel, as the catalog lists it. */
export type CatalogEntry = {
  /** What quantities are written against (Shopify inventory item gid, seller SKU). */
  remoteRef: string;
  /** What orders name (Shopify variant gid); null when orders name `remoteRef` or the SKU. */
  remoteVariantRef: string | null;
  sku: string | null;
  title: string;
  /** Quantity is tracked by the channel (untracked variants defeat every buffer). */
  tracked: boolean;
  /** The channel keeps selling at zero (Shopify inventoryPolicy CONTINUE). */
  sellsWhenOutOfStock: boolean;
  /** Barcode (scanned in cycle counts), unit price (a decimal string) and product, when known. */
  barcode?: string | null;
  unitPrice?: string | null;
  remoteProductRef?: string | null;
  /**
   * Listed on the channel but never to be synced, and why (an Amazon listing fulfilled by Amazon
   * only: FBA stock is Amazon's). Reported to the merchant as a catalog issue, not imported.
   */
  notSynced?: string;
};

// ---------------------------------------------------------------------------------------------
// Inbound

export type RawInbound = {
  method: string;
  url: string;
  headers: Headers;
  /** The raw body, exactly as received (signatures are computed over these bytes). */
  body: string;
};

/** The envelope of a delivery, read before its payload is trusted. */
export type DeliveryEnvelope = {
  /** The account the delivery is about (shop domain, seller id); null when the URL names it. */
  accountRef: string | null;
  topic: string;
  /** The channel's own dedupe key (X-Shopify-Event-Id, notificationId, eventId). */
  eventId: string;
  deliveryId: string | null;
  /** The channel's own time of the event. */
  occurredAt: Date | null;
};

export type PayloadCheck =
  { ok: true; payload: unknown; resourceId: string | null } | { ok: false; reason: string };

/** What a level the channel reports now shows (an observation, not an event). */
export type LevelObservation = RemoteRef & {
  quantity: number | null;
  at: Date;
  /**
   * `at` is the channel's own time of the change to the millisecond (Amazon's EventTime), so an
   * observation at or before what StockGuard already knows is old news; without it timestamps
   * may carry whole seconds (Shopify) and only one clearly older (2 s) is.
   */
  precise?: boolean;
};

/** What a stored delivery means for StockGuard. Pure: no I/O. */
export type InboundMeaning =
  | { kind: "ledger"; operations: LedgerOperation[] }
  | { kind: "level"; level: LevelObservation }
  /** The event names an order but carries no lines: fetch it (eBay). */
  | { kind: "order_reference"; orderId: string }
  | { kind: "catalog_changed" }
  /**
   * The channel says one of its accounts was deleted (eBay MARKETPLACE_ACCOUNT_DELETION): every
   * connection of this kind whose account ref hashes (SHA-256, hex) to this value loses its
   * credentials and account identifiers. The delivery itself carries only the hash.
   */
  | { kind: "account_deleted"; accountRefSha256: string }
  | { kind: "ignored"; reason: string };

/** The answer to a delivery's authentication (marketplace push channels). */
export type Verification =
  | { ok: true }
  /** Refused: eBay expects 412, the others 401. Nothing is stored. */
  | { ok: false; status: 401 | 412; reason: string }
  /** Not an event but a handshake to answer (eBay's endpoint challenge). */
  | { ok: "answer"; status: number; contentType: string; body: string };

export interface InboundPort {
  /** Reads the delivery's envelope; a string is the reason it is malformed. */
  envelope(raw: RawInbound): DeliveryEnvelope | string;
  /** Shopify: true when the raw body is signed with `secret` (HMAC). Constant-time. */
  verify(raw: RawInbound, secret: string): boolean;
  /**
   * Marketplaces: authenticates a delivery to `/webhooks/<kind>/<connection id>` the way the
   * channel signs it (eBay ECDSA with the key of `kid`, Walmart HMAC/Basic with the secret
   * StockGuard gave it), or answers its handshake.
   */
  authenticate?(raw: RawInbound, conn: ConnectionContext): Promise<Verification>;
  /** The status a stored or duplicate delivery is acknowledged with (eBay 204; default 200). */
  readonly acceptedStatus?: number;
  /** Validates a topic's payload and strips what StockGuard must not keep (customer data). */
  check(topic: string, payload: unknown): PayloadCheck;
  /** A stored, checked delivery → its meaning. */
  translate(connectionId: string, topic: string, payload: unknown): InboundMeaning;
}

/**
 * A delivery StockGuard pulled rather than received (a queue message, a polled order change):
 * stored and applied exactly like a pushed one, deduplicated on `eventId`.
 */
export type PulledDelivery = {
  topic: string;
  eventId: string;
  occurredAt: Date | null;
  payload: unknown;
  resourceId?: string | null;
};

/** What one poll of a connection found, and where the next one starts. */
export type PollResult = { deliveries: PulledDelivery[]; cursor: string | null };

/** A shared queue (Amazon SQS): messages for many accounts, acknowledged after storing. */
export type QueueBatch = {
  messages: (PulledDelivery & { accountRef: string; ackToken: string })[];
  /** Deletes messages once stored (never before: a crash must let them come back). */
  acknowledge(ackTokens: string[]): Promise<void>;
};

/** An order read back from the channel (for `order_reference` events and polling). */
export type ChannelOrder = {
  orderId: string;
  updatedAt: string;
  operations: LedgerOperation[];
};

// ---------------------------------------------------------------------------------------------
// Source store: where physical stock lives (Shopify). Moves units between quantity states.

/** A state move at one level: `quantity` units from one state to another. */
export type StateMove = {
  inventoryItemId: string;
  locationId: string;
  quantity: number;
  from: string;
  to: string;
  /** CAS on the state StockGuard owns (reserved / safety_stock / quality_control / damaged). */
  ownedState: string;
  ownedExpected: number;
};

/** A delta on one state (the source outbox: a marketplace shipment leaving `reserved`). */
export type StateAdjustment = {
  inventoryItemId: string;
  locationId: string;
  name: string;
  delta: number;
  /** CAS on the state; null opts out (`available`, which moves with concurrent sales). */
  expected: number | null;
  ledgerDocumentUri: string;
};

export type StateChangeOutcome =
  | { ok: true; after: Map<string, number> }
  | { ok: false; stale: boolean; errors: { code: string | null; message: string }[] };

export interface SourceStorePort {
  /** Moves units between quantity states at a level (on_hand unchanged). */
  move(
    conn: ConnectionContext,
    moves: StateMove[],
    keyParts: (string | number)[],
  ): Promise<StateChangeOutcome>;
  /**
   * Applies deltas to one state (on_hand changes too), exactly once per `key`. `reason` is the
   * source's own reason (Shopify `cycle_count_available`); omitted, the default of the state.
   */
  adjust(
    conn: ConnectionContext,
    name: string,
    changes: StateAdjustment[],
    key: string,
    reason?: string | null,
  ): Promise<StateChangeOutcome>;
  /** Key of a level state in `StateChangeOutcome.after`. */
  levelKey(remoteRef: string, remoteLocationRef: string, state: string): string;
}

// ---------------------------------------------------------------------------------------------

/** A connection as an authorisation creates it. */
export type AuthorizedAccount = {
  accountRef: string;
  name: string;
  /** Sealed at rest by the caller. */
  credentials: Record<string, unknown>;
  settings?: Record<string, unknown>;
};

/**
 * The marketplace's own authorisation: a consent page the seller approves, a callback with a
 * code, and the exchange of that code for long-lived credentials (Amazon's website workflow,
 * eBay's OAuth); or keys the seller pastes (Walmart's client credentials).
 */
export type AuthorizationFlow =
  | {
      kind: "redirect";
      consentUrl(input: { state: string; redirectUri: string; apiBaseUrl: string | null }): string;
      complete(input: {
        params: URLSearchParams;
        redirectUri: string;
        apiBaseUrl: string | null;
      }): Promise<AuthorizedAccount>;
    }
  | {
      kind: "keys";
      /** The fields the merchant fills in (names, labels). */
      fields: { name: string; label: string; secret: boolean }[];
      complete(input: {
        keys: Record<string, string>;
        apiBaseUrl: string | null;
      }): Promise<AuthorizedAccount>;
    };

/** Notification subscriptions a connection needs (created by StockGuard where it must). */
export type SubscriptionReport = { present: string[]; created: string[]; removed: string[] };

export interface ChannelAdapter {
  readonly kind: ChannelKind;
  readonly capabilities: Capabilities;

  /** Writes absolute quantities (chunked to `maxItemsPerWrite`); `version` keys retries. */
  writeQuantities(
    conn: ConnectionContext,
    writes: QuantityWrite[],
    version?: string,
  ): Promise<WriteResult[]>;
  /** Reads what the channel shows, for reconciliation and after a stale write. */
  readQuantities(conn: ConnectionContext, refs: RemoteRef[]): Promise<RemoteQuantity[]>;
  /** Confirms accepted writes (read-back or feed status); channels with `accepted` only. */
  confirmWrites?(conn: ConnectionContext, pending: PendingWrite[]): Promise<WriteResult[]>;

  listLocations(conn: ConnectionContext): Promise<RemoteLocation[]>;
  listCatalog(conn: ConnectionContext): AsyncIterable<CatalogEntry[]>;

  readonly inbound: InboundPort;
  /** Reads an order back (channels whose events carry only an order id). */
  fetchOrder?(conn: ConnectionContext, orderId: string): Promise<ChannelOrder | null>;
  /**
   * Makes sure the channel sends this connection's events to `callbackUrl` (creating missing
   * subscriptions); channels whose subscriptions come from the app's configuration omit it.
   */
  ensureSubscriptions?(
    conn: ConnectionContext,
    callback: { callbackUrl: string },
  ): Promise<SubscriptionReport>;
  /**
   * Removes the subscriptions `ensureSubscriptions` created for this connection (those pointing
   * at `callbackUrl`'s origin), before its credentials are deleted; returns how many.
   */
  removeSubscriptions?(conn: ConnectionContext, callback: { callbackUrl: string }): Promise<number>;

  /**
   * Reads what the channel may not push (cancellations, missed orders) since `cursor`, for one
   * connection, every `pollIntervalMs`.
   */
  poll?(conn: ConnectionContext, cursor: string | null): Promise<PollResult>;
  readonly pollIntervalMs?: number;
  /** Receives from the channel's queue shared by every connection of the app (Amazon SQS). */
  receiveQueue?(settings: Record<string, unknown>): Promise<QueueBatch>;

  /** How a seller authorises StockGuard (consent redirect and callback), where one exists. */
  readonly authorization?: AuthorizationFlow;

  /**
   * Checks credentials against the channel before they are stored (a token that works, its
   * scopes) and names the account; throws `ChannelAuthError` when they do not work.
   */
  describeAccount(
    account: { accountRef: string; apiBaseUrl: string | null },
    credentials: Record<string, unknown>,
  ): Promise<{ name: string; scopes: string[] }>;

  /** Drops cached credentials of a connection after the channel refused them. */
  forgetCredentials(connectionId: string): void;

  /** Present only for channels that can hold the physical stock (the source store). */
  readonly source?: SourceStorePort;

  /**
   * Turns "keep selling when out of stock" off for variants (risk checks' one-click fix; Shopify
   * productVariantsBulkUpdate inventoryPolicy DENY, which needs write_products). Per variant:
   * whether it now refuses sales at zero, or why not. Throws `ChannelAuthError` without the scope.
   */
  stopSellingWhenOutOfStock?(
    conn: ConnectionContext,
    variants: { variantRef: string; productRef: string }[],
  ): Promise<{ variantRef: string; ok: boolean; message?: string }[]>;
}

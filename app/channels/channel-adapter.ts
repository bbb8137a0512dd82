/**
 * The port every channel implements (Shopify now; Amazon, eBay, Walmart next — their shapes are
 * in ../shared/docs/platform/marketplaces.md §10). Services talk to channels only through it;
 * adapters throw only the closed error set in ./errors.ts.
 */
export type ChannelKind = "shopify" | "amazon" | "ebay" | "walmart";

/** What a service knows about a connection when it calls an adapter (credentials decrypted). */
export type ConnectionContext = {
  id: string;
  shopId: string;
  kind: ChannelKind;
  role: "source" | "sales";
  /** Shop domain for Shopify; seller / partner id for marketplaces. */
  accountRef: string;
  apiBaseUrl: string | null;
  settings: Record<string, unknown>;
  /**
   * How long one call may wait for the channel's budget to refill instead of failing with
   * `ChannelThrottledError` (whole-catalog imports, which cannot resume mid-way). Unset: fail at
   * once and let the job runner delay the job.
   */
  throttleWaitMs?: number;
};

export type RawInbound = {
  method: string;
  url: string;
  headers: Headers;
  body: string;
};

export type Verification = { ok: true } | { ok: false; status: 401 | 412; reason: string };

/** One absolute quantity to show for a listing. `expected` enables compare-and-set. */
export type QuantityWrite = {
  listingId: string;
  remoteRef: string;
  remoteLocationRef: string;
  quantity: number;
  /** What we believe the channel shows now (CAS), or null to write unconditionally. */
  expected: number | null;
};

export type WriteResult = { listingId: string } & (
  | { state: "applied"; quantity: number }
  /** Accepted but applied later (Amazon ACCEPTED, Walmart feeds). */
  | { state: "pending"; trackingId: string }
  /** The compare-and-set expectation was wrong: the channel shows `observed`. */
  | { state: "stale"; observed: number | null }
  | { state: "rejected"; retryable: boolean; code?: string; message: string }
);

export type RemoteRef = { remoteRef: string; remoteLocationRef: string };
export type RemoteQuantity = RemoteRef & {
  /** The sellable quantity the channel shows. */
  quantity: number | null;
  /** Every state the channel exposes (Shopify: on_hand, committed, reserved, …). */
  states: Record<string, number>;
  observedAt: Date;
};

export type Capabilities = {
  compareAndSet: boolean;
  /** Items per write call. */
  maxItemsPerWrite: number;
  /** Items per read call. */
  maxItemsPerRead: number;
};

export interface ChannelAdapter {
  readonly kind: ChannelKind;
  readonly capabilities: Capabilities;
  /** Writes absolute quantities in batches of at most `maxItemsPerWrite`. */
  writeQuantities(conn: ConnectionContext, writes: QuantityWrite[]): Promise<WriteResult[]>;
  /** Reads what the channel shows, for reconciliation and after a stale write. */
  readQuantities(conn: ConnectionContext, refs: RemoteRef[]): Promise<RemoteQuantity[]>;
}

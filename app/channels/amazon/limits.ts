/**
 * SP-API usage plans the Amazon channel sends under (default plans of the models,
 * marketplaces.md §2.5): a token bucket per selling partner and application, shared by every
 * worker through Redis (`lib/rate-limit`). Throttled calls are answered 429 without Retry-After,
 * so after a 429 the operation is blocked for `blockMs`.
 */
import type { BucketLimit } from "../../lib/rate-limit.server";

export type SpOperation =
  | "patchListingsItem"
  | "getListingsItem"
  | "searchListingsItems"
  | "getOrders"
  | "getOrder"
  | "getOrderItems"
  | "getDestinations"
  | "createDestination"
  | "getSubscription"
  | "createSubscription"
  | "createFeedDocument"
  | "createFeed"
  | "getFeed";

/** Amazon's documented plans. */
export const DOCUMENTED_PLANS: Record<SpOperation, BucketLimit & { blockMs: number }> = {
  patchListingsItem: { perSecond: 5, burst: 5, blockMs: 1_000 },
  getListingsItem: { perSecond: 5, burst: 10, blockMs: 1_000 },
  searchListingsItems: { perSecond: 5, burst: 5, blockMs: 1_000 },
  // 0.0167 req/s: one getOrders a minute once the burst of 20 is spent.
  getOrders: { perSecond: 0.0167, burst: 20, blockMs: 60_000 },
  getOrder: { perSecond: 0.5, burst: 30, blockMs: 2_000 },
  getOrderItems: { perSecond: 0.5, burst: 30, blockMs: 2_000 },
  getDestinations: { perSecond: 1, burst: 5, blockMs: 1_000 },
  createDestination: { perSecond: 1, burst: 5, blockMs: 1_000 },
  getSubscription: { perSecond: 1, burst: 5, blockMs: 1_000 },
  createSubscription: { perSecond: 1, burst: 5, blockMs: 1_000 },
  createFeedDocument: { perSecond: 0.5, burst: 15, blockMs: 2_000 },
  createFeed: { perSecond: 0.0083, burst: 15, blockMs: 120_000 },
  getFeed: { perSecond: 2, burst: 15, blockMs: 1_000 },
};

/**
 * What we send under: a little below the documented plan (rate × 0.9, one token less of burst).
 * Our bucket takes a token when a request leaves, Amazon's when it arrives; with requests in
 * flight at once the arrivals bunch up by a few milliseconds and an exact copy of the plan draws
 * the odd 429 (seen against the local SP-API), which then blocks the operation for a second.
 */
export const USAGE_PLANS: Record<SpOperation, BucketLimit & { blockMs: number }> =
  Object.fromEntries(
    Object.entries(DOCUMENTED_PLANS).map(([operation, plan]) => [
      operation,
      { ...plan, perSecond: plan.perSecond * 0.9, burst: Math.max(1, plan.burst - 1) },
    ]),
  ) as Record<SpOperation, BucketLimit & { blockMs: number }>;

/**
 * SP-API usage plans: one token bucket per (application, selling partner, operation) with the
 * default rate and burst of each operation's model (marketplaces.md §2.5). Buckets start full
 * and refill continuously in real time. Also the forced-fault rules (429/500/503 on demand).
 */
import type { Rng } from "../shopify/rng";

export type UsagePlan = { rate: number; burst: number };

/** Default usage plans, read in the `Usage Plan` table of each operation's model description. */
export const DEFAULT_USAGE_PLANS = {
  getListingsItem: { rate: 5, burst: 10 },
  patchListingsItem: { rate: 5, burst: 5 },
  putListingsItem: { rate: 5, burst: 10 },
  deleteListingsItem: { rate: 5, burst: 5 },
  searchListingsItems: { rate: 5, burst: 5 },
  getOrders: { rate: 0.0167, burst: 20 },
  getOrder: { rate: 0.5, burst: 30 },
  getOrderItems: { rate: 0.5, burst: 30 },
  getFeeds: { rate: 0.0222, burst: 10 },
  createFeed: { rate: 0.0083, burst: 15 },
  getFeed: { rate: 2, burst: 15 },
  cancelFeed: { rate: 2, burst: 15 },
  createFeedDocument: { rate: 0.5, burst: 15 },
  getFeedDocument: { rate: 0.0222, burst: 10 },
  getSubscriptions: { rate: 1, burst: 5 },
  getSubscription: { rate: 1, burst: 5 },
  createSubscription: { rate: 1, burst: 5 },
  getSubscriptionById: { rate: 1, burst: 5 },
  deleteSubscriptionById: { rate: 1, burst: 5 },
  getDestinations: { rate: 1, burst: 5 },
  createDestination: { rate: 1, burst: 5 },
  getDestination: { rate: 1, burst: 5 },
  deleteDestination: { rate: 1, burst: 5 },
} satisfies Record<string, UsagePlan>;

export type OperationName = keyof typeof DEFAULT_USAGE_PLANS;
export const OPERATION_NAMES = Object.keys(DEFAULT_USAGE_PLANS) as OperationName[];

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(DEFAULT_USAGE_PLANS, name);
}

/** The `x-amzn-RateLimit-Limit` value: "5.0", "0.5", "0.0167" (live answers print "5.0"). */
export function rateLimitHeader(rate: number): string {
  return Number.isInteger(rate) ? rate.toFixed(1) : String(rate);
}

type Bucket = { tokens: number; updatedAt: number };

export class RateLimiter {
  enabled = true;
  /** Per-operation overrides of the default plans. */
  private overrides = new Map<OperationName, UsagePlan>();
  /** Per-(seller, operation) overrides: `${sellerKey}|${op}`. */
  private sellerOverrides = new Map<string, UsagePlan>();
  private buckets = new Map<string, Bucket>();

  plan(op: OperationName, sellerKey?: string): UsagePlan {
    if (sellerKey !== undefined) {
      const own = this.sellerOverrides.get(`${sellerKey}|${op}`);
      if (own) return own;
    }
    return this.overrides.get(op) ?? DEFAULT_USAGE_PLANS[op];
  }

  /** Sets a plan for an operation (every seller) or for one seller key; resets its buckets. */
  configure(op: OperationName, plan: UsagePlan, sellerKey?: string): UsagePlan {
    if (!(plan.rate > 0) || !(plan.burst >= 1)) {
      throw new RangeError("a usage plan needs rate > 0 and burst >= 1");
    }
    const clean = { rate: plan.rate, burst: Math.floor(plan.burst) };
    if (sellerKey === undefined) this.overrides.set(op, clean);
    else this.sellerOverrides.set(`${sellerKey}|${op}`, clean);
    for (const key of [...this.buckets.keys()]) {
      if (key.endsWith(`|${op}`) && (sellerKey === undefined || key.startsWith(`${sellerKey}|`))) {
        this.buckets.delete(key);
      }
    }
    return clean;
  }

  /** Takes one token; `ok: false` means HTTP 429. */
  take(op: OperationName, sellerKey: string, now = Date.now()): { ok: boolean; plan: UsagePlan } {
    const plan = this.plan(op, sellerKey);
    if (!this.enabled) return { ok: true, plan };
    const key = `${sellerKey}|${op}`;
    const bucket = this.buckets.get(key) ?? { tokens: plan.burst, updatedAt: now };
    bucket.tokens = Math.min(
      plan.burst,
      bucket.tokens + ((now - bucket.updatedAt) / 1000) * plan.rate,
    );
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return { ok: false, plan };
    bucket.tokens -= 1;
    return { ok: true, plan };
  }

  /** Tokens currently in a bucket (refilled to now). */
  tokens(op: OperationName, sellerKey: string, now = Date.now()): number {
    const plan = this.plan(op, sellerKey);
    const bucket = this.buckets.get(`${sellerKey}|${op}`);
    if (!bucket) return plan.burst;
    return Math.min(plan.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * plan.rate);
  }

  /** Refills every bucket (`clearOverrides` also forgets configured plans). */
  reset(clearOverrides = false): void {
    this.buckets.clear();
    if (clearOverrides) {
      this.overrides.clear();
      this.sellerOverrides.clear();
      this.enabled = true;
    }
  }

  snapshot(): Record<string, UsagePlan> {
    const out: Record<string, UsagePlan> = {};
    for (const op of OPERATION_NAMES) out[op] = this.plan(op);
    return out;
  }
}

export type FaultStatus = 429 | 500 | 503;

/**
 * A forced answer for SP-API (and LWA) requests. `operation` is an operation name, "lwa" for the
 * token endpoint, or "*"; `count` = the next N matching requests; `probability` alone = each
 * matching request with probability p until cleared; `durationMs` = every matching request for T ms.
 */
export type FaultRule = {
  operation?: string;
  status: FaultStatus;
  count?: number;
  probability?: number;
  durationMs?: number;
  sellerId?: string;
};

export type ActiveFault = FaultRule & { id: number; triggered: number; until: number | null };

export class FaultRules {
  private rules: ActiveFault[] = [];
  private nextId = 1;
  latency: { minMs: number; maxMs: number } | null = null;

  constructor(private readonly rng: () => Rng) {}

  add(rule: FaultRule, now = Date.now()): ActiveFault {
    if (![429, 500, 503].includes(rule.status))
      throw new RangeError("status must be 429, 500 or 503");
    if (
      rule.count === undefined &&
      rule.probability === undefined &&
      rule.durationMs === undefined
    ) {
      throw new RangeError("a fault needs count, probability or durationMs");
    }
    if (rule.count !== undefined && !(Number.isInteger(rule.count) && rule.count > 0)) {
      throw new RangeError("count must be a positive integer");
    }
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
      throw new RangeError("probability must be within [0, 1]");
    }
    if (rule.durationMs !== undefined && !(rule.durationMs >= 0)) {
      throw new RangeError("durationMs must be >= 0");
    }
    const fault: ActiveFault = {
      ...rule,
      operation: rule.operation ?? "*",
      id: this.nextId++,
      triggered: 0,
      until: rule.durationMs === undefined ? null : now + rule.durationMs,
    };
    this.rules.push(fault);
    return { ...fault };
  }

  /** The fault that applies to this request, if any (consumes a count). */
  next(operation: string, sellerId: string | null, now = Date.now()): ActiveFault | null {
    this.rules = this.rules.filter((r) => r.until === null || r.until > now);
    for (const rule of this.rules) {
      if (rule.operation !== "*" && rule.operation !== operation) continue;
      if (rule.sellerId !== undefined && rule.sellerId !== sellerId) continue;
      if (rule.probability !== undefined && !this.rng().chance(rule.probability)) continue;
      rule.triggered += 1;
      if (rule.count !== undefined) {
        rule.count -= 1;
        if (rule.count <= 0) this.rules = this.rules.filter((r) => r !== rule);
      }
      return { ...rule };
    }
    return null;
  }

  list(now = Date.now()): ActiveFault[] {
    return this.rules.filter((r) => r.until === null || r.until > now).map((r) => ({ ...r }));
  }

  clear(): void {
    this.rules = [];
    this.latency = null;
  }

  setLatency(minMs: number, maxMs: number): void {
    if (!(minMs >= 0 && maxMs >= minMs)) throw new RangeError("latency needs 0 <= minMs <= maxMs");
    this.latency = maxMs === 0 ? null : { minMs, maxMs };
  }

  latencyMs(): number {
    return this.latency ? this.rng().between(this.latency.minMs, this.latency.maxMs) : 0;
  }
}

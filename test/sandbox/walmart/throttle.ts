/**
 * Per seller, per API token buckets (Walmart's rate limiting is a token bucket per seller per
 * API). Every /v3 answer carries `x-current-token-count` (whole tokens left) and
 * `x-next-replenish-time` (epoch milliseconds of the next token); an empty bucket answers 429
 * with `Retry-After` in whole seconds.
 */

/** The operations that have their own bucket (and that faults can target). */
export const OPERATIONS = [
  "token",
  "items.list",
  "items.get",
  "inventory.get",
  "inventory.update",
  "inventories.list",
  "inventories.get",
  "inventories.update",
  "feeds.submit",
  "feeds.list",
  "feeds.status",
  "orders.list",
  "orders.get",
  "webhooks.create",
  "webhooks.list",
  "webhooks.update",
  "webhooks.delete",
  "webhooks.test",
  "webhooks.eventTypes",
] as const;
export type Operation = (typeof OPERATIONS)[number];

export type BucketConfig = {
  /** Tokens when full (and the burst). */
  capacity: number;
  /** A full bucket refills over this many ms (continuously). */
  windowMs: number;
  /** true: windowMs is multiplied by the sandbox timeScale (the hourly feed window). */
  scaled?: boolean;
};

const MINUTE = 60_000;
const HOUR = 3_600_000;

/**
 * Defaults. Inventory 200/min and orders 5000/min are third-party figures (marketplaces.md §4.5),
 * 10 inventory feeds per hour is Walmart's; the rest are our choice (generous).
 */
export const DEFAULT_BUCKETS: Record<Operation, BucketConfig> = {
  token: { capacity: 1000, windowMs: MINUTE },
  "items.list": { capacity: 1000, windowMs: MINUTE },
  "items.get": { capacity: 1000, windowMs: MINUTE },
  "inventory.get": { capacity: 200, windowMs: MINUTE },
  "inventory.update": { capacity: 200, windowMs: MINUTE },
  "inventories.list": { capacity: 200, windowMs: MINUTE },
  "inventories.get": { capacity: 200, windowMs: MINUTE },
  "inventories.update": { capacity: 200, windowMs: MINUTE },
  "feeds.submit": { capacity: 10, windowMs: HOUR, scaled: true },
  "feeds.list": { capacity: 1000, windowMs: MINUTE },
  "feeds.status": { capacity: 1000, windowMs: MINUTE },
  "orders.list": { capacity: 5000, windowMs: MINUTE },
  "orders.get": { capacity: 5000, windowMs: MINUTE },
  "webhooks.create": { capacity: 1000, windowMs: MINUTE },
  "webhooks.list": { capacity: 1000, windowMs: MINUTE },
  "webhooks.update": { capacity: 1000, windowMs: MINUTE },
  "webhooks.delete": { capacity: 1000, windowMs: MINUTE },
  "webhooks.test": { capacity: 1000, windowMs: MINUTE },
  "webhooks.eventTypes": { capacity: 1000, windowMs: MINUTE },
};

export type TakeResult = {
  ok: boolean;
  /** Whole tokens left after this request. */
  tokens: number;
  nextReplenishAt: number;
  /** When !ok: ms until one token is available. */
  retryAfterMs: number;
};

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    public config: BucketConfig,
    private readonly timeScale: () => number,
    now: number,
  ) {
    this.tokens = config.capacity;
    this.updatedAt = now;
  }

  windowMs(): number {
    return this.config.scaled ? this.config.windowMs * this.timeScale() : this.config.windowMs;
  }

  /** Tokens per ms. */
  private rate(): number {
    return this.config.capacity / Math.max(1e-6, this.windowMs());
  }

  private refill(now: number): void {
    if (now > this.updatedAt) {
      this.tokens = Math.min(
        this.config.capacity,
        this.tokens + (now - this.updatedAt) * this.rate(),
      );
    }
    this.updatedAt = Math.max(this.updatedAt, now);
  }

  private nextReplenishAt(now: number): number {
    if (this.tokens >= this.config.capacity) return now;
    const missing = 1 - (this.tokens - Math.floor(this.tokens));
    return Math.ceil(now + missing / this.rate());
  }

  take(now: number): TakeResult {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return {
        ok: true,
        tokens: Math.floor(this.tokens),
        nextReplenishAt: this.nextReplenishAt(now),
        retryAfterMs: 0,
      };
    }
    const retryAfterMs = Math.max(1, Math.ceil((1 - this.tokens) / this.rate()));
    return { ok: false, tokens: 0, nextReplenishAt: this.nextReplenishAt(now), retryAfterMs };
  }

  status(now: number) {
    this.refill(now);
    return {
      ...this.config,
      effectiveWindowMs: this.windowMs(),
      tokens: Math.floor(this.tokens),
      nextReplenishAt: this.nextReplenishAt(now),
    };
  }

  /** Reconfigures; `tokens` (default: unchanged, capped) sets the current count. */
  configure(config: Partial<BucketConfig>, now: number, tokens?: number): void {
    this.refill(now);
    this.config = { ...this.config, ...config };
    this.tokens = Math.min(this.config.capacity, tokens ?? this.tokens);
  }
}

export function isOperation(value: unknown): value is Operation {
  return typeof value === "string" && (OPERATIONS as readonly string[]).includes(value);
}

/**
 * One GraphQL cost budget per shop, shared by every worker process through Redis.
 *
 * Before a request we reserve its estimated cost from a leaky bucket mirroring Shopify's
 * (refilling at `restoreRate` points/s up to `maximumAvailable`); when the bucket cannot cover
 * it we wait instead of sending, so a known budget never produces THROTTLED. Every response's
 * `throttleStatus` overwrites our estimate: Shopify's number is the truth, ours only fills the
 * gaps between responses. Limits are learnt from responses, never hard-coded; until the first
 * response we assume Shopify's smallest documented plan (100 points/s, bucket 2,000 — see
 * platform/shopify.md §7).
 */
import type { Redis } from "ioredis";
import { ChannelThrottledError } from "../errors";
import type { ShopifyCost } from "./client.server";

const DEFAULT_MAX = 2_000;
const DEFAULT_RESTORE = 100;

const RESERVE = `
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'available', 'max', 'restore', 'ts')
local max = tonumber(b[2]) or tonumber(ARGV[3])
local restore = tonumber(b[3]) or tonumber(ARGV[4])
local available = tonumber(b[1]) or max
local ts = tonumber(b[4]) or now
available = math.min(max, available + math.max(0, now - ts) * restore / 1000)
local wait = 0
if available >= cost then
  available = available - cost
else
  wait = math.ceil((cost - available) * 1000 / restore)
end
redis.call('HSET', KEYS[1], 'available', available, 'max', max, 'restore', restore, 'ts', now)
redis.call('PEXPIRE', KEYS[1], 3600000)
return wait
`;

export type BudgetSnapshot = { available: number; max: number; restore: number };

export class ShopifyBudget {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(shop: string): string {
    return `${this.prefix}:budget:${shop}`;
  }

  /** Reserves `cost` points or throws ChannelThrottledError with the wait until they refill. */
  async reserve(shop: string, cost: number): Promise<void> {
    const wait = Number(
      await this.redis.eval(
        RESERVE,
        1,
        this.key(shop),
        Date.now(),
        Math.max(1, cost),
        DEFAULT_MAX,
        DEFAULT_RESTORE,
      ),
    );
    if (wait > 0) {
      throw new ChannelThrottledError(
        "Shopify cost budget exhausted; waiting for it to refill",
        wait,
        {
          shop,
          cost,
          source: "budget",
        },
      );
    }
  }

  /** Shopify's own view after a response. */
  async observe(shop: string, cost: ShopifyCost): Promise<void> {
    const { currentlyAvailable, maximumAvailable, restoreRate } = cost.throttleStatus;
    await this.redis.hset(this.key(shop), {
      available: currentlyAvailable,
      max: maximumAvailable,
      restore: restoreRate,
      ts: Date.now(),
    });
  }

  async snapshot(shop: string): Promise<BudgetSnapshot | null> {
    const b = await this.redis.hmget(this.key(shop), "available", "max", "restore");
    if (b[0] === null) return null;
    return { available: Number(b[0]), max: Number(b[1]), restore: Number(b[2]) };
  }
}

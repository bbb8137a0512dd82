/**
 * Token buckets in Redis, shared by every worker process: one per (channel account, operation),
 * with the channel's documented rate and burst (Amazon patchListingsItem 5/s burst 5, Walmart
 * inventory 200/min, …). A call takes a token before it is sent; when none is left the caller is
 * told how long to wait, and throws `ChannelThrottledError` (the job is delayed without using an
 * attempt) or waits in place. A 429 from the channel empties the bucket for its `Retry-After`.
 */
import { ChannelThrottledError } from "../channels/errors";
import { env } from "../env.server";
import { sharedRedis } from "./locks.server";

export type BucketLimit = { perSecond: number; burst: number };

const TAKE = `
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'blocked')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
local blocked = tonumber(b[3]) or 0
if blocked > now then return blocked - now end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local wait = 0
if tokens >= cost then tokens = tokens - cost else wait = math.ceil((cost - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now, 'blocked', 0)
redis.call('PEXPIRE', KEYS[1], 3600000)
return wait
`;

const BLOCK = `
redis.call('HSET', KEYS[1], 'tokens', 0, 'ts', ARGV[1], 'blocked', tonumber(ARGV[1]) + tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], 3600000)
return 1
`;

function key(scope: string, operation: string): string {
  return `${env().QUEUE_PREFIX}:rate:${scope}:${operation}`;
}

/** Takes `cost` tokens; returns 0, or the milliseconds to wait before they exist. */
export async function takeTokens(
  scope: string,
  operation: string,
  limit: BucketLimit,
  cost = 1,
): Promise<number> {
  return Number(
    await sharedRedis().eval(
      TAKE,
      1,
      key(scope, operation),
      Date.now(),
      limit.perSecond,
      limit.burst,
      cost,
    ),
  );
}

/**
 * Takes a token or throws `ChannelThrottledError`; with `waitMs` it first waits in place up to
 * that long (whole-catalog imports, which cannot resume half-way).
 */
export async function acquire(
  scope: string,
  operation: string,
  limit: BucketLimit,
  waitMs = 0,
): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const wait = await takeTokens(scope, operation, limit);
    if (wait === 0) return;
    if (Date.now() + wait > deadline) {
      throw new ChannelThrottledError(`${operation}: rate limit of ${scope}`, wait, {
        source: "budget",
      });
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** The channel answered 429: nobody sends this operation for `retryAfterMs`. */
export async function block(scope: string, operation: string, retryAfterMs: number): Promise<void> {
  await sharedRedis().eval(BLOCK, 1, key(scope, operation), Date.now(), Math.max(0, retryAfterMs));
}

/**
 * Fair use of a worker's ingest slots across shops: one shop may hold at most all but
 * `RESERVED_SLOTS` of them at once, so another shop's order always finds a free slot while one
 * shop floods (with the per-shop priority numbers given at enqueue, app/queues/jobs.server.ts).
 * A job over its shop's share waits a moment without using an attempt.
 */
import { ChannelThrottledError } from "../app/channels/errors";

const RESERVED_SLOTS = 2;

/** The job's shop already uses its share of this worker's slots. */
export class ShopShareExceededError extends ChannelThrottledError {
  constructor(shopId: string) {
    super(`shop ${shopId} uses its share of this worker's ingest slots`, 25, {
      source: "fairness",
    });
  }
}

export class ShopShares {
  private readonly active = new Map<string, number>();

  constructor(private readonly concurrency: number) {}

  get share(): number {
    return Math.max(1, this.concurrency - RESERVED_SLOTS);
  }

  /** Runs `work` in one of the shop's slots, or throws ShopShareExceededError. */
  async run<T>(shopId: string | undefined, work: () => Promise<T>): Promise<T> {
    if (!shopId) return work();
    const used = this.active.get(shopId) ?? 0;
    if (used >= this.share) throw new ShopShareExceededError(shopId);
    this.active.set(shopId, used + 1);
    try {
      return await work();
    } finally {
      const left = (this.active.get(shopId) ?? 1) - 1;
      if (left <= 0) this.active.delete(shopId);
      else this.active.set(shopId, left);
    }
  }
}

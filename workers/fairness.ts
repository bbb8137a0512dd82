/**
 * Fair use of a worker's ingest slots across shops: one shop may hold at most all but
 * `RESERVED_FOR_OTHER_SHOPS` of them at once, so another shop's order always finds a free slot
 * while one shop floods (with the per-shop priority numbers given at enqueue,
 * app/queues/jobs.server.ts).
 * A job over its shop's share waits a moment without using an attempt.
 */
import { ChannelThrottledError } from "../app/channels/errors";
import { RESERVED_FOR_OTHER_SHOPS, ShopSlots } from "../app/lib/shop-slots";

/** The job's shop already uses its share of this worker's slots. */
export class ShopShareExceededError extends ChannelThrottledError {
  constructor(shopId: string) {
    super(`shop ${shopId} uses its share of this worker's ingest slots`, 25, {
      source: "fairness",
    });
  }
}

export class ShopShares {
  private readonly slots: ShopSlots;

  constructor(concurrency: number) {
    // BullMQ bounds the total; only one shop's share is counted here.
    this.slots = new ShopSlots(Infinity, concurrency - RESERVED_FOR_OTHER_SHOPS);
  }

  get share(): number {
    return this.slots.perShop;
  }

  /** Runs `work` in one of the shop's slots, or throws ShopShareExceededError. */
  async run<T>(shopId: string | undefined, work: () => Promise<T>): Promise<T> {
    if (!shopId) return work();
    if (!this.slots.tryTake(shopId)) throw new ShopShareExceededError(shopId);
    try {
      return await work();
    } finally {
      this.slots.release(shopId);
    }
  }
}

/**
 * Slots one shop may never take, so another shop's receipt always finds one while a shop floods.
 * A fixed few rather than a share: a busy shop alone (the common case) keeps the rest of them.
 */
export const RESERVED_FOR_OTHER_SHOPS = 2;

/**
 * Slots shared fairly across shops: at most `perShop` held by one shop and `total` in all (the
 * web's fast lane, decision 0011, and a worker's ingest slots, workers/fairness.ts).
 */
export class ShopSlots {
  private used = 0;
  private readonly byShop = new Map<string, number>();
  /** Most slots one shop may hold (default: all but RESERVED_FOR_OTHER_SHOPS, decision 0026). */
  readonly perShop: number;

  constructor(
    private readonly total: number,
    perShop = total - RESERVED_FOR_OTHER_SHOPS,
  ) {
    this.perShop = Math.max(1, perShop);
  }

  get inUse(): number {
    return this.used;
  }

  tryTake(shopId: string): boolean {
    const held = this.byShop.get(shopId) ?? 0;
    if (this.used >= this.total || held >= this.perShop) return false;
    this.used++;
    this.byShop.set(shopId, held + 1);
    return true;
  }

  release(shopId: string): void {
    this.used = Math.max(0, this.used - 1);
    const left = (this.byShop.get(shopId) ?? 1) - 1;
    if (left <= 0) this.byShop.delete(shopId);
    else this.byShop.set(shopId, left);
  }
}

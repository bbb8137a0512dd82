/**
 * Low stock across channels (the Flow trigger "Stock ran low across channels"): an item is low
 * when what every channel may still sell of it lasts no longer than the cover the merchant wants
 * at its recent sales rate. Episodes have hysteresis by construction: an item enters a low
 * episode once and leaves it only when it is no longer low, so one drop fires one trigger.
 * Pure: the service feeds it the ledger's figures.
 */

export type LowStockParams = {
  /** Sales window the rate is taken over, in days. */
  windowDays: number;
  /** Low when the units left last this many days or fewer (0 disables). */
  coverDays: number;
};

export type LowStockCandidate = {
  itemId: string;
  /** Available to sell across every location (may be negative: oversold). */
  ats: number;
  /** Units sold on every channel during the window (opening balances excluded). */
  unitsSold: number;
  /** The item is in a low episode now. */
  wasLow: boolean;
};

/** Units sold per day over the window. */
export function dailyRate(unitsSold: number, windowDays: number): number {
  if (windowDays <= 0) return 0;
  return Math.max(0, unitsSold) / windowDays;
}

/** Days the units left last at `rate` per day (Infinity when nothing sells, 0 when none left). */
export function daysOfCover(ats: number, rate: number): number {
  if (ats <= 0) return 0;
  if (rate <= 0) return Number.POSITIVE_INFINITY;
  return ats / rate;
}

/** Low: the item sells, and what is left lasts no longer than the wanted cover. */
export function isLow(ats: number, unitsSold: number, params: LowStockParams): boolean {
  if (params.coverDays <= 0) return false;
  const rate = dailyRate(unitsSold, params.windowDays);
  return rate > 0 && daysOfCover(ats, rate) <= params.coverDays;
}

/** Which items start a low episode now, and which end theirs. */
export function lowStockTransitions(
  candidates: LowStockCandidate[],
  params: LowStockParams,
): { entered: (LowStockCandidate & { daysOfCover: number })[]; cleared: string[] } {
  const entered: (LowStockCandidate & { daysOfCover: number })[] = [];
  const cleared: string[] = [];
  for (const c of candidates) {
    const low = isLow(c.ats, c.unitsSold, params);
    if (low && !c.wasLow)
      entered.push({
        ...c,
        daysOfCover: daysOfCover(c.ats, dailyRate(c.unitsSold, params.windowDays)),
      });
    else if (!low && c.wasLow) cleared.push(c.itemId);
  }
  return { entered, cleared };
}

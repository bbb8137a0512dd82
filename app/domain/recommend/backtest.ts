/**
 * Backtester for buffer policies: replays an order stream (buyers who buy when their channel
 * shows enough) against channels that learn of each other's sales after a delay, under a given
 * buffer policy, and counts oversold units, orders to cancel, and unit-minutes of stock hidden
 * (sellable units a channel did not show). Event-driven and exact between events; pure and
 * deterministic (delays jitter from a seeded generator).
 */
import { publishedQuantity } from "../buffers";
import type { BufferPolicy } from "../types";

export type BacktestChannel = {
  id: string;
  /** Mean delay until the ledger learns of a sale on this channel. */
  inMs: number;
  /** Mean delay from a ledger change until this channel shows the new quantity. */
  outMs: number;
  /**
   * Writes are compare-and-set (Shopify): a push never overwrites the channel's own sales the
   * ledger has not learnt yet (the write is refused as stale and replanned, issue 11's hold).
   * Without it (default true) a late push can raise the channel above what is left.
   */
  compareAndSet?: boolean;
};

export type Arrival = { at: number; channelId: string; sku: string; units: number };

export type SyncMode =
  /** Event-driven (StockGuard): each sale is learnt after `inMs`, then pushed after `outMs`. */
  | { kind: "event"; jitter?: number; seed?: number }
  /** A poller: every `everyMs` it reads all orders and sets every channel to stock − sold. */
  | { kind: "poll"; everyMs: number };

export type BacktestInput = {
  /** Units of each SKU at the start (no restock during the run). */
  stock: Record<string, number>;
  channels: readonly BacktestChannel[];
  arrivals: readonly Arrival[];
  horizonMs: number;
  /** The buffer policy each (channel, SKU) listing gets; none = show the full ATS. */
  policy?: (channelId: string, sku: string) => BufferPolicy;
  mode: SyncMode;
};

export type SkuOutcome = {
  oversoldUnits: number;
  ordersCancelled: number;
  hiddenUnitMinutes: number;
  existedUnitMinutes: number;
  sold: number;
};

export type BacktestResult = {
  oversoldUnits: number;
  ordersCancelled: number;
  /** Σ over channels and time of (sellable units − units the channel showed)+, in unit-minutes. */
  hiddenUnitMinutes: number;
  /** Σ over channels and time of sellable units (what could have been shown), unit-minutes. */
  existedUnitMinutes: number;
  /** hidden ÷ existed (0 when nothing existed). */
  hiddenShare: number;
  orders: number;
  refused: number;
  perSku: Record<string, SkuOutcome>;
};

type Event =
  | { at: number; seq: number; type: "arrival"; arrival: Arrival }
  | { at: number; seq: number; type: "learn"; sku: string; units: number; channel: number }
  | { at: number; seq: number; type: "push"; sku: string; channel: number }
  | { at: number; seq: number; type: "poll" };

/** A binary min-heap on (at, seq). */
class Queue {
  private items: Event[] = [];
  push(e: Event): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Event | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(x: Event, y: Event): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

/** A small seeded generator (mulberry32): same seed, same delays. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * One delay around `mean`: with jitter j, mean·(1 − j + j·E), E ~ Exp(1) (so the mean stays
 * `mean` and the tail grows with j); exactly `mean` without jitter.
 */
export function jitteredDelay(mean: number, jitter: number, random: () => number): number {
  if (jitter <= 0) return mean;
  const e = -Math.log(1 - random());
  return Math.max(0, mean * (1 - jitter + jitter * e));
}

export function runBacktest(input: BacktestInput): BacktestResult {
  const skus = Object.keys(input.stock);
  const channels = input.channels;
  const index = new Map(channels.map((c, i) => [c.id, i]));
  const policy = (c: number, sku: string) => input.policy?.(channels[c]!.id, sku) ?? {};
  const random = seededRandom(input.mode.kind === "event" ? (input.mode.seed ?? 1) : 1);
  const jitter = input.mode.kind === "event" ? (input.mode.jitter ?? 0) : 0;

  const sold = new Map<string, number>();
  const known = new Map<string, number>();
  /** Per SKU and channel: its own sales the ledger has not learnt yet. */
  const unlearnt = new Map<string, number[]>();
  const shown = new Map<string, number[]>();
  const outcome = new Map<string, SkuOutcome>();
  const hiddenRate = new Map<string, number>();
  const existedRate = new Map<string, number>();
  let totalHiddenRate = 0;
  let totalExistedRate = 0;

  const stockOf = (sku: string) => input.stock[sku] ?? 0;
  const rates = (sku: string) => {
    const remaining = Math.max(0, stockOf(sku) - (sold.get(sku) ?? 0));
    const display = shown.get(sku)!;
    let hidden = 0;
    for (const q of display) hidden += Math.max(0, remaining - Math.max(0, q));
    return { hidden, existed: remaining * display.length };
  };
  const refresh = (sku: string) => {
    const r = rates(sku);
    totalHiddenRate += r.hidden - (hiddenRate.get(sku) ?? 0);
    totalExistedRate += r.existed - (existedRate.get(sku) ?? 0);
    hiddenRate.set(sku, r.hidden);
    existedRate.set(sku, r.existed);
  };
  const ensure = (sku: string) => {
    if (shown.has(sku)) return;
    sold.set(sku, 0);
    known.set(sku, 0);
    unlearnt.set(
      sku,
      channels.map(() => 0),
    );
    shown.set(
      sku,
      channels.map((_, c) => publishedQuantity(stockOf(sku), policy(c, sku))),
    );
    outcome.set(sku, {
      oversoldUnits: 0,
      ordersCancelled: 0,
      hiddenUnitMinutes: 0,
      existedUnitMinutes: 0,
      sold: 0,
    });
    refresh(sku);
  };
  for (const sku of skus) ensure(sku);

  const queue = new Queue();
  let seq = 0;
  for (const arrival of input.arrivals) {
    if (arrival.at < 0 || arrival.at > input.horizonMs || !index.has(arrival.channelId)) continue;
    queue.push({ at: arrival.at, seq: seq++, type: "arrival", arrival });
  }
  if (input.mode.kind === "poll") {
    for (let t = input.mode.everyMs; t <= input.horizonMs; t += input.mode.everyMs)
      queue.push({ at: t, seq: seq++, type: "poll" });
  }

  let now = 0;
  let hiddenTotal = 0;
  let existedTotal = 0;
  const perSkuTime = new Map<string, number>();
  // Per-SKU integrals are settled lazily: when the SKU changes, and at the end.
  const settle = (sku: string, at: number) => {
    const since = perSkuTime.get(sku) ?? 0;
    const o = outcome.get(sku)!;
    const minutes = (at - since) / 60_000;
    o.hiddenUnitMinutes += (hiddenRate.get(sku) ?? 0) * minutes;
    o.existedUnitMinutes += (existedRate.get(sku) ?? 0) * minutes;
    perSkuTime.set(sku, at);
  };
  let orders = 0;
  let refused = 0;

  for (let event = queue.pop(); event; event = queue.pop()) {
    if (event.at > input.horizonMs) break;
    const minutes = (event.at - now) / 60_000;
    hiddenTotal += totalHiddenRate * minutes;
    existedTotal += totalExistedRate * minutes;
    now = event.at;

    if (event.type === "arrival") {
      const { sku, units, channelId } = event.arrival;
      ensure(sku);
      const c = index.get(channelId)!;
      const display = shown.get(sku)!;
      if (units <= 0 || display[c]! < units) {
        refused++;
        continue;
      }
      settle(sku, now);
      orders++;
      const o = outcome.get(sku)!;
      const before = sold.get(sku)!;
      const after = before + units;
      sold.set(sku, after);
      o.sold = after;
      const over = Math.max(0, after - Math.max(stockOf(sku), before));
      if (over > 0) {
        o.oversoldUnits += over;
        o.ordersCancelled += 1;
      }
      // The channel's own checkout lowers what it shows at once.
      display[c] = display[c]! - units;
      refresh(sku);
      if (input.mode.kind === "event") {
        const learnAt = now + jitteredDelay(channels[c]!.inMs, jitter, random);
        unlearnt.get(sku)![c]! += units;
        queue.push({ at: learnAt, seq: seq++, type: "learn", sku, units, channel: c });
      }
    } else if (event.type === "learn") {
      known.set(event.sku, known.get(event.sku)! + event.units);
      unlearnt.get(event.sku)![event.channel]! -= event.units;
      for (let c = 0; c < channels.length; c++) {
        const at = now + jitteredDelay(channels[c]!.outMs, jitter, random);
        queue.push({ at, seq: seq++, type: "push", sku: event.sku, channel: c });
      }
    } else if (event.type === "push") {
      // Pushes read the ledger when they run (jobs carry keys, not quantities).
      settle(event.sku, now);
      const c = event.channel;
      const own = channels[c]!.compareAndSet === false ? 0 : unlearnt.get(event.sku)![c]!;
      const ats = stockOf(event.sku) - known.get(event.sku)! - own;
      shown.get(event.sku)![c] = publishedQuantity(ats, policy(c, event.sku));
      refresh(event.sku);
    } else {
      for (const sku of shown.keys()) {
        settle(sku, now);
        known.set(sku, sold.get(sku)!);
        const ats = stockOf(sku) - sold.get(sku)!;
        shown.set(
          sku,
          channels.map((_, c) => publishedQuantity(ats, policy(c, sku))),
        );
        refresh(sku);
      }
    }
  }
  const end = input.horizonMs;
  hiddenTotal += totalHiddenRate * ((end - now) / 60_000);
  existedTotal += totalExistedRate * ((end - now) / 60_000);
  for (const sku of shown.keys()) settle(sku, end);

  const perSku: Record<string, SkuOutcome> = {};
  let oversoldUnits = 0;
  let ordersCancelled = 0;
  for (const [sku, o] of outcome) {
    perSku[sku] = o;
    oversoldUnits += o.oversoldUnits;
    ordersCancelled += o.ordersCancelled;
  }
  return {
    oversoldUnits,
    ordersCancelled,
    hiddenUnitMinutes: hiddenTotal,
    existedUnitMinutes: existedTotal,
    hiddenShare: existedTotal > 0 ? hiddenTotal / existedTotal : 0,
    orders,
    refused,
    perSku,
  };
}

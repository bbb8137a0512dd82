/**
 * A bound on how many tasks run at once; the rest start as places free up, urgent ones first,
 * each class in arrival order, but a normal task that has waited `maxBypassMs` is not passed over
 * any more (it cannot starve). Pure: the clock is given, no timers, no I/O.
 *
 * The web puts its flood webhooks through one (`WEB_WEBHOOK_CONCURRENCY`): Shopify keeps its
 * connections alive and sends on many at once, so without a bound every delivery it has in
 * flight would be inside the process together, each slower, none first (decision 0025).
 */
type Waiter = { start: () => void; since: number };

/** Waiters in arrival order (a head index instead of `shift`, compacted now and then). */
class Fifo {
  private items: Waiter[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  peek(): Waiter | undefined {
    return this.items[this.head];
  }

  push(waiter: Waiter): void {
    this.items.push(waiter);
  }

  shift(): Waiter | undefined {
    const waiter = this.items[this.head];
    if (!waiter) return undefined;
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return waiter;
  }
}

export class Admission {
  private running = 0;
  private readonly urgent = new Fifo();
  private readonly normal = new Fifo();
  private readonly maxBypassMs: number;
  private readonly now: () => number;

  constructor(
    readonly limit: number,
    options: { maxBypassMs?: number; now?: () => number } = {},
  ) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError("limit must be a positive integer");
    this.maxBypassMs = options.maxBypassMs ?? Infinity;
    this.now = options.now ?? (() => performance.now());
  }

  /** Tasks started and not finished. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a place. */
  get waiting(): number {
    return this.urgent.size + this.normal.size;
  }

  /**
   * Runs `task` once a place is free (at once if one is); the place is held until it settles.
   * An urgent task goes before every waiting normal one that has not waited `maxBypassMs` yet.
   */
  async run<T>(task: () => Promise<T>, urgent = false): Promise<T> {
    if (this.running < this.limit) this.running += 1;
    else
      await new Promise<void>((start) =>
        (urgent ? this.urgent : this.normal).push({ start, since: this.now() }),
      );
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const normal = this.normal.peek();
    const overdue = normal !== undefined && this.now() - normal.since >= this.maxBypassMs;
    const next = (overdue ? undefined : this.urgent.shift()) ?? this.normal.shift();
    // The place passes straight to the next in line: `running` does not change.
    if (next) next.start();
    else this.running -= 1;
  }
}

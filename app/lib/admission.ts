/**
 * A bound on how many tasks run at once, the rest started in arrival order as places free up.
 * Pure: no timers, no I/O. The web puts its flood webhooks through one (`WEB_WEBHOOK_CONCURRENCY`):
 * Shopify keeps its connections alive and sends on many at once, so without a bound every
 * delivery it has in flight would be inside the process together, each slower, none first.
 */
export class Admission {
  private running = 0;
  private readonly queue: (() => void)[] = [];
  private head = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError("limit must be a positive integer");
  }

  /** Tasks started and not finished. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a place. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Runs `task` once a place is free (at once if one is); the place is held until it settles. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running += 1;
    else await new Promise<void>((start) => this.queue.push(start));
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private release(): void {
    if (this.head < this.queue.length) {
      // The place passes straight to the next in line: `running` does not change.
      const next = this.queue[this.head]!;
      this.head += 1;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      next();
    } else this.running -= 1;
  }
}

/**
 * Timers of the local Amazon. Tracked timers (patch applications, feed steps, notification
 * deliveries) are what `waitForIdle()` waits for; untracked ones (Pending-order confirmation)
 * are not. `clear()` drops every timer when the server closes or resets.
 */
export class Scheduler {
  private readonly timers = new Map<ReturnType<typeof setTimeout>, boolean>();
  private tracked = 0;
  private idleWaiters: (() => void)[] = [];

  /** Runs `fn` after `ms` (>= 0). Returns a cancel function. */
  after(ms: number, fn: () => void, track = true): () => void {
    if (track) this.tracked += 1;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        try {
          fn();
        } catch (error) {
          console.error("local amazon: scheduled task failed", error);
        } finally {
          if (track) this.done();
        }
      },
      Math.max(0, ms),
    );
    this.timers.set(timer, track);
    return () => {
      if (!this.timers.has(timer)) return;
      clearTimeout(timer);
      this.timers.delete(timer);
      if (track) this.done();
    };
  }

  get pending(): number {
    return this.tracked;
  }

  /** Resolves true once no tracked timer is pending, false after `timeoutMs`. */
  waitForIdle(timeoutMs = 10_000): Promise<boolean> {
    if (this.tracked === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = (): void => {
        clearTimeout(timeout);
        resolve(true);
      };
      const timeout = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      this.idleWaiters.push(waiter);
    });
  }

  clear(): void {
    for (const timer of this.timers.keys()) clearTimeout(timer);
    this.timers.clear();
    this.tracked = 0;
    this.flushIdle();
  }

  private done(): void {
    this.tracked = Math.max(0, this.tracked - 1);
    if (this.tracked === 0) this.flushIdle();
  }

  private flushIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const waiter of waiters) waiter();
  }
}

type LaneItem = { due: number; run: () => void; done: boolean };

/**
 * Per-key ordering on top of a Scheduler: items of one key run in the order they were added,
 * each no earlier than its due time (timers that fire out of order run the earlier items first).
 */
export class Lanes {
  private readonly lanes = new Map<string, LaneItem[]>();
  private readonly lastDue = new Map<string, number>();

  /** Schedules `run` at `due` (pushed back to the key's previous due time); returns the due time. */
  add(scheduler: Scheduler, key: string, due: number, run: () => void): number {
    const at = Math.max(due, this.lastDue.get(key) ?? 0);
    this.lastDue.set(key, at);
    const item: LaneItem = { due: at, run, done: false };
    const lane = this.lanes.get(key) ?? [];
    lane.push(item);
    this.lanes.set(key, lane);
    scheduler.after(at - Date.now(), () => this.flush(key, item));
    return at;
  }

  private flush(key: string, upTo: LaneItem): void {
    if (upTo.done) return;
    const lane = this.lanes.get(key) ?? [];
    while (lane.length > 0) {
      const item = lane.shift() as LaneItem;
      item.done = true;
      item.run();
      if (item === upTo) break;
    }
    if (lane.length === 0) this.lanes.delete(key);
  }

  clear(): void {
    this.lanes.clear();
    this.lastDue.clear();
  }
}

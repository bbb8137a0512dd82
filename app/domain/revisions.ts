/**
 * Daily revision budgets (eBay: 250 revisions per listing per calendar day, then the listing is
 * blocked until the next day). A hot SKU selling all day must never exceed the budget and must
 * never be left showing stock it lacks, so writes are paced harder as the budget runs low, and a
 * reserve is kept for the one write that matters most: dropping to zero.
 *
 * - used ≥ budget: nothing until the next day.
 * - target 0: always written while any revision is left (the reserve exists for this).
 * - used ≥ budget − reserve: only drops to zero.
 * - otherwise a listing may have used, by a moment of its day, its allowance: a `burst` (by
 *   default a fifth of budget − reserve) plus the rest of budget − reserve earned evenly over the
 *   day. Within the allowance a change is written at once (one write per `minIntervalMs`, the
 *   coalescing window), so a listing that changes a few dozen times a day is never held back;
 *   a listing that outruns it waits until the allowance catches up, and by then the write carries
 *   the newest value (last value wins). Because the allowance never passes budget − reserve and
 *   grows only with the time of day, a listing always keeps revisions for the rest of its day
 *   ((budget − reserve − burst) × the fraction of the day left) and the reserve for zeros.
 */
export type RevisionBudget = {
  perDay: number;
  /** Revisions kept for drops to zero. */
  reserve: number;
  /** Shortest spacing between two writes of one listing (the coalescing window). */
  minIntervalMs: number;
  /** Revisions a listing may spend at once before the day's pace applies (default: a fifth). */
  burst?: number;
};

export type RevisionDecision = { write: true } | { write: false; retryAt: Date };

const DAY_MS = 86_400_000;

/** Non-zero writes a listing may have made by `now` (see the header). */
export function revisionAllowance(budget: RevisionBudget, now: Date, dayEndsAt: Date): number {
  const capacity = Math.max(0, budget.perDay - budget.reserve);
  const burst = Math.min(capacity, Math.max(1, budget.burst ?? Math.floor(capacity / 5)));
  const elapsed = Math.min(
    1,
    Math.max(0, (now.getTime() - (dayEndsAt.getTime() - DAY_MS)) / DAY_MS),
  );
  return burst + (capacity - burst) * elapsed;
}

export function revisionDecision(input: {
  budget: RevisionBudget;
  used: number;
  target: number;
  lastWriteAt: Date | null;
  now: Date;
  /** When the channel's calendar day ends. */
  dayEndsAt: Date;
}): RevisionDecision {
  const { budget, used, target, lastWriteAt, now, dayEndsAt } = input;
  const nextDay = new Date(Math.max(dayEndsAt.getTime(), now.getTime() + 1));
  if (used >= budget.perDay) return { write: false, retryAt: nextDay };
  if (target <= 0) return { write: true };
  const capacity = budget.perDay - budget.reserve;
  if (used >= capacity) return { write: false, retryAt: nextDay };
  const spacedUntil = lastWriteAt === null ? 0 : lastWriteAt.getTime() + budget.minIntervalMs;
  if (used + 1 <= revisionAllowance(budget, now, dayEndsAt)) {
    return spacedUntil <= now.getTime()
      ? { write: true }
      : { write: false, retryAt: new Date(spacedUntil) };
  }
  // When the allowance reaches used + 1: burst + (capacity − burst) × elapsed = used + 1.
  const burst = Math.min(capacity, Math.max(1, budget.burst ?? Math.floor(capacity / 5)));
  const fraction = capacity > burst ? (used + 1 - burst) / (capacity - burst) : 1;
  const earned = Math.ceil(dayEndsAt.getTime() - DAY_MS + fraction * DAY_MS);
  if (earned >= dayEndsAt.getTime()) return { write: false, retryAt: nextDay };
  return {
    write: false,
    retryAt: new Date(Math.max(earned, spacedUntil, now.getTime() + 1)),
  };
}

/** The calendar day (YYYY-MM-DD) of `at` in `timeZone`, and when that day ends. */
export function calendarDay(at: Date, timeZone: string): { day: string; endsAt: Date } {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const day = `${String(get("year")).padStart(4, "0")}-${String(get("month")).padStart(2, "0")}-${String(get("day")).padStart(2, "0")}`;
  const elapsedMs =
    ((get("hour") * 60 + get("minute")) * 60 + get("second")) * 1000 + at.getUTCMilliseconds();
  return { day, endsAt: new Date(at.getTime() - elapsedMs + 86_400_000) };
}

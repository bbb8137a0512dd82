/**
 * Daily revision budgets (eBay: 250 revisions per listing per calendar day, then the listing is
 * blocked until the next day). A hot SKU selling all day must never exceed the budget and must
 * never be left showing stock it lacks, so writes are paced harder as the budget runs low, and a
 * reserve is kept for the one write that matters most: dropping to zero.
 *
 * - used ≥ budget: nothing until the next day.
 * - target 0: always written while any revision is left (the reserve exists for this).
 * - used ≥ budget − reserve: only drops to zero.
 * - otherwise: at most one write per `interval`, where interval spreads the spare revisions over
 *   the rest of the day (never less than `minIntervalMs`); a write due later is deferred, and by
 *   then it carries the newest value (last value wins).
 */
export type RevisionBudget = {
  perDay: number;
  /** Revisions kept for drops to zero. */
  reserve: number;
  /** Shortest spacing between two writes of one listing (the coalescing window). */
  minIntervalMs: number;
};

export type RevisionDecision = { write: true } | { write: false; retryAt: Date };

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
  const spare = budget.perDay - budget.reserve - used;
  if (spare <= 0) return { write: false, retryAt: nextDay };
  const msLeft = Math.max(0, dayEndsAt.getTime() - now.getTime());
  const interval = Math.max(budget.minIntervalMs, Math.ceil(msLeft / spare));
  if (lastWriteAt === null) return { write: true };
  const due = lastWriteAt.getTime() + interval;
  return due <= now.getTime() ? { write: true } : { write: false, retryAt: new Date(due) };
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

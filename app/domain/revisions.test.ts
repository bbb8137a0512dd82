/** Property tests of the daily revision budget (app/domain/revisions.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { calendarDay, revisionAllowance, revisionDecision, type RevisionBudget } from "./revisions";

const BUDGET: RevisionBudget = { perDay: 250, reserve: 10, minIntervalMs: 1_000 };
const DAY_MS = 86_400_000;

/** A day of a listing whose target changes at random times; writes whenever allowed. */
function simulate(changes: { at: number; target: number }[], budget = BUDGET) {
  const start = Date.UTC(2026, 11, 1, 8, 0, 0);
  const dayEndsAt = new Date(start + DAY_MS);
  let used = 0;
  let lastWriteAt: Date | null = null;
  let shown = 10;
  let pendingRetry: number | null = null;
  const events = [...changes].sort((a, b) => a.at - b.at);
  let target = shown;
  const attempt = (now: number) => {
    if (shown === target) {
      pendingRetry = null;
      return;
    }
    const decision = revisionDecision({
      budget,
      used,
      target,
      lastWriteAt,
      now: new Date(now),
      dayEndsAt,
    });
    if (decision.write) {
      used++;
      lastWriteAt = new Date(now);
      shown = target;
      pendingRetry = null;
    } else pendingRetry = decision.retryAt.getTime();
  };
  for (const e of events) {
    while (pendingRetry !== null && pendingRetry <= start + e.at) attempt(pendingRetry);
    target = e.target;
    attempt(start + e.at);
  }
  while (pendingRetry !== null && pendingRetry < dayEndsAt.getTime()) attempt(pendingRetry);
  return { used, shown, target };
}

describe("daily revision budget", () => {
  it("never exceeds the budget, whatever the day looks like", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: DAY_MS - 1 }), target: fc.nat(20) }), {
          maxLength: 2_000,
        }),
        (changes) => {
          expect(simulate(changes).used).toBeLessThanOrEqual(BUDGET.perDay);
        },
      ),
    );
  });

  it("a SKU that sells out is shown as 0 by the end of the day, even after thousands of sales", () => {
    fc.assert(
      fc.property(fc.integer({ min: 300, max: 5_000 }), (sales) => {
        // A flash sale: the target falls one unit at a time, all day, then reaches zero.
        const changes = Array.from({ length: sales }, (_, i) => ({
          at: Math.floor(((i + 1) * (DAY_MS - 60_000)) / sales),
          target: Math.max(0, sales - 1 - i) % 7,
        }));
        changes.push({ at: DAY_MS - 30_000, target: 0 });
        const end = simulate(changes);
        expect(end.used).toBeLessThanOrEqual(BUDGET.perDay);
        expect(end.shown).toBe(0);
      }),
    );
  });

  it("writes at once while the budget is fresh, and zero always while any revision is left", () => {
    const now = new Date(Date.UTC(2026, 11, 1, 12));
    const dayEndsAt = new Date(now.getTime() + 12 * 3_600_000);
    expect(
      revisionDecision({ budget: BUDGET, used: 0, target: 3, lastWriteAt: null, now, dayEndsAt }),
    ).toEqual({ write: true });
    expect(
      revisionDecision({ budget: BUDGET, used: 245, target: 0, lastWriteAt: now, now, dayEndsAt }),
    ).toEqual({ write: true });
    expect(
      revisionDecision({ budget: BUDGET, used: 245, target: 3, lastWriteAt: now, now, dayEndsAt })
        .write,
    ).toBe(false);
    expect(
      revisionDecision({ budget: BUDGET, used: 250, target: 0, lastWriteAt: now, now, dayEndsAt }),
    ).toEqual({ write: false, retryAt: dayEndsAt });
  });

  it("writes every change at once for a listing that changes a few dozen times a day", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: DAY_MS - 1 }), { minLength: 1, maxLength: 40 }),
        (times) => {
          const start = Date.UTC(2026, 11, 1, 8, 0, 0);
          const dayEndsAt = new Date(start + DAY_MS);
          let used = 0;
          let lastWriteAt: Date | null = null;
          for (const [i, at] of [...times].sort((a, b) => a - b).entries()) {
            // Changes at least the coalescing window apart are each written when they happen.
            if (lastWriteAt && start + at - lastWriteAt.getTime() < BUDGET.minIntervalMs) continue;
            const decision = revisionDecision({
              budget: BUDGET,
              used,
              target: 1 + (i % 5),
              lastWriteAt,
              now: new Date(start + at),
              dayEndsAt,
            });
            expect(decision).toEqual({ write: true });
            used++;
            lastWriteAt = new Date(start + at);
          }
        },
      ),
    );
  });

  it("keeps a listing that changes every minute writing all day, never past its allowance", () => {
    const start = Date.UTC(2026, 11, 1, 8, 0, 0);
    const dayEndsAt = new Date(start + DAY_MS);
    let used = 0;
    let lastWriteAt: number | null = null;
    let longestGap = 0;
    for (let at = start; at < dayEndsAt.getTime(); at += 60_000) {
      const now = new Date(at);
      const decision = revisionDecision({
        budget: BUDGET,
        used,
        target: 5 + ((at / 60_000) % 3),
        lastWriteAt: lastWriteAt === null ? null : new Date(lastWriteAt),
        now,
        dayEndsAt,
      });
      if (!decision.write) continue;
      used++;
      expect(used).toBeLessThanOrEqual(revisionAllowance(BUDGET, now, dayEndsAt));
      if (lastWriteAt !== null) longestGap = Math.max(longestGap, at - lastWriteAt);
      lastWriteAt = at;
    }
    // Burst of 48 first, then the pace of the remaining 192 over the day (one per 7.5 min).
    expect(used).toBeLessThanOrEqual(BUDGET.perDay - BUDGET.reserve);
    expect(used).toBeGreaterThanOrEqual(BUDGET.perDay - BUDGET.reserve - 2);
    expect(longestGap).toBeLessThanOrEqual(Math.ceil(DAY_MS / 192) + 60_000);
    // The last part of the day still gets writes: the listing is never starved before midnight.
    expect(lastWriteAt).toBeGreaterThan(dayEndsAt.getTime() - 10 * 60_000);
  });

  it("names the calendar day in the channel's time zone", () => {
    const at = new Date("2026-12-01T07:30:00Z"); // 23:30 the day before in Los Angeles
    const { day, endsAt } = calendarDay(at, "America/Los_Angeles");
    expect(day).toBe("2026-11-30");
    expect(endsAt.toISOString()).toBe("2026-12-01T08:00:00.000Z");
  });
});

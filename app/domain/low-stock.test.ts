import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { daysOfCover, isLow, lowStockTransitions, type LowStockCandidate } from "./low-stock";

const params = { windowDays: 14, coverDays: 7 };
const candidate = fc.record({
  itemId: fc.uuid(),
  ats: fc.integer({ min: -50, max: 500 }),
  unitsSold: fc.integer({ min: 0, max: 1_000 }),
  wasLow: fc.boolean(),
});

describe("low stock", () => {
  it("is never low for an item that does not sell, or with cover switched off", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -50, max: 500 }),
        fc.integer({ min: 0, max: 999 }),
        (ats, sold) => {
          expect(isLow(ats, 0, params)).toBe(false);
          expect(isLow(ats, sold, { ...params, coverDays: 0 })).toBe(false);
        },
      ),
    );
  });

  it("is monotone: fewer units left or faster sales never make an item less low", () => {
    fc.assert(
      fc.property(candidate, fc.nat(20), fc.nat(50), (c, fewer, faster) => {
        if (isLow(c.ats, c.unitsSold, params)) {
          expect(isLow(c.ats - fewer, c.unitsSold, params)).toBe(true);
          expect(isLow(c.ats, c.unitsSold + faster, params)).toBe(true);
        }
      }),
    );
  });

  it("a week of cover at 1 unit a day: 7 left is low, 8 is not; none left is low", () => {
    expect(isLow(7, 14, params)).toBe(true);
    expect(isLow(8, 14, params)).toBe(false);
    expect(isLow(0, 14, params)).toBe(true);
    expect(daysOfCover(3, 1.5)).toBe(2);
  });

  it("enters an episode once and clears it only when no longer low", () => {
    fc.assert(
      fc.property(fc.array(candidate, { maxLength: 30 }), (cs: LowStockCandidate[]) => {
        const { entered, cleared } = lowStockTransitions(cs, params);
        for (const e of entered) {
          expect(e.wasLow).toBe(false);
          expect(isLow(e.ats, e.unitsSold, params)).toBe(true);
        }
        for (const id of cleared) {
          const c = cs.find((x) => x.itemId === id)!;
          expect(c.wasLow).toBe(true);
          expect(isLow(c.ats, c.unitsSold, params)).toBe(false);
        }
        // Applying the transitions and deciding again changes nothing.
        const after = cs.map((c) => ({
          ...c,
          wasLow: entered.some((e) => e.itemId === c.itemId)
            ? true
            : cleared.includes(c.itemId)
              ? false
              : c.wasLow,
        }));
        expect(lowStockTransitions(after, params)).toEqual({ entered: [], cleared: [] });
      }),
    );
  });
});

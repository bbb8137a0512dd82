/**
 * Property tests of the demand model: rates are never negative and split over channels without
 * loss, history outside the window is ignored, one more sale never lowers the rate of a SKU that
 * has enough orders, a recent burst is recognised as a flash sale, and sparse SKUs are blended
 * with their pool.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { burstRate, demandBySku, otherChannelsRate, type Sale } from "./demand";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 11, 1);

const saleArb: fc.Arbitrary<Sale> = fc.record({
  at: fc.integer({ min: NOW - 100 * DAY, max: NOW + DAY }),
  channelId: fc.constantFrom("a", "b", "c"),
  sku: fc.constantFrom("S1", "S2", "S3", "S4"),
  units: fc.integer({ min: 0, max: 5 }),
});

describe("demand by SKU and channel", () => {
  it("rates are non-negative and the channels' rates add up to the SKU's", () => {
    fc.assert(
      fc.property(fc.array(saleArb, { maxLength: 200 }), (history) => {
        for (const d of demandBySku(history, { now: NOW }).values()) {
          expect(d.ratePerHour).toBeGreaterThanOrEqual(0);
          const sum = Object.values(d.channelRates).reduce((a, b) => a + b, 0);
          if (Object.keys(d.channelRates).length > 0) expect(sum).toBeCloseTo(d.ratePerHour, 6);
          for (const r of Object.values(d.channelRates)) expect(r).toBeGreaterThanOrEqual(0);
          for (const c of ["a", "b", "c"])
            expect(otherChannelsRate(d, c)).toBeLessThanOrEqual(d.ratePerHour + 1e-9);
          expect(d.dispersion).toBeGreaterThanOrEqual(1);
        }
      }),
    );
  });

  it("ignores sales after now and before the longest window", () => {
    fc.assert(
      fc.property(fc.array(saleArb, { maxLength: 100 }), (history) => {
        const inside = history.filter((s) => s.at <= NOW && s.at > NOW - 90 * DAY);
        const outside = history.filter((s) => !(s.at <= NOW && s.at > NOW - 90 * DAY));
        const a = demandBySku(inside, { now: NOW }, ["S1", "S2", "S3", "S4"]);
        const b = demandBySku([...inside, ...outside], { now: NOW }, ["S1", "S2", "S3", "S4"]);
        for (const [sku, d] of a) expect(b.get(sku)!.ratePerHour).toBeCloseTo(d.ratePerHour, 9);
      }),
    );
  });

  it("one more sale never lowers the rate of a SKU with enough orders", () => {
    const busy = fc.array(
      fc.record({
        at: fc.integer({ min: NOW - 90 * DAY + 1, max: NOW }),
        channelId: fc.constantFrom("a", "b"),
        sku: fc.constant("HOT"),
        units: fc.integer({ min: 1, max: 3 }),
      }),
      { minLength: 20, maxLength: 120 },
    );
    fc.assert(
      fc.property(busy, fc.integer({ min: NOW - 90 * DAY + 1, max: NOW }), (history, at) => {
        const before = demandBySku(history, { now: NOW, recentMs: 0 }).get("HOT")!;
        const after = demandBySku([...history, { at, channelId: "a", sku: "HOT", units: 1 }], {
          now: NOW,
          recentMs: 0,
        }).get("HOT")!;
        expect(before.pooled).toBe(false);
        expect(after.ratePerHour).toBeGreaterThanOrEqual(before.ratePerHour - 1e-12);
      }),
    );
  });

  it("uses the busiest window with enough orders", () => {
    // 28 orders spread over 28 days, plus 20 in the last day: the 1-day window wins (20/day).
    const history: Sale[] = [
      ...Array.from({ length: 28 }, (_, i) => ({
        at: NOW - (i + 1.5) * DAY,
        channelId: "a",
        sku: "S",
        units: 1,
      })),
      ...Array.from({ length: 20 }, (_, i) => ({
        at: NOW - 2 * HOUR - i * HOUR,
        channelId: "b",
        sku: "S",
        units: 1,
      })),
    ];
    const d = demandBySku(history, { now: NOW }).get("S")!;
    expect(d.windowMs).toBe(DAY);
    expect(d.ratePerHour).toBeCloseTo(20 / 24, 9);
    expect(d.pooled).toBe(false);
    expect(d.flash).toBe(false);
  });

  it("recognises a flash sale: the recent rate replaces the baseline", () => {
    const history: Sale[] = [
      ...Array.from({ length: 30 }, (_, i) => ({
        at: NOW - (i + 1) * DAY + HOUR,
        channelId: "a",
        sku: "S",
        units: 1,
      })),
      ...Array.from({ length: 12 }, (_, i) => ({
        at: NOW - i * 60_000,
        channelId: "b",
        sku: "S",
        units: 1,
      })),
    ];
    const d = demandBySku(history, { now: NOW }).get("S")!;
    expect(d.flash).toBe(true);
    // 11 units after the first order, over the 11 minutes the burst took: 60/hour.
    expect(d.ratePerHour).toBeCloseTo(60, 9);
    expect(d.channelRates).toEqual({ b: 60 });
    // Two recent orders are not enough to call it a flash sale.
    const quiet = demandBySku(history.slice(0, 32), { now: NOW }).get("S")!;
    expect(quiet.flash).toBe(false);
  });

  it("measures a burst over the seconds it took, not the hour it sits in", () => {
    // Six orders within 3 seconds, 40 seconds ago: a rate of 5 units / 3 s.
    const history: Sale[] = Array.from({ length: 6 }, (_, i) => ({
      at: NOW - 40_000 + i * 600,
      channelId: i % 2 ? "a" : "b",
      sku: "HOT",
      units: 1,
    }));
    const d = demandBySku(history, { now: NOW }).get("HOT")!;
    expect(d.flash).toBe(true);
    expect(d.ratePerHour).toBeCloseTo((5 / 3_000) * HOUR, 6);
    // Orders stamped within the same second count over one second.
    expect(burstRate(history.slice(0, 2), HOUR, 1_000)).toBeCloseTo(1 / 1_000, 12);
  });

  it("a burst's rate is never below the window's average, and grows with its units", () => {
    const recent = fc.array(
      fc.record({
        at: fc.integer({ min: NOW - HOUR + 1, max: NOW }),
        channelId: fc.constant("a"),
        sku: fc.constant("S"),
        units: fc.integer({ min: 0, max: 4 }),
      }),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(recent, (sales) => {
        const units = sales.reduce((a, s) => a + s.units, 0);
        const r = burstRate(sales, HOUR, 1_000);
        expect(r).toBeGreaterThanOrEqual(units / HOUR - 1e-15);
        expect(r).toBeLessThanOrEqual(units / 1 + 1e-12);
        const more = sales.map((s) => ({ ...s, units: s.units + 1 }));
        expect(burstRate(more, HOUR, 1_000)).toBeGreaterThanOrEqual(r - 1e-12);
      }),
    );
  });

  it("blends a sparse SKU with its pool, between its own rate and the pool's", () => {
    const history: Sale[] = [
      ...Array.from({ length: 60 }, (_, i) => ({
        at: NOW - i * HOUR - 1,
        channelId: "a",
        sku: "BUSY",
        units: 1,
      })),
      { at: NOW - 10 * DAY, channelId: "b", sku: "RARE", units: 1 },
    ];
    const all = demandBySku(history, { now: NOW }, ["NEVER"]);
    const rare = all.get("RARE")!;
    const own = 1 / (90 * 24);
    const pool = (60 + 1 + 0) / 3 / (90 * 24);
    expect(rare.pooled).toBe(true);
    expect(rare.ratePerHour).toBeGreaterThan(own);
    expect(rare.ratePerHour).toBeLessThan(pool);
    // A SKU that never sold gets the pool's channel mix, at a blended (small) rate.
    const never = all.get("NEVER")!;
    expect(never.ratePerHour).toBeGreaterThan(0);
    expect(never.ratePerHour).toBeLessThan(rare.ratePerHour);
    // Separate pools do not lend to each other.
    const apart = demandBySku(history, { now: NOW, groupOf: (s) => s }).get("RARE")!;
    expect(apart.ratePerHour).toBeCloseTo(own, 12);
  });
});

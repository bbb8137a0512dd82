/**
 * Property tests of the backtester: oversold units are exactly the units sold beyond stock,
 * instant sync never oversells, one channel alone never oversells (compare-and-set), a channel
 * that never hears of the others' sales lets them all sell the full stock, hidden unit-minutes
 * are a share between 0 and 1, a tail owner alone never oversells, and a buffer at or above the
 * stock hides everything.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runBacktest, type Arrival } from "./backtest";

const MIN = 60_000;
const channels = ["a", "b", "c"].map((id) => ({ id, inMs: 20_000, outMs: 10_000 }));

const arrivalsArb: fc.Arbitrary<Arrival[]> = fc
  .uniqueArray(fc.integer({ min: 1, max: 60 * MIN }), { maxLength: 120 })
  .chain((times) =>
    fc.tuple(
      ...times.map((at) =>
        fc.record({
          at: fc.constant(at),
          channelId: fc.constantFrom("a", "b", "c"),
          sku: fc.constantFrom("X", "Y"),
          units: fc.integer({ min: 1, max: 2 }),
        }),
      ),
    ),
  )
  .map((list) => [...list].sort((p, q) => p.at - q.at));

const stockArb = fc.record({ X: fc.nat(8), Y: fc.nat(8) });

describe("backtest", () => {
  it("counts as oversold exactly the units sold beyond stock; hidden share in [0, 1]", () => {
    fc.assert(
      fc.property(arrivalsArb, stockArb, fc.nat(3), (arrivals, stock, buffer) => {
        const r = runBacktest({
          stock,
          channels,
          arrivals,
          horizonMs: 60 * MIN,
          mode: { kind: "event", jitter: 0.5, seed: 7 },
          policy: () => ({ reserve_units: { value: buffer, ruleId: "r" } }),
        });
        let over = 0;
        for (const [sku, o] of Object.entries(r.perSku)) {
          expect(o.oversoldUnits).toBe(Math.max(0, o.sold - stock[sku as "X" | "Y"]));
          over += o.oversoldUnits;
        }
        expect(r.oversoldUnits).toBe(over);
        expect(r.ordersCancelled).toBeLessThanOrEqual(r.orders);
        expect(r.orders + r.refused).toBe(arrivals.length);
        expect(r.hiddenShare).toBeGreaterThanOrEqual(0);
        expect(r.hiddenShare).toBeLessThanOrEqual(1 + 1e-9);
      }),
    );
  });

  it("never oversells when every channel learns at once, and hides nothing without buffers", () => {
    fc.assert(
      fc.property(arrivalsArb, stockArb, (arrivals, stock) => {
        const r = runBacktest({
          stock,
          channels: channels.map((c) => ({ ...c, inMs: 0, outMs: 0 })),
          arrivals,
          horizonMs: 60 * MIN,
          mode: { kind: "event" },
        });
        expect(r.oversoldUnits).toBe(0);
        expect(r.hiddenUnitMinutes).toBeCloseTo(0, 9);
      }),
    );
  });

  it("one channel alone never oversells, whatever the delays (compare-and-set)", () => {
    fc.assert(
      fc.property(arrivalsArb, stockArb, fc.nat(5 * MIN), (arrivals, stock, delay) => {
        const r = runBacktest({
          stock,
          channels: [{ id: "a", inMs: delay, outMs: delay }],
          arrivals: arrivals.map((a) => ({ ...a, channelId: "a" })),
          horizonMs: 60 * MIN,
          mode: { kind: "event", jitter: 0.9, seed: 3 },
        });
        expect(r.oversoldUnits).toBe(0);
      }),
    );
  });

  it("a poller that never runs lets every channel sell the whole stock", () => {
    fc.assert(
      fc.property(arrivalsArb, stockArb, (arrivals, stock) => {
        const r = runBacktest({
          stock,
          channels,
          arrivals,
          horizonMs: 60 * MIN,
          mode: { kind: "poll", everyMs: 120 * MIN },
        });
        // Each channel sells on its own, greedily, from the full stock.
        let expected = 0;
        for (const c of ["a", "b", "c"]) {
          for (const sku of ["X", "Y"] as const) {
            let shown = stock[sku];
            for (const a of arrivals.filter((x) => x.channelId === c && x.sku === sku)) {
              if (shown >= a.units) {
                shown -= a.units;
                expected += a.units;
              }
            }
          }
        }
        const sold = Object.values(r.perSku).reduce((s, o) => s + o.sold, 0);
        expect(sold).toBe(expected);
        expect(sold).toBeLessThanOrEqual(3 * (stock.X + stock.Y));
      }),
    );
  });

  it("counts the race: two channels selling the last unit within the delay oversell one", () => {
    const r = runBacktest({
      stock: { X: 1 },
      channels: channels.slice(0, 2),
      arrivals: [
        { at: 1 * MIN, channelId: "a", sku: "X", units: 1 },
        { at: 1 * MIN + 5_000, channelId: "b", sku: "X", units: 1 },
      ],
      horizonMs: 10 * MIN,
      mode: { kind: "event" },
    });
    expect(r.oversoldUnits).toBe(1);
    expect(r.ordersCancelled).toBe(1);
    // Show 0 at or below 1 on b: b refuses, nothing oversold; b hid 1 unit for the first minute.
    const buffered = runBacktest({
      stock: { X: 1 },
      channels: channels.slice(0, 2),
      arrivals: [
        { at: 1 * MIN, channelId: "a", sku: "X", units: 1 },
        { at: 1 * MIN + 5_000, channelId: "b", sku: "X", units: 1 },
      ],
      horizonMs: 10 * MIN,
      mode: { kind: "event" },
      policy: (c) => (c === "b" ? { zero_at_or_below: { value: 1, ruleId: "z" } } : {}),
    });
    expect(buffered.oversoldUnits).toBe(0);
    expect(buffered.refused).toBe(1);
    expect(buffered.hiddenUnitMinutes).toBeCloseTo(1, 9);
    expect(buffered.existedUnitMinutes).toBeCloseTo(2, 9);
    expect(buffered.hiddenShare).toBeCloseTo(0.5, 9);
  });

  it("a tail owner alone showing the stock never oversells, whatever the delays", () => {
    fc.assert(
      fc.property(arrivalsArb, stockArb, fc.nat(10 * MIN), (arrivals, stock, delay) => {
        const r = runBacktest({
          stock,
          channels: channels.map((c) => ({ ...c, inMs: delay, outMs: delay })),
          arrivals,
          horizonMs: 60 * MIN,
          mode: { kind: "event", jitter: 0.7, seed: 11 },
          // Only "a" shows anything: the others show 0 at or below the whole stock.
          policy: (c) => (c === "a" ? {} : { zero_at_or_below: { value: 8, ruleId: "z" } }),
        });
        expect(r.oversoldUnits).toBe(0);
        // …and "a" sells everything its buyers ask for, up to the stock.
        const sold = Object.values(r.perSku).reduce((t, o) => t + o.sold, 0);
        expect(sold).toBeLessThanOrEqual(stock.X + stock.Y);
      }),
    );
  });

  it("a buffer at or above the stock hides everything and sells nothing", () => {
    fc.assert(
      fc.property(arrivalsArb, fc.integer({ min: 1, max: 8 }), (arrivals, units) => {
        const r = runBacktest({
          stock: { X: units, Y: units },
          channels,
          arrivals,
          horizonMs: 60 * MIN,
          mode: { kind: "event" },
          policy: () => ({ zero_at_or_below: { value: units, ruleId: "z" } }),
        });
        expect(r.orders).toBe(0);
        expect(r.hiddenShare).toBeCloseTo(1, 9);
      }),
    );
  });
});

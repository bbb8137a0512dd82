import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  describeSlowest,
  oversoldUnits,
  percentileOf,
  saleLatency,
  saleLatencyVerdict,
  type Sale,
  type SaleLatencyInput,
  type ShownValue,
  type StockChange,
} from "../helpers/sale-latency";

const STORES = ["src", "b", "c"];

/** A world of one SKU "X" starting at `stock` on every store. */
function world(
  stock: number,
  sales: Sale[],
  history: ShownValue[],
  changes: StockChange[] = [],
  end = 10_000,
): SaleLatencyInput {
  return {
    sales,
    changes,
    history,
    initialPool: () => stock,
    initialShown: (store) => (STORES.includes(store) ? stock : undefined),
    stores: STORES,
    end,
  };
}
const sale = (store: string, at: number, units = 1): Sale => ({ store, sku: "X", units, at });
const shows = (store: string, at: number, available: number): ShownValue => ({
  store,
  sku: "X",
  at,
  available,
});

describe("saleLatency", () => {
  it("measures from the sale until the last other store shows the new quantity", () => {
    const report = saleLatency(
      world(
        5,
        [sale("src", 1_000)],
        [shows("src", 1_000, 4), shows("b", 1_300, 4), shows("c", 1_500, 4)],
      ),
    );
    expect(report).toMatchObject({ sales: 1, reflected: 1, timeouts: 0, p50: 500, max: 500 });
    expect(report.slowest[0]).toMatchObject({ lastStore: "c", perStore: { b: 300, c: 500 } });
  });

  it("is not fooled by a buyer on a stale store", () => {
    // b is stale at 5 when it sells one itself: it shows 4, the value just after the src sale,
    // but the truth is 3 by then. Only the hub's write of 3 reflects the src sale.
    const report = saleLatency(
      world(
        5,
        [sale("src", 1_000), sale("b", 1_100)],
        [
          shows("src", 1_000, 4),
          shows("b", 1_100, 4),
          shows("c", 1_200, 3),
          shows("src", 1_300, 3),
          shows("b", 1_400, 3),
        ],
      ),
    );
    const [first, second] = report.outcomes;
    expect(first).toMatchObject({ latencyMs: 400, lastStore: "b", perStore: { b: 400, c: 200 } });
    expect(second).toMatchObject({ latencyMs: 200, perStore: { src: 200, c: 100 } });
  });

  it("keeps a store that was right right when it sells", () => {
    // c reflected the src sale at 1 200; its own later sale is not a write and changes nothing.
    const report = saleLatency(
      world(
        5,
        [sale("src", 1_000), sale("c", 1_500)],
        [
          shows("src", 1_000, 4),
          shows("b", 1_100, 4),
          shows("c", 1_200, 4),
          shows("c", 1_500, 3),
          shows("b", 1_600, 3),
          shows("src", 1_700, 3),
        ],
      ),
    );
    expect(report.outcomes.map((o) => o.latencyMs)).toEqual([200, 200]);
  });

  it("accepts a later value: one write can reflect several sales", () => {
    const report = saleLatency(
      world(
        10,
        [sale("src", 1_000), sale("c", 1_100, 2)],
        [
          shows("src", 1_000, 9),
          shows("c", 1_100, 8),
          shows("b", 1_500, 7),
          shows("src", 1_600, 7),
          shows("c", 1_700, 7),
        ],
      ),
    );
    expect(report.outcomes.map((o) => [o.latencyMs, o.lastStore])).toEqual([
      [700, "c"],
      [500, "src"],
    ]);
  });

  it("counts a sale never reflected as a timeout lasting until the end", () => {
    const report = saleLatency(
      world(
        5,
        [sale("src", 1_000), sale("b", 2_000)],
        [shows("src", 1_000, 4), shows("c", 1_200, 4), shows("b", 2_000, 4)],
        [],
        9_000,
      ),
    );
    expect(report).toMatchObject({ sales: 2, reflected: 0, timeouts: 2, max: 8_000 });
    expect(report.outcomes[0]).toMatchObject({ latencyMs: 8_000, timedOut: true, lastStore: "b" });
    expect(report.outcomes[1]).toMatchObject({ latencyMs: 7_000, timedOut: true });
    expect(describeSlowest(report, 1)[0]).toMatch(/^8000 ms \(timeout\) X ×1 sold on src/);
  });

  it("treats restocks as the store's own events and as later legitimate values", () => {
    // A receipt at the source (+10) is not a write reflecting the b sale: the source must show 14.
    const receipt = world(
      5,
      [sale("b", 1_000)],
      [
        shows("b", 1_000, 4),
        shows("c", 1_050, 4),
        shows("src", 1_100, 15),
        shows("src", 1_300, 14),
      ],
      [{ store: "src", sku: "X", delta: 10, at: 1_100, kind: "receipt" }],
    );
    expect(saleLatency(receipt).outcomes[0]).toMatchObject({ latencyMs: 300, lastStore: "src" });
    // A cancel with restock on src brings the truth back to what stale c still shows.
    const cancel = world(
      5,
      [sale("src", 1_000)],
      [shows("src", 1_000, 4), shows("b", 1_100, 4), shows("src", 2_000, 5)],
      [{ store: "src", sku: "X", delta: 1, at: 2_000, kind: "cancel" }],
    );
    expect(saleLatency(cancel).outcomes[0]).toMatchObject({ latencyMs: 1_000, lastStore: "c" });
  });

  it("accepts 0 (or below) while the pool is oversold, and a store already at the new value", () => {
    const oversold = saleLatency(
      world(
        1,
        [sale("src", 1_000, 2)],
        [shows("src", 1_000, -1), shows("b", 1_250, 0), shows("c", 1_100, 0)],
      ),
    );
    expect(oversold.outcomes[0]).toMatchObject({ latencyMs: 250 });
    // b already showed 3 (a raise it had not received yet): the sale to 3 is there at once.
    const early = saleLatency({
      ...world(5, [sale("src", 1_000, 2)], [shows("src", 1_000, 3), shows("c", 1_400, 3)]),
      initialShown: (store) => (store === "b" ? 3 : 5),
    });
    expect(early.outcomes[0]).toMatchObject({ latencyMs: 400, perStore: { b: 0, c: 400 } });
  });

  it("judges only the stores that list the SKU, per SKU", () => {
    const report = saleLatency({
      sales: [sale("src", 1_000), { store: "b", sku: "ONLY-B", units: 1, at: 1_000 }],
      history: [shows("src", 1_000, 4), shows("b", 1_200, 4), shows("c", 1_100, 4)],
      initialPool: (sku) => (sku === "X" ? 5 : 3),
      initialShown: (store, sku) =>
        sku === "X" || store === "b" ? (sku === "X" ? 5 : 3) : undefined,
      end: 5_000,
    });
    expect(report).toMatchObject({ sales: 1, unlisted: 1, timeouts: 0, max: 200 });
  });

  it("matches a hub that writes every other store with a delay, whatever the interleaving", () => {
    // A model hub: `delay` ms after every pool event it writes each other store the pool as of
    // that event plus the store's own events since (a delta-preserving write). Every sale is then
    // reflected on every store within `delay`.
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            store: fc.constantFrom(...STORES),
            gap: fc.integer({ min: 0, max: 400 }),
            units: fc.integer({ min: 1, max: 3 }),
            restock: fc.boolean(),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.integer({ min: 1, max: 900 }),
        (script, delay) => {
          const stock = 500;
          const events: { at: number; store: string; delta: number; sale: boolean }[] = [];
          let at = 1_000;
          for (const step of script) {
            at += step.gap;
            events.push({
              at,
              store: step.store,
              delta: step.restock ? step.units : -step.units,
              sale: !step.restock,
            });
          }
          // Replay in time order: each store's level and the hub's delayed writes.
          type Action =
            | { at: number; kind: "event"; e: (typeof events)[number] }
            | { at: number; kind: "write"; store: string; pool: number; after: number };
          const actions: Action[] = events.map((e) => ({ at: e.at, kind: "event", e }));
          let pool = stock;
          events.forEach((e, index) => {
            pool += e.delta;
            for (const store of STORES) {
              if (store !== e.store)
                actions.push({ at: e.at + delay, kind: "write", store, pool, after: index });
            }
          });
          actions.sort((a, b) => a.at - b.at || (a.kind === "event" ? -1 : 1));
          const level = new Map(STORES.map((s) => [s, stock]));
          const history: ShownValue[] = [];
          for (const action of actions) {
            if (action.kind === "event") {
              const { store, delta } = action.e;
              level.set(store, level.get(store)! + delta);
              history.push(shows(store, action.at, level.get(store)!));
            } else {
              const ownSince = events
                .filter((e, i) => e.store === action.store && i > action.after && e.at <= action.at)
                .reduce((s, e) => s + e.delta, 0);
              level.set(action.store, action.pool + ownSince);
              history.push(shows(action.store, action.at, level.get(action.store)!));
            }
          }
          const report = saleLatency({
            ...world(stock, [], history),
            sales: events.filter((e) => e.sale).map((e) => sale(e.store, e.at, -e.delta)),
            changes: events
              .filter((e) => !e.sale)
              .map((e) => ({ store: e.store, sku: "X", delta: e.delta, at: e.at })),
            end: at + 10 * delay + 1_000,
          });
          expect(report.timeouts).toBe(0);
          if (report.sales > 0) expect(report.max).toBeLessThanOrEqual(delay);
          expect(report.outcomes.every((o) => o.latencyMs >= 0)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("gives percentiles by nearest rank and a verdict against the target", () => {
    expect(percentileOf([], 50)).toBeNaN();
    expect(percentileOf([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentileOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    const sales = Array.from({ length: 100 }, (_, i) => sale("src", 1_000 + i * 10_000));
    const history = sales.flatMap((s, i) => [
      shows("src", s.at, 99 - i),
      shows("b", s.at + (i < 98 ? 100 : 3_000), 99 - i),
      shows("c", s.at + 50, 99 - i),
    ]);
    const report = saleLatency(world(100, sales, history, [], 2_000_000));
    expect(report).toMatchObject({ p50: 100, p95: 100, p99: 3_000, max: 3_000 });
    expect(saleLatencyVerdict(report)).toEqual({ p95: 100, p99: 3_000, timeouts: 0, ok: false });
    expect(saleLatencyVerdict(report, { p99Ms: 3_000 }).ok).toBe(true);
  });
});

describe("oversoldUnits", () => {
  const pool = () => 3;
  it("counts units sold beyond the pool, per SKU", () => {
    const report = oversoldUnits({
      sales: [
        sale("src", 1),
        sale("b", 2, 2),
        sale("c", 3, 2),
        { store: "b", sku: "Y", units: 1, at: 4 },
      ],
      initialPool: pool,
    });
    expect(report.units).toBe(2);
    expect(report.perSku.get("X")).toEqual({ oversold: 2, maxShortfall: 2, finalPool: -2 });
    expect(report.perSku.get("Y")).toEqual({ oversold: 0, maxShortfall: 0, finalPool: 2 });
  });

  it("counts sales of units that did not exist yet even when a later restock covers them", () => {
    const report = oversoldUnits({
      sales: [sale("src", 1, 4), sale("b", 5, 3)],
      changes: [
        { store: "src", sku: "X", delta: 2, at: 3, kind: "receipt" }, // pool −1 → 1
        { store: "b", sku: "X", delta: 1, at: 5, kind: "cancel" }, // same ms as the sale: first
      ],
      initialPool: pool,
    });
    // 1 unit short at the first sale; the second sale finds 2 (1 + the restock) and sells 3.
    expect(report.perSku.get("X")).toEqual({ oversold: 2, maxShortfall: 1, finalPool: -1 });
  });
});

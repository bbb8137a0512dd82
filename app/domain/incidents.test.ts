/**
 * Tests of oversell settling and root causes (incidents.ts): confirmed units equal the
 * ground-truth oversold units whatever order the sales arrive in and wherever settling happens,
 * settling again confirms nothing, and each of the five causes is decided from its evidence.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  classifyIncident,
  settleItem,
  shortfallGrowth,
  shortfallOf,
  type CauseFacts,
  type SaleFact,
} from "./incidents";

/** Ground truth: sales in their own time order against a pool, with restocks. */
function truthOversold(pool: number, events: { at: number; delta: number }[]): number {
  let p = pool;
  let over = 0;
  for (const e of [...events].sort((a, b) => a.at - b.at || b.delta - a.delta)) {
    const before = Math.max(0, -p);
    p += e.delta;
    over += Math.max(0, Math.max(0, -p) - before);
  }
  return over;
}

describe("settling", () => {
  it("confirms exactly the ground-truth oversold units for sales in any arrival order, settled at quiet points", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 }),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }),
        fc.integer(),
        (stock, sales, settleAfter, seed) => {
          // Sales happen at times 0..n-1; they arrive shuffled (a delayed, reordered delivery).
          const arrival = sales.map((units, at) => ({ units, at }));
          let s = seed;
          for (let i = arrival.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) | 0;
            const j = Math.abs(s) % (i + 1);
            [arrival[i], arrival[j]] = [arrival[j]!, arrival[i]!];
          }
          let sellable = stock;
          let confirmed = 0;
          let total = 0;
          let provisional: { id: string; shortfall: number; saleAt: number; merchant: boolean }[] =
            [];
          const settle = () => {
            const result = settleItem({
              shortfall: Math.max(0, -sellable),
              confirmedBefore: confirmed,
              provisional,
            });
            total += result.confirm.reduce((t, c) => t + c.units, 0);
            confirmed = result.confirmedShortfall;
            provisional = [];
          };
          arrival.forEach((sale, i) => {
            const before = sellable;
            sellable -= sale.units;
            const growth = shortfallGrowth(before, sellable);
            if (growth > 0)
              provisional.push({
                id: String(i),
                shortfall: growth,
                saleAt: sale.at,
                merchant: false,
              });
            if (settleAfter[i]) settle();
          });
          settle();
          settle(); // idempotent: nothing new
          const truth = truthOversold(
            stock,
            sales.map((units, at) => ({ at, delta: -units })),
          );
          expect(total).toBe(truth);
        },
      ),
    );
  });

  it("explains a shortfall the settled stock covers (a cancel's restock arrived late)", () => {
    // Stock 1: order A (1) then order B (1) arrive, then A's cancellation: nothing oversold.
    const result = settleItem({
      shortfall: 0,
      confirmedBefore: 0,
      provisional: [{ id: "b", shortfall: 1, saleAt: 2, merchant: false }],
    });
    expect(result).toEqual({ confirm: [], explain: ["b"], confirmedShortfall: 0 });
  });

  it("confirms on the latest sale first and counts again after stock covered an earlier oversell", () => {
    const first = settleItem({
      shortfall: 2,
      confirmedBefore: 0,
      provisional: [
        { id: "1", shortfall: 1, saleAt: 10, merchant: false },
        { id: "2", shortfall: 2, saleAt: 20, merchant: false },
      ],
    });
    expect(first.confirm).toEqual([{ id: "2", units: 2, merchant: false }]);
    expect(first.explain).toEqual(["1"]);
    // A receipt covered it (settled shortfall 0), then a new oversell of 1.
    const covered = settleItem({ shortfall: 0, confirmedBefore: 2, provisional: [] });
    expect(covered.confirmedShortfall).toBe(0);
    const again = settleItem({
      shortfall: 1,
      confirmedBefore: covered.confirmedShortfall,
      provisional: [{ id: "3", shortfall: 1, saleAt: 30, merchant: false }],
    });
    expect(again.confirm).toEqual([{ id: "3", units: 1, merchant: false }]);
  });

  it("measures shortfall against physical stock: safety stock is not an oversell", () => {
    expect(shortfallOf([{ onHand: 3, committed: 3, held: 0, damaged: 0, safetyStock: 2 }])).toBe(0);
    expect(
      shortfallOf([
        { onHand: 3, committed: 4, held: 1, damaged: 0, safetyStock: 0 },
        { onHand: 1, committed: 0, held: 0, damaged: 0, safetyStock: 5 },
      ]),
    ).toBe(1);
  });
});

const sale = (connectionId: string, saleAt: number, extra: Partial<SaleFact> = {}): SaleFact => ({
  connectionId,
  saleAt,
  appliedAt: saleAt + 50,
  units: 1,
  writtenAt: {},
  ...extra,
});

const base = (over: Partial<CauseFacts> = {}): CauseFacts => ({
  movementKind: "order_placed",
  sale: sale("x", 1_000),
  selling: { published: 1, pushed: 1, remote: 1, componentCount: 1 },
  listed: true,
  connectionStatus: "active",
  failures: [],
  drift: [],
  otherSales: [],
  bufferHeldBack: 0,
  ...over,
});

describe("root cause", () => {
  it("sync delay: the other sale was applied before this sale but written to this channel after it", () => {
    const c = classifyIncident(
      base({ otherSales: [sale("y", 500, { appliedAt: 600, writtenAt: { x: 1_500 } })] }),
    );
    expect(c.cause).toBe("sync_delay");
    expect(c.evidence.pairs).toHaveLength(1);
  });

  it("sync delay too when the other sale had reached StockGuard but was not applied yet", () => {
    const c = classifyIncident(
      base({ otherSales: [sale("y", 500, { receivedAt: 700, appliedAt: 1_300 })] }),
    );
    expect(c.cause).toBe("sync_delay");
  });

  it("simultaneous channels: the other sale had not reached StockGuard yet, no buffer", () => {
    const c = classifyIncident(base({ otherSales: [sale("y", 900, { appliedAt: 1_200 })] }));
    expect(c.cause).toBe("simultaneous_channels");
  });

  it("low buffer: the same, with a buffer below the demand", () => {
    const c = classifyIncident(
      base({ bufferHeldBack: 1, otherSales: [sale("y", 900, { appliedAt: 1_200, units: 2 })] }),
    );
    expect(c.cause).toBe("low_buffer");
    expect(c.evidence).toMatchObject({ bufferHeldBack: 1, demandInWindow: 3 });
  });

  it("a sale already reflected on this channel explains nothing", () => {
    const c = classifyIncident(
      base({ otherSales: [sale("y", 500, { appliedAt: 600, writtenAt: { x: 700 } })] }),
    );
    expect(c.cause).toBe("unknown");
    expect(typeof c.evidence.reason).toBe("string");
  });

  it("a sale whose write was coalesced into a later one counts as written by that one", () => {
    // y sold at 500 (applied 600) and had no write of its own; z's write reached x at 800,
    // carrying both: x had been shown y's sale before it sold at 1,000.
    const coalesced = classifyIncident(
      base({
        otherSales: [
          sale("y", 500, { appliedAt: 600 }),
          sale("z", 650, { appliedAt: 700, writtenAt: { x: 800 } }),
        ],
      }),
    );
    expect(coalesced.cause).toBe("unknown");
    // A write made before y was applied does not carry it: still a sync delay.
    const before = classifyIncident(
      base({
        otherSales: [
          sale("y", 500, { appliedAt: 900 }),
          sale("z", 400, { appliedAt: 450, writtenAt: { x: 800 } }),
        ],
      }),
    );
    expect(before.cause).toBe("sync_delay");
    expect(before.evidence.pairs).toHaveLength(1);
  });

  it("allocation error: a count took stock below what was sold", () => {
    expect(classifyIncident(base({ movementKind: "on_hand_counted", sale: null })).cause).toBe(
      "allocation_error",
    );
    expect(
      classifyIncident(base({ selling: { published: 1, pushed: 1, remote: 1, componentCount: 2 } }))
        .cause,
    ).toBe("allocation_error");
  });

  it("integration failure: failing writes, paused channel, showed more, drift, unmatched", () => {
    const failing = classifyIncident(
      base({ failures: [{ kind: "write_failed", reason: "boom", at: 900 }] }),
    );
    expect(failing).toMatchObject({
      cause: "integration_failure",
      evidence: { kind: "write_failures" },
    });
    expect(classifyIncident(base({ connectionStatus: "paused" })).evidence.kind).toBe(
      "channel_not_syncing",
    );
    expect(
      classifyIncident(base({ selling: { published: 1, pushed: 1, remote: 3, componentCount: 1 } }))
        .evidence.kind,
    ).toBe("channel_showed_more");
    expect(
      classifyIncident(base({ drift: [{ expected: 1, observed: 4, cause: "x", at: 800 }] }))
        .evidence.kind,
    ).toBe("drift");
    expect(classifyIncident(base({ listed: false, selling: null })).evidence.kind).toBe(
      "unmatched",
    );
  });

  it("always names a cause from the closed set and a reason for unknown", () => {
    fc.assert(
      fc.property(
        fc.record({
          kind: fc.constantFrom("order_placed", "on_hand_counted", "manual_adjustment"),
          others: fc.array(
            fc.record({
              c: fc.constantFrom("x", "y", "z"),
              at: fc.integer({ min: 0, max: 2_000 }),
              applied: fc.integer({ min: 0, max: 3_000 }),
              written: fc.option(fc.integer({ min: 0, max: 3_000 })),
            }),
            { maxLength: 4 },
          ),
          buffer: fc.integer({ min: 0, max: 3 }),
        }),
        ({ kind, others, buffer }) => {
          const c = classifyIncident(
            base({
              movementKind: kind,
              bufferHeldBack: buffer,
              otherSales: others.map((o) =>
                sale(o.c, o.at, {
                  appliedAt: o.applied,
                  writtenAt: o.written === null ? {} : { x: o.written },
                }),
              ),
            }),
          );
          expect([
            "sync_delay",
            "simultaneous_channels",
            "low_buffer",
            "allocation_error",
            "integration_failure",
            "unknown",
          ]).toContain(c.cause);
          expect(typeof c.evidence.reason).toBe("string");
        },
      ),
    );
  });
});

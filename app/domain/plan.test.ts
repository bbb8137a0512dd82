/**
 * Tests of push planning (plan.ts): which sales writes go out now or
 * are skipped, and the source store projection (states that make its storefront offer exactly
 * the published quantity, never a negative number) with the moves that reach it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ats } from "./availability";
import { planSalesWrites, sourceTargets, stateMoves, OWNED_STATES } from "./plan";

describe("sales push plan", () => {
  it("writes any difference at once, up or down, and skips equal numbers", () => {
    const plan = planSalesWrites([
      { listingId: "same", published: 5, remoteQuantity: 5 },
      { listingId: "lower", published: 3, remoteQuantity: 5 },
      { listingId: "raise", published: 6, remoteQuantity: 4 },
      { listingId: "oversold", published: -2, remoteQuantity: 0 },
      { listingId: "unknown", published: 2, remoteQuantity: null },
    ]);
    expect(plan.upToDate).toEqual(["same", "oversold"]);
    expect(plan.writes).toEqual([
      { listingId: "lower", quantity: 3, expected: 5 },
      { listingId: "raise", quantity: 6, expected: 4 },
      { listingId: "unknown", quantity: 2, expected: null },
    ]);
  });

  it("never writes a negative quantity, and every listing is either written or up to date", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 50 }),
        fc.option(fc.nat(60), { nil: null }),
        (published, remote) => {
          const plan = planSalesWrites([{ listingId: "l", published, remoteQuantity: remote }]);
          for (const w of plan.writes) {
            expect(w.quantity).toBe(Math.max(0, published));
            expect(w.expected).toBe(remote);
          }
          expect(plan.writes.length + plan.upToDate.length).toBe(1);
          expect(plan.upToDate.length === 1).toBe(remote === Math.max(0, published));
        },
      ),
    );
  });
});

describe("source store projection", () => {
  it("offers exactly the published quantity while on_hand stays physical", () => {
    fc.assert(
      fc.property(
        fc.record({
          onHand: fc.integer({ min: -5, max: 200 }),
          committed: fc.nat(100),
          held: fc.nat(20),
          damaged: fc.nat(20),
          safetyStock: fc.nat(20),
        }),
        fc.nat(100),
        fc.nat(100),
        (facts, otherShare, publishedRaw) => {
          const committedOther = Math.min(otherShare, facts.committed);
          const committedOwn = facts.committed - committedOther;
          const published = Math.min(publishedRaw, Math.max(0, ats(facts)));
          const t = sourceTargets(facts, committedOther, published);
          for (const s of OWNED_STATES) expect(t[s]).toBeGreaterThanOrEqual(0);
          // Shopify: available = on_hand − committed − reserved − qc − damaged − safety.
          const available =
            facts.onHand -
            committedOwn -
            t.reserved -
            t.quality_control -
            t.damaged -
            t.safety_stock;
          const capacity = facts.onHand - committedOwn;
          if (capacity >= 0) expect(available).toBeGreaterThanOrEqual(0);
          expect(available).toBeLessThanOrEqual(
            Math.max(0, published, capacity < 0 ? capacity : 0),
          );
          if (ats(facts) >= published) expect(available).toBe(published);
          // Nothing StockGuard holds exceeds what the ledger says it should hold.
          expect(t.reserved).toBeLessThanOrEqual(committedOther);
          expect(t.quality_control).toBeLessThanOrEqual(facts.held);
          expect(t.damaged).toBeLessThanOrEqual(facts.damaged);
        },
      ),
    );
  });

  it("shows 0, not a negative number, when the pool is oversold", () => {
    // 5 on the shelf, 2 sold here, 6 sold elsewhere: 3 units cannot be reserved.
    const t = sourceTargets({ onHand: 5, committed: 8, held: 0, damaged: 0, safetyStock: 0 }, 6, 0);
    expect(t).toEqual({ reserved: 3, quality_control: 0, damaged: 0, safety_stock: 0 });
  });

  it("moves only the states that differ", () => {
    expect(
      stateMoves(
        { reserved: 2, quality_control: 1, damaged: 0, safety_stock: 3 },
        { reserved: 1, quality_control: 1, damaged: 0, safety_stock: 5 },
      ),
    ).toEqual([
      { state: "reserved", diff: 1 },
      { state: "safety_stock", diff: -2 },
    ]);
  });
});

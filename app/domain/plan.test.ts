/**
 * Tests of push planning (plan.ts): which sales writes go out now, wait for a drop to settle or
 * are skipped, and the source store projection (states that make its storefront offer exactly
 * the published quantity, never a negative number) with the moves that reach it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ats } from "./availability";
import { planSalesWrites, sourceTargets, stateMoves, OWNED_STATES } from "./plan";

const now = new Date("2026-11-26T12:00:00Z");

describe("sales push plan", () => {
  it("writes decreases at once, defers unexplained drops, and skips equal numbers", () => {
    const plan = planSalesWrites(
      [
        {
          listingId: "same",
          published: 5,
          pushedQuantity: 5,
          remoteQuantity: 5,
          remoteSource: "push",
          remoteObservedAt: now,
        },
        {
          listingId: "lower",
          published: 3,
          pushedQuantity: 5,
          remoteQuantity: 5,
          remoteSource: "webhook",
          remoteObservedAt: now,
        },
        {
          listingId: "raise-own",
          published: 6,
          pushedQuantity: 5,
          remoteQuantity: 5,
          remoteSource: "push",
          remoteObservedAt: now,
        },
        {
          listingId: "raise-observed",
          published: 6,
          pushedQuantity: 5,
          remoteQuantity: 4,
          remoteSource: "webhook",
          remoteObservedAt: now,
        },
        {
          listingId: "raise-old",
          published: 6,
          pushedQuantity: 5,
          remoteQuantity: 4,
          remoteSource: "read",
          remoteObservedAt: new Date(now.getTime() - 60_000),
        },
        {
          listingId: "first-sync",
          published: 6,
          pushedQuantity: null,
          remoteQuantity: 1,
          remoteSource: "read",
          remoteObservedAt: now,
        },
        {
          listingId: "unknown",
          published: 2,
          pushedQuantity: null,
          remoteQuantity: null,
          remoteSource: null,
          remoteObservedAt: null,
        },
      ],
      now,
      10_000,
    );
    expect(plan.upToDate).toEqual(["same"]);
    expect(plan.writes).toEqual([
      { listingId: "lower", quantity: 3, expected: 5 },
      { listingId: "raise-own", quantity: 6, expected: 5 },
      { listingId: "raise-old", quantity: 6, expected: 4 },
      { listingId: "first-sync", quantity: 6, expected: 1 },
      { listingId: "unknown", quantity: 2, expected: null },
    ]);
    expect(plan.deferred).toEqual([
      { listingId: "raise-observed", until: new Date(now.getTime() + 10_000) },
    ]);
  });

  it("never writes a negative quantity and never raises an unexplained drop before it settles", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 50 }),
        fc.option(fc.nat(60), { nil: null }),
        fc.constantFrom("push" as const, "read" as const, "webhook" as const),
        fc.integer({ min: 0, max: 20_000 }),
        fc.option(fc.nat(60), { nil: null }),
        (published, remote, source, age, pushed) => {
          const plan = planSalesWrites(
            [
              {
                listingId: "l",
                published,
                pushedQuantity: pushed,
                remoteQuantity: remote,
                remoteSource: source,
                remoteObservedAt: new Date(now.getTime() - age),
              },
            ],
            now,
            10_000,
          );
          for (const w of plan.writes) expect(w.quantity).toBeGreaterThanOrEqual(0);
          const droppedBelowOurWrite =
            remote !== null && pushed !== null && remote < pushed && source !== "push";
          const raisingObserved =
            droppedBelowOurWrite && Math.max(0, published) > remote! && age < 10_000;
          if (raisingObserved) expect(plan.writes).toHaveLength(0);
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

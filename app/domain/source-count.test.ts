/** Property tests of the source count (app/domain/source-count.ts): nothing counted twice. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GIVE_UP_ATTEMPTS, sourceCountDecision } from "./source-count";

describe("source count", () => {
  it("a shipment seen at the store before its webhook is never counted as a loss", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: GIVE_UP_ATTEMPTS - 1 }),
        (onHand, shipped, otherCommitted, attempt) => {
          // Ledger: `shipped` units still committed (webhook not applied); the store shipped them.
          const decision = sourceCountDecision({
            shopifyOnHand: onHand,
            shopifyCommitted: otherCommitted,
            ledgerOnHand: onHand + shipped,
            ownCommitted: otherCommitted + shipped,
            pendingToSource: 0,
            openingCommitted: 0,
            eventsInFlight: false,
            attempt,
          });
          expect(decision).toMatchObject({
            action: "count",
            onHand: onHand + shipped,
            recheck: true,
          });
          // When the fulfilment webhook lands, the ledger moves by −shipped: exactly the shelf.
        },
      ),
    );
  });

  it("counts a real change in full when no commitment is unexplained", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: -20, max: 20 }),
        fc.nat(10),
        (onHand, change, committed) => {
          const decision = sourceCountDecision({
            shopifyOnHand: Math.max(0, onHand + change),
            shopifyCommitted: committed,
            ledgerOnHand: onHand,
            ownCommitted: committed,
            pendingToSource: 0,
            openingCommitted: 0,
            eventsInFlight: false,
            attempt: 0,
          });
          expect(decision).toEqual({
            action: "count",
            onHand: Math.max(0, onHand + change),
            openingRelease: 0,
            heldBack: 0,
            recheck: false,
          });
        },
      ),
    );
  });

  it("lets the opening commitment absorb orders placed before StockGuard, and gives up on lost events", () => {
    expect(
      sourceCountDecision({
        shopifyOnHand: 8,
        shopifyCommitted: 1,
        ledgerOnHand: 10,
        ownCommitted: 3,
        pendingToSource: 0,
        openingCommitted: 2,
        eventsInFlight: false,
        attempt: 0,
      }),
    ).toEqual({ action: "count", onHand: 8, openingRelease: 2, heldBack: 0, recheck: false });
    expect(
      sourceCountDecision({
        shopifyOnHand: 9,
        shopifyCommitted: 0,
        ledgerOnHand: 10,
        ownCommitted: 1,
        pendingToSource: 0,
        openingCommitted: 0,
        eventsInFlight: false,
        attempt: GIVE_UP_ATTEMPTS,
      }),
    ).toMatchObject({ onHand: 9, heldBack: 0, recheck: false });
    expect(
      sourceCountDecision({
        shopifyOnHand: 9,
        shopifyCommitted: 0,
        ledgerOnHand: 10,
        ownCommitted: 0,
        pendingToSource: 0,
        openingCommitted: 0,
        eventsInFlight: true,
        attempt: 0,
      }),
    ).toEqual({ action: "postpone" });
  });
});

/** Property tests of the source count (app/domain/source-count.ts): nothing counted twice. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CONFIRM_DROP_MS,
  GIVE_UP_ATTEMPTS,
  sourceCountDecision,
  type SourceCountInput,
} from "./source-count";

const T0 = Date.parse("2026-12-03T06:00:00Z");

function input(over: Partial<SourceCountInput>): SourceCountInput {
  return {
    shopifyOnHand: 0,
    shopifyCommitted: 0,
    ledgerOnHand: 0,
    ownCommitted: 0,
    pendingToSource: 0,
    openingCommitted: 0,
    eventsInFlight: false,
    attempt: 0,
    seenDrop: null,
    now: T0,
    ...over,
  };
}

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
          const decision = sourceCountDecision(
            input({
              shopifyOnHand: onHand,
              shopifyCommitted: otherCommitted,
              ledgerOnHand: onHand + shipped,
              ownCommitted: otherCommitted + shipped,
              attempt,
            }),
          );
          expect(decision).toMatchObject({
            action: "count",
            onHand: onHand + shipped,
            recheck: true,
            seenDrop: null,
          });
          // When the fulfilment webhook lands, the ledger moves by −shipped: exactly the shelf.
        },
      ),
    );
  });

  it("a shipment and a new order both unseen are not counted while their webhooks can still land", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: CONFIRM_DROP_MS - 1 }),
        (onHand, shipped, committed, elapsed) => {
          // The store shipped `shipped` units and took an order of as many: its committed is
          // where the ledger's is, its on_hand `shipped` lower. Nothing is counted at first
          // sight nor at any read before the wait is over…
          const store = { shopifyOnHand: onHand, shopifyCommitted: committed };
          const ledger = { ledgerOnHand: onHand + shipped, ownCommitted: committed };
          const first = sourceCountDecision(input({ ...store, ...ledger }));
          expect(first).toMatchObject({
            onHand: onHand + shipped,
            recheck: true,
            seenDrop: { units: shipped, since: T0 },
          });
          const later = sourceCountDecision(
            input({
              ...store,
              ...ledger,
              seenDrop: first.action === "count" ? first.seenDrop : null,
              now: T0 + elapsed,
            }),
          );
          expect(later).toMatchObject({ onHand: onHand + shipped, recheck: true });
          // …and once both webhooks have landed the drop is gone: nothing to count, nothing kept.
          const landed = sourceCountDecision(
            input({
              ...store,
              ledgerOnHand: onHand,
              ownCommitted: committed,
              seenDrop: first.action === "count" ? first.seenDrop : null,
              now: T0 + elapsed + 1,
            }),
          );
          expect(landed).toMatchObject({ onHand, heldBack: 0, recheck: false, seenDrop: null });
        },
      ),
    );
  });

  it("counts a loss on the shelf in full once reads have shown it for the wait, and a rise at once", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: -20, max: 20 }),
        fc.nat(10),
        fc.integer({ min: 0, max: 60_000 }),
        (onHand, change, committed, extra) => {
          const shelf = Math.max(0, onHand + change);
          const read = (seenDrop: SourceCountInput["seenDrop"], now: number) =>
            sourceCountDecision(
              input({
                shopifyOnHand: shelf,
                shopifyCommitted: committed,
                ledgerOnHand: onHand,
                ownCommitted: committed,
                seenDrop,
                now,
              }),
            );
          const first = read(null, T0);
          if (shelf >= onHand) {
            expect(first).toEqual({
              action: "count",
              onHand: shelf,
              openingRelease: 0,
              heldBack: 0,
              recheck: false,
              seenDrop: null,
            });
            return;
          }
          expect(first).toMatchObject({ onHand, recheck: true });
          const seen = first.action === "count" ? first.seenDrop : null;
          expect(read(seen, T0 + CONFIRM_DROP_MS + extra)).toEqual({
            action: "count",
            onHand: shelf,
            openingRelease: 0,
            heldBack: 0,
            recheck: false,
            seenDrop: null,
          });
        },
      ),
    );
  });

  it("a drop that grows waits again for its new part; one that shrinks keeps its wait", () => {
    const base = { shopifyCommitted: 0, ledgerOnHand: 10, ownCommitted: 0 };
    const grown = sourceCountDecision(
      input({ ...base, shopifyOnHand: 7, seenDrop: { units: 1, since: T0 }, now: T0 + 1_000 }),
    );
    expect(grown).toMatchObject({ onHand: 10, seenDrop: { units: 3, since: T0 + 1_000 } });
    const shrunk = sourceCountDecision(
      input({ ...base, shopifyOnHand: 9, seenDrop: { units: 3, since: T0 }, now: T0 + 1_000 }),
    );
    expect(shrunk).toMatchObject({ onHand: 10, seenDrop: { units: 1, since: T0 } });
    // Past the wait, only what was seen that long is counted; the rest waits on its own.
    const partly = sourceCountDecision(
      input({
        ...base,
        shopifyOnHand: 6,
        seenDrop: { units: 1, since: T0 },
        now: T0 + CONFIRM_DROP_MS,
      }),
    );
    expect(partly).toMatchObject({
      onHand: 9,
      heldBack: 3,
      recheck: true,
      seenDrop: { units: 3, since: T0 + CONFIRM_DROP_MS },
    });
  });

  it("lets the opening commitment absorb orders placed before StockGuard, and gives up on lost events", () => {
    expect(
      sourceCountDecision(
        input({
          shopifyOnHand: 8,
          shopifyCommitted: 1,
          ledgerOnHand: 10,
          ownCommitted: 3,
          openingCommitted: 2,
        }),
      ),
    ).toEqual({
      action: "count",
      onHand: 8,
      openingRelease: 2,
      heldBack: 0,
      recheck: false,
      seenDrop: null,
    });
    // Lost shipments: after the attempts the shelf is the truth (still after the drop's wait).
    expect(
      sourceCountDecision(
        input({
          shopifyOnHand: 9,
          ledgerOnHand: 10,
          ownCommitted: 1,
          attempt: GIVE_UP_ATTEMPTS,
          seenDrop: { units: 1, since: T0 - CONFIRM_DROP_MS },
        }),
      ),
    ).toMatchObject({ onHand: 9, heldBack: 0, recheck: false });
    expect(
      sourceCountDecision(input({ shopifyOnHand: 9, ledgerOnHand: 10, eventsInFlight: true })),
    ).toEqual({ action: "postpone" });
  });
});

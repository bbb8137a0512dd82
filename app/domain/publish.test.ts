/** Property tests of published quantities with provisional holds (publish.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computePublished, type PublishLevel, type PublishListing } from "./publish";

const level = (itemId: string, onHand: number): PublishLevel => ({
  itemId,
  locationId: "L1",
  isPrimary: true,
  onHand,
  committed: 0,
  held: 0,
  damaged: 0,
  safetyStock: 0,
});

const listings: PublishListing[] = [
  {
    id: "a",
    connectionId: "c1",
    sku: "A",
    sourceLocationId: null,
    components: [{ itemId: "i1", perUnit: 1 }],
  },
  {
    id: "b",
    connectionId: "c2",
    sku: "B",
    sourceLocationId: null,
    components: [{ itemId: "i1", perUnit: 2 }],
  },
  {
    id: "s",
    connectionId: "src",
    sku: "A",
    sourceLocationId: "L1",
    components: [{ itemId: "i1", perUnit: 1 }],
  },
];

describe("published quantities with provisional holds", () => {
  it("holds never raise what any listing publishes, and no hold changes nothing", () => {
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 60 }), fc.nat(30), (onHand, held) => {
        const levels = [level("i1", onHand)];
        const without = computePublished(listings, levels, []);
        expect(computePublished(listings, levels, [], new Map())).toEqual(without);
        const withHold = computePublished(listings, levels, [], new Map([["i1", held]]));
        for (const l of listings) {
          expect(withHold.get(l.id)!).toBeLessThanOrEqual(without.get(l.id)!);
          expect(withHold.get(l.id)!).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });

  it("a held unit lowers every listing of the item as a sale would", () => {
    const levels = [level("i1", 10)];
    const held = computePublished(listings, levels, [], new Map([["i1", 3]]));
    const sold = computePublished(listings, [{ ...level("i1", 10), committed: 3 }], []);
    expect(held).toEqual(sold);
  });
});

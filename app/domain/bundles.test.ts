/**
 * Property tests of bundle availability (complete sets over components, bundles.ts) and of the
 * source store's location allocation and commit location (allocation.ts).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bundleAvailability, listingAvailability } from "./bundles";
import { allocateAcrossLocations, chooseCommitLocation } from "./allocation";

describe("bundle availability", () => {
  it("is the minimum over components of floor(ATS / units per bundle)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            ats: fc.integer({ min: -50, max: 1000 }),
            perUnit: fc.integer({ min: 1, max: 12 }),
          }),
          {
            minLength: 1,
            maxLength: 6,
          },
        ),
        (components) => {
          const result = bundleAvailability(components);
          expect(result).toBe(Math.min(...components.map((c) => Math.floor(c.ats / c.perUnit))));
          // Enough of every component for `result` sets, not for one more.
          for (const c of components) expect(c.ats).toBeGreaterThanOrEqual(result * c.perUnit);
          expect(components.some((c) => c.ats < (result + 1) * c.perUnit)).toBe(true);
        },
      ),
    );
  });

  it("treats a plain listing as a bundle of one", () => {
    expect(listingAvailability([{ itemId: "a", perUnit: 1 }], new Map([["a", 7]]))).toBe(7);
    expect(listingAvailability([{ itemId: "a", perUnit: 3 }], new Map([["a", 7]]))).toBe(2);
    expect(
      listingAvailability(
        [
          { itemId: "a", perUnit: 1 },
          { itemId: "b", perUnit: 2 },
        ],
        new Map([
          ["a", 7],
          ["b", 5],
        ]),
      ),
    ).toBe(2);
    expect(() => bundleAvailability([{ ats: 3, perUnit: 0 }])).toThrow(RangeError);
  });
});

describe("location allocation", () => {
  const arbLocations = fc.uniqueArray(
    fc.record({
      locationId: fc.string({ minLength: 1, maxLength: 4 }),
      ats: fc.integer({ min: -20, max: 100 }),
      isPrimary: fc.boolean(),
    }),
    { selector: (l) => l.locationId, minLength: 1, maxLength: 5 },
  );

  it("never gives a location more than its ATS and never more than the total", () => {
    fc.assert(
      fc.property(fc.integer({ min: -10, max: 500 }), arbLocations, (total, locations) => {
        const shares = allocateAcrossLocations(total, locations);
        let sum = 0;
        for (const loc of locations) {
          const share = shares.get(loc.locationId) ?? 0;
          expect(share).toBeGreaterThanOrEqual(0);
          expect(share).toBeLessThanOrEqual(Math.max(0, loc.ats));
          sum += share;
        }
        const capacity = locations.reduce((s, l) => s + Math.max(0, l.ats), 0);
        expect(sum).toBe(Math.min(Math.max(0, total), capacity));
      }),
    );
  });

  it("commits at the location with the most ATS, deterministically", () => {
    fc.assert(
      fc.property(arbLocations, (locations) => {
        const chosen = chooseCommitLocation(locations);
        const max = Math.max(...locations.map((l) => l.ats));
        expect(locations.find((l) => l.locationId === chosen)?.ats).toBe(max);
        expect(chooseCommitLocation([...locations].reverse())).toBe(chosen);
      }),
    );
    expect(chooseCommitLocation([])).toBeNull();
  });
});

/** Property tests of the "why this number" chain and the change preview (explain.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computePublished, type PublishLevel } from "../../domain/publish";
import type { BufferKind, BufferRule } from "../../domain/types";
import { chainText, explainPublished, previewLevelChange, type ExplainListing } from "./explain";

const KINDS: BufferKind[] = ["reserve_units", "percent_of_ats", "max_shown", "zero_at_or_below"];

const listings: ExplainListing[] = [
  {
    id: "a",
    connectionId: "c1",
    sku: "A",
    sourceLocationId: null,
    components: [{ itemId: "i1", perUnit: 1 }],
    holdUnits: 0,
  },
  {
    id: "pack",
    connectionId: "c2",
    sku: "A-2PACK",
    sourceLocationId: null,
    components: [{ itemId: "i1", perUnit: 2 }],
    holdUnits: 0,
  },
  {
    id: "kit",
    connectionId: "c1",
    sku: "KIT",
    sourceLocationId: null,
    components: [
      { itemId: "i1", perUnit: 1 },
      { itemId: "i2", perUnit: 1 },
    ],
    holdUnits: 0,
  },
  {
    id: "s1",
    connectionId: "src",
    sku: "A",
    sourceLocationId: "L1",
    components: [{ itemId: "i1", perUnit: 1 }],
    holdUnits: 0,
  },
  {
    id: "s2",
    connectionId: "src",
    sku: "A",
    sourceLocationId: "L2",
    components: [{ itemId: "i1", perUnit: 1 }],
    holdUnits: 0,
  },
];

const arbLevel = (itemId: string, locationId: string, isPrimary: boolean) =>
  fc
    .record({
      onHand: fc.integer({ min: 0, max: 60 }),
      committed: fc.integer({ min: 0, max: 30 }),
      held: fc.integer({ min: 0, max: 5 }),
      damaged: fc.integer({ min: 0, max: 5 }),
      safetyStock: fc.integer({ min: 0, max: 10 }),
    })
    .map((f): PublishLevel => ({ ...f, itemId, locationId, isPrimary }));

const arbRules = fc
  .uniqueArray(
    fc.record({
      connectionId: fc.constantFrom(null, "c1", "c2", "src"),
      sku: fc.constantFrom(null, "A", "KIT"),
      kind: fc.constantFrom(...KINDS),
      value: fc.integer({ min: 0, max: 40 }),
    }),
    { selector: (r) => `${r.connectionId}|${r.sku}|${r.kind}` },
  )
  .map((rules): BufferRule[] =>
    rules.map((r, i) => ({
      ...r,
      id: `r${i}`,
      value: r.kind === "percent_of_ats" ? Math.min(100, r.value * 3) : r.value,
    })),
  );

describe("explainPublished", () => {
  it("ends with exactly what computePublished publishes, for every listing", () => {
    fc.assert(
      fc.property(
        arbLevel("i1", "L1", true),
        arbLevel("i1", "L2", false),
        arbLevel("i2", "L1", true),
        arbRules,
        fc.integer({ min: 0, max: 5 }),
        (l1, l2, i2, rules, hold) => {
          const ls = listings.map((l) => (l.id === "a" ? { ...l, holdUnits: hold } : l));
          const levels = [l1, l2, i2];
          const holds = new Map([["i1", hold]]);
          const published = computePublished(ls, levels, rules, holds);
          const chains = explainPublished({
            listings: ls,
            levels,
            rules,
            connectionName: (id) => id,
          });
          for (const l of ls) {
            const steps = chains.get(l.id)!;
            expect(steps[steps.length - 1]!.value).toBe(published.get(l.id));
            expect(steps[steps.length - 1]!.label).toBe("Shows");
          }
        },
      ),
    );
  });

  it("names the rule and its scope", () => {
    const steps = explainPublished({
      listings: [listings[0]!],
      levels: [
        {
          itemId: "i1",
          locationId: "L1",
          onHand: 3,
          committed: 0,
          held: 0,
          damaged: 0,
          safetyStock: 0,
        },
      ],
      rules: [{ id: "r1", connectionId: null, sku: null, kind: "reserve_units", value: 2 }],
      connectionName: () => "Outlet",
    }).get("a")!;
    expect(chainText(steps)).toBe("ATS 3 → Hold back 2 (shop rule) → shows 1");
    expect(steps[1]!.rule).toEqual({ id: "r1", kind: "reserve_units", scope: "shop rule" });
  });
});

describe("previewLevelChange", () => {
  it("predicts what publishing after the change gives", () => {
    fc.assert(
      fc.property(
        arbLevel("i1", "L1", true),
        arbLevel("i1", "L2", false),
        arbLevel("i2", "L1", true),
        arbRules,
        fc.integer({ min: -20, max: 20 }),
        fc.integer({ min: -5, max: 5 }),
        (l1, l2, i2, rules, dOnHand, dSafety) => {
          const levels = [l1, l2, i2];
          const change = { onHand: dOnHand, safetyStock: Math.max(-l2.safetyStock, dSafety) };
          const preview = previewLevelChange({
            listings,
            levels,
            rules,
            itemId: "i1",
            locationId: "L2",
            change,
          });
          const changed = {
            ...l2,
            onHand: l2.onHand + change.onHand,
            safetyStock: l2.safetyStock + change.safetyStock,
          };
          const after = computePublished(listings, [l1, changed, i2], rules);
          for (const l of preview.listings) expect(l.after).toBe(after.get(l.id));
          expect(preview.item.atsAfter - preview.item.atsBefore).toBe(
            change.onHand - change.safetyStock,
          );
          expect(preview.location.after.onHand).toBe(l2.onHand + change.onHand);
        },
      ),
    );
  });
});

/**
 * Property tests of buffers.ts: the published quantity stays between 0 and ATS and is monotone
 * in ATS, each operator works as documented, and per kind the most specific matching rule wins.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { publishedQuantity, resolvePolicy, ruleSpecificity, validateRule } from "./buffers";
import type { BufferKind, BufferPolicy, BufferRule } from "./types";

const kinds: BufferKind[] = ["reserve_units", "percent_of_ats", "max_shown", "zero_at_or_below"];

const arbPolicy: fc.Arbitrary<BufferPolicy> = fc.record(
  {
    reserve_units: fc.record({ value: fc.nat(50), ruleId: fc.constant("r") }),
    percent_of_ats: fc.record({
      value: fc.integer({ min: 0, max: 100 }),
      ruleId: fc.constant("p"),
    }),
    max_shown: fc.record({ value: fc.nat(500), ruleId: fc.constant("m") }),
    zero_at_or_below: fc.record({ value: fc.nat(20), ruleId: fc.constant("z") }),
  },
  { requiredKeys: [] },
);

describe("published quantity", () => {
  it("is never negative and never above ATS", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 100_000 }), arbPolicy, (available, policy) => {
        const q = publishedQuantity(available, policy);
        expect(Number.isInteger(q)).toBe(true);
        expect(q).toBeGreaterThanOrEqual(0);
        expect(q).toBeLessThanOrEqual(Math.max(0, available));
      }),
    );
  });

  it("is monotone in ATS", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1000, max: 100_000 }),
        fc.nat(1000),
        arbPolicy,
        (available, increase, policy) => {
          expect(publishedQuantity(available + increase, policy)).toBeGreaterThanOrEqual(
            publishedQuantity(available, policy),
          );
        },
      ),
    );
  });

  it("applies each operator as documented", () => {
    const p = (kind: BufferKind, value: number): BufferPolicy => ({
      [kind]: { value, ruleId: "x" },
    });
    expect(publishedQuantity(10)).toBe(10);
    expect(publishedQuantity(-3)).toBe(0);
    expect(publishedQuantity(10, p("reserve_units", 3))).toBe(7);
    expect(publishedQuantity(2, p("reserve_units", 3))).toBe(0);
    expect(publishedQuantity(10, p("percent_of_ats", 90))).toBe(9);
    expect(publishedQuantity(1, p("percent_of_ats", 90))).toBe(0); // rounds down, like Sellbrite
    expect(publishedQuantity(10, p("max_shown", 4))).toBe(4);
    expect(publishedQuantity(5, p("zero_at_or_below", 5))).toBe(0);
    expect(publishedQuantity(6, p("zero_at_or_below", 5))).toBe(6);
    expect(
      publishedQuantity(100, {
        reserve_units: { value: 5, ruleId: "a" },
        percent_of_ats: { value: 50, ruleId: "b" },
        max_shown: { value: 40, ruleId: "c" },
      }),
    ).toBe(40);
  });
});

describe("rule precedence", () => {
  const arbRule = fc.record({
    id: fc.uuid(),
    connectionId: fc.option(fc.constantFrom("c1", "c2"), { nil: null }),
    sku: fc.option(fc.constantFrom("A", "B"), { nil: null }),
    kind: fc.constantFrom(...kinds),
    value: fc.nat(100),
  }) satisfies fc.Arbitrary<BufferRule>;

  it("picks, per kind, the most specific rule that matches the listing", () => {
    fc.assert(
      fc.property(
        fc.array(arbRule, { maxLength: 20 }),
        fc.constantFrom("c1", "c2"),
        fc.constantFrom("A", "B"),
        (rules, connectionId, sku) => {
          const policy = resolvePolicy(rules, { connectionId, sku });
          for (const kind of kinds) {
            const matching = rules.filter(
              (r) =>
                r.kind === kind &&
                (r.connectionId ?? connectionId) === connectionId &&
                (r.sku ?? sku) === sku,
            );
            const chosen = policy[kind];
            if (matching.length === 0) {
              expect(chosen).toBeUndefined();
              continue;
            }
            const best = Math.max(...matching.map(ruleSpecificity));
            const winner = matching.find((r) => r.id === chosen?.ruleId);
            expect(winner).toBeDefined();
            expect(ruleSpecificity(winner!)).toBe(best);
          }
        },
      ),
    );
  });

  it("orders scopes channel×SKU > SKU > channel > shop", () => {
    const rules: BufferRule[] = [
      { id: "shop", connectionId: null, sku: null, kind: "reserve_units", value: 1 },
      { id: "chan", connectionId: "c1", sku: null, kind: "reserve_units", value: 2 },
      { id: "sku", connectionId: null, sku: "A", kind: "reserve_units", value: 3 },
      { id: "both", connectionId: "c1", sku: "A", kind: "reserve_units", value: 4 },
    ];
    expect(resolvePolicy(rules, { connectionId: "c1", sku: "A" }).reserve_units?.ruleId).toBe(
      "both",
    );
    expect(
      resolvePolicy(rules.slice(0, 3), { connectionId: "c1", sku: "A" }).reserve_units?.ruleId,
    ).toBe("sku");
    expect(
      resolvePolicy(rules.slice(0, 2), { connectionId: "c1", sku: "A" }).reserve_units?.ruleId,
    ).toBe("chan");
    expect(resolvePolicy(rules, { connectionId: "c2", sku: "B" }).reserve_units?.ruleId).toBe(
      "shop",
    );
  });

  it("rejects invalid rule values", () => {
    expect(() => validateRule({ kind: "percent_of_ats", value: 101 })).toThrow(/between 0 and 100/);
    expect(() => validateRule({ kind: "reserve_units", value: -1 })).toThrow(/non-negative/);
    expect(() => validateRule({ kind: "max_shown", value: 1.5 })).toThrow(/non-negative integer/);
  });
});

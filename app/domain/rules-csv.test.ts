import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRulesCsv, RULE_KINDS, RULES_CSV_HEADER, splitCsvLine } from "./rules-csv";

describe("buffer rules sheet", () => {
  it("reads channel, SKU (all when empty), kind and value", () => {
    const sheet = `${RULES_CSV_HEADER}\nall,,reserve_units,2\n"Outlet, EU",TEE-S,max_shown,5\nAmazon US,all,percent_of_ats,80\n`;
    expect(parseRulesCsv(sheet)).toEqual({
      rows: [
        { line: 2, channel: null, sku: null, kind: "reserve_units", value: 2 },
        { line: 3, channel: "Outlet, EU", sku: "TEE-S", kind: "max_shown", value: 5 },
        { line: 4, channel: "Amazon US", sku: null, kind: "percent_of_ats", value: 80 },
      ],
      errors: [],
    });
  });

  it("reports every bad row with its line, and a wrong header alone", () => {
    const sheet = [
      RULES_CSV_HEADER,
      "all,,reserve_units,-1",
      "all,,hold_some,2",
      "all,TEE,max_shown",
      "all,,percent_of_ats,150",
      "all,TEE,max_shown,3",
      "ALL,tee,max_shown,4",
    ].join("\n");
    const { rows, errors } = parseRulesCsv(sheet);
    expect(rows).toHaveLength(1);
    expect(errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 7]);
    expect(errors[4]!.message).toContain("the same rule as line 6");
    expect(parseRulesCsv("sku,value\nA,1").errors).toEqual([
      { line: 1, message: `The first line must be the columns ${RULES_CSV_HEADER}` },
    ]);
  });

  it("round-trips any fields through quoting, and never throws on any text", () => {
    const quote = (f: string) => `"${f.replace(/"/g, '""')}"`;
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 5 }), (fields) => {
        const trimmed = fields.map((f) => f.trim());
        expect(splitCsvLine(fields.map(quote).join(","))).toEqual(trimmed);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const { rows, errors } = parseRulesCsv(`${RULES_CSV_HEADER}\n${text}`);
        for (const r of rows) {
          expect(RULE_KINDS).toContain(r.kind);
          expect(Number.isInteger(r.value) && r.value >= 0).toBe(true);
        }
        for (const e of errors) expect(e.line).toBeGreaterThanOrEqual(2);
      }),
    );
  });
});

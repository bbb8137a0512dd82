/** Property tests of cycle counts (app/domain/counts.ts): CSV errors, variance, samples, status. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  correctionsFor,
  findLine,
  nextStatus,
  parseCountCsv,
  parseCounted,
  priceToCents,
  selectForCount,
  splitCsv,
  varianceReport,
  type CountAction,
  type CountCandidate,
  type CountStatus,
  type VarianceLineInput,
} from "./counts";

const skuArb = fc.stringMatching(/^[A-Z][A-Z0-9-]{0,7}$/);
const linesArb = fc.uniqueArray(skuArb, { minLength: 1, maxLength: 12 }).map((skus) =>
  skus.map((sku, i) => ({
    itemId: `item-${i}`,
    sku,
    barcode: i % 2 === 0 ? `0${1000 + i}` : null,
  })),
);

describe("count sheet (CSV)", () => {
  it("accepts every well-formed sheet and returns exactly its rows", () => {
    fc.assert(
      fc.property(
        linesArb.chain((lines) =>
          fc.tuple(
            fc.constant(lines),
            fc.subarray(lines, { minLength: 1 }),
            fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 12, maxLength: 12 }),
            fc.boolean(),
          ),
        ),
        ([lines, chosen, counts, crlf]) => {
          const eol = crlf ? "\r\n" : "\n";
          const text = [
            "SKU,Counted",
            ...chosen.map((l, i) => `${l.sku.toLowerCase()},${counts[i]}`),
          ].join(eol);
          const parsed = parseCountCsv(text, lines);
          expect(parsed).toEqual({
            ok: true,
            entries: chosen.map((l, i) => ({ itemId: l.itemId, counted: counts[i], row: i + 2 })),
          });
        },
      ),
    );
  });

  it("one bad row (unknown, duplicate, negative, non-numeric, short) refuses the whole sheet and names that row", () => {
    const bad = fc.constantFrom("unknown", "duplicate", "negative", "fraction", "text", "short");
    fc.assert(
      fc.property(linesArb, bad, fc.nat(), (lines, kind, at) => {
        const rows = lines.map((l) => `${l.sku},5`);
        const pos = at % (rows.length + 1);
        const first = lines[0]!;
        const badRow = {
          unknown: "NOPE-1234567,3",
          duplicate: `${first.sku},2`,
          negative: `${first.sku},-4`,
          fraction: `${first.sku},1.5`,
          text: `${first.sku},ten`,
          short: `${first.sku}`,
        }[kind];
        // A duplicate row needs the first occurrence before it; the others replace a row.
        const body =
          kind === "duplicate"
            ? [...rows.slice(0, Math.max(1, pos)), badRow, ...rows.slice(Math.max(1, pos))]
            : kind === "unknown"
              ? [...rows.slice(0, pos), badRow, ...rows.slice(pos)]
              : [badRow, ...rows.slice(1)];
        const badIndex = kind === "duplicate" ? Math.max(1, pos) : kind === "unknown" ? pos : 0;
        const parsed = parseCountCsv(["sku,counted", ...body].join("\n"), lines);
        expect(parsed.ok).toBe(false);
        if (parsed.ok) return;
        expect(parsed.errors.map((e) => e.row)).toEqual([badIndex + 2]);
        expect(parsed.errors[0]!.message).toMatch(
          {
            unknown: /not part of this count/,
            duplicate: /listed twice \(first on row 2\)/,
            negative: /negative/,
            fraction: /not a whole number/,
            text: /not a whole number/,
            short: /expected 2 fields, found 1/,
          }[kind],
        );
      }),
    );
  });

  it("wrong columns are one error on the header", () => {
    const lines = [{ itemId: "a", sku: "A", barcode: null }];
    for (const header of ["sku,qty_on_shelf", "item,counted", "sku,counted,location", "sku"]) {
      const parsed = parseCountCsv(`${header}\nA,1`, lines);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.errors[0]!.row).toBe(1);
    }
  });

  it("quoted fields round-trip", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string(), { minLength: 1, maxLength: 4 }), {
          minLength: 1,
          maxLength: 6,
        }),
        (rows) => {
          const filtered = rows.filter((r) => !(r.length === 1 && r[0] === ""));
          const text = filtered
            .map((r) => r.map((f) => `"${f.replace(/"/g, '""')}"`).join(","))
            .join("\r\n");
          expect(splitCsv(text)).toEqual({ rows: filtered, error: null });
        },
      ),
    );
  });

  it("scanned codes find lines by SKU (normalised) or barcode", () => {
    const lines = [
      { itemId: "a", sku: "AB-1", barcode: "0123456789012" },
      { itemId: "b", sku: "CD-2", barcode: null },
    ];
    expect(findLine(lines, " ab-1 ")?.itemId).toBe("a");
    expect(findLine(lines, "0123456789012")?.itemId).toBe("a");
    expect(findLine(lines, "cd-2")?.itemId).toBe("b");
    expect(findLine(lines, "EF-3")).toBeNull();
    expect(findLine(lines, "  ")).toBeNull();
  });

  it("counted quantities are whole numbers from 0", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000_000 }), (n) => {
        expect(parseCounted(String(n))).toEqual({ ok: true, value: n });
      }),
    );
    for (const raw of ["-1", "1.0", "1e3", "", "0x10", "1 000", "1000000001"])
      expect(parseCounted(raw).ok).toBe(false);
  });
});

const varianceLineArb: fc.Arbitrary<VarianceLineInput> = fc.record({
  itemId: fc.uuid(),
  sku: skuArb,
  title: fc.constant(null),
  unitCents: fc.option(fc.integer({ min: 0, max: 100_000 })),
  snapshotOnHand: fc.integer({ min: 0, max: 1000 }),
  expectedAtCount: fc.option(fc.integer({ min: -50, max: 1000 })),
  counted: fc.option(fc.integer({ min: 0, max: 1000 })),
});

describe("variance", () => {
  it("totals are the sums of the lines; corrections bring every counted line to its count", () => {
    fc.assert(
      fc.property(fc.array(varianceLineArb, { maxLength: 30 }), (lines) => {
        const { lines: out, totals } = varianceReport(lines);
        const counted = out.filter((l) => l.counted !== null && l.expectedAtCount !== null);
        expect(totals.counted + totals.uncounted).toBe(lines.length);
        expect(totals.netUnits).toBe(
          counted.reduce((s, l) => s + (l.counted! - l.expectedAtCount!), 0),
        );
        expect(totals.absoluteUnits).toBeGreaterThanOrEqual(Math.abs(totals.netUnits));
        expect(totals.netCents).toBe(
          counted.reduce((s, l) => s + (l.counted! - l.expectedAtCount!) * (l.unitCents ?? 0), 0),
        );
        const corrections = correctionsFor(lines);
        expect(corrections.length).toBe(totals.withVariance);
        for (const c of corrections) {
          const line = lines.find((l) => l.itemId === c.itemId)!;
          expect(line.expectedAtCount! + c.delta).toBe(line.counted);
          expect(c.delta).not.toBe(0);
        }
      }),
    );
  });

  it("sales during the count are not variance: expected moves with them", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: -50, max: 50 }),
        (snapshot, soldDuring, shrink) => {
          const expected = snapshot - soldDuring;
          const counted = Math.max(0, expected + shrink);
          const { lines } = varianceReport([
            {
              itemId: "i",
              sku: "S",
              title: null,
              unitCents: 100,
              snapshotOnHand: snapshot,
              expectedAtCount: expected,
              counted,
            },
          ]);
          expect(lines[0]!.varianceUnits).toBe(counted - expected);
          expect(lines[0]!.duringCount).toBe(0 - soldDuring || 0);
        },
      ),
    );
  });
});

const candidateArb: fc.Arbitrary<CountCandidate> = fc.record({
  itemId: fc.uuid(),
  sku: skuArb,
  title: fc.option(fc.string({ maxLength: 10 })),
  onHand: fc.integer({ min: -5, max: 500 }),
  unitCents: fc.option(fc.integer({ min: 0, max: 50_000 })),
  recentUnits: fc.nat({ max: 1000 }),
});

describe("selection", () => {
  it("samples are the top N by value or velocity, deterministic, never more than asked", () => {
    fc.assert(
      fc.property(
        fc.array(candidateArb, { maxLength: 40 }),
        fc.integer({ min: 1, max: 50 }),
        (cands, size) => {
          const value = (c: CountCandidate) => Math.max(0, c.onHand) * (c.unitCents ?? 0);
          for (const [scope, score] of [
            ["top_value", value],
            ["top_velocity", (c: CountCandidate) => c.recentUnits],
          ] as const) {
            const picked = selectForCount(cands, scope, { size });
            expect(picked.length).toBe(Math.min(size, cands.length));
            const min = Math.min(...picked.map(score));
            for (const c of cands)
              if (!picked.includes(c)) expect(score(c)).toBeLessThanOrEqual(min);
            expect(selectForCount([...cands].reverse(), scope, { size }).map(score)).toEqual(
              picked.map(score),
            );
          }
          expect(selectForCount(cands, "all").length).toBe(cands.length);
        },
      ),
    );
  });

  it("a filter keeps SKUs or titles containing the text; an empty filter keeps nothing", () => {
    const cands = [
      { itemId: "1", sku: "MUG-RED", title: "Mug", onHand: 1, unitCents: 1, recentUnits: 0 },
      { itemId: "2", sku: "TEE-S", title: "Red tee", onHand: 1, unitCents: 1, recentUnits: 0 },
      { itemId: "3", sku: "CAP", title: null, onHand: 1, unitCents: 1, recentUnits: 0 },
    ];
    expect(selectForCount(cands, "filter", { filter: "red" }).map((c) => c.itemId)).toEqual([
      "1",
      "2",
    ]);
    expect(selectForCount(cands, "filter", { filter: " " })).toEqual([]);
  });

  it("prices become cents", () => {
    expect(priceToCents("12.50")).toBe(1250);
    expect(priceToCents("0.1")).toBe(10);
    expect(priceToCents(null)).toBeNull();
    expect(priceToCents("abc")).toBeNull();
  });
});

describe("status", () => {
  it("only a count in review can be approved, and an approved count never changes again", () => {
    const statuses: CountStatus[] = ["open", "review", "approved", "cancelled"];
    const actions: CountAction[] = ["enter", "submit", "reopen", "approve", "cancel"];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...actions), { maxLength: 20 }), (seq) => {
        let status: CountStatus = "open";
        let approvals = 0;
        for (const action of seq) {
          const next = nextStatus(status, action);
          if (action === "approve" && next) approvals++;
          if (status === "approved" || status === "cancelled") expect(next).toBeNull();
          status = next ?? status;
        }
        expect(approvals).toBeLessThanOrEqual(1);
      }),
    );
    for (const s of statuses)
      expect(nextStatus(s, "approve")).toBe(s === "review" ? "approved" : null);
  });
});

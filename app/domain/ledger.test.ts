/**
 * Property tests of the order-line algebra (ledger.ts): any order of line commands, duplicates
 * included, ends in the same ledger (a unique-key gate stands in for the database); plus the
 * item commands (inspections, counts, manual adjustments) and their input checks.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addFacts } from "./availability";
import {
  applyItemCommand,
  applyLineCommand,
  EMPTY_LINE,
  isLastWriterWins,
  lineCommitment,
  requireKey,
  type LineCommand,
  type LineState,
} from "./ledger";
import { ZERO_FACTS, type LevelFacts } from "./types";

type Op = { key: string; line: string; command: LineCommand };

const arbCommand: fc.Arbitrary<LineCommand> = fc.oneof(
  fc.record({
    kind: fc.constant("placed" as const),
    quantity: fc.integer({ min: 1, max: 9 }),
    version: fc.constant("2026-01-01T00:00:00Z"),
  }),
  fc.record({
    kind: fc.constant("edited" as const),
    quantity: fc.nat(9),
    version: fc
      .integer({ min: 1, max: 59 })
      .map((s) => `2026-01-01T00:00:${String(s).padStart(2, "0")}Z`),
  }),
  fc.constant({ kind: "cancelled_all" as const }),
  fc.record({ kind: fc.constant("cancelled" as const), quantity: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant("shipped" as const), quantity: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant("returned" as const), quantity: fc.integer({ min: 1, max: 2 }) }),
  fc.record({
    kind: fc.constant("refunded_no_restock" as const),
    quantity: fc.integer({ min: 1, max: 2 }),
  }),
);

const arbStream: fc.Arbitrary<Op[]> = fc
  .array(fc.record({ line: fc.constantFrom("l1", "l2", "l3"), command: arbCommand }), {
    maxLength: 40,
  })
  .map((ops) => ops.map((op, i) => ({ ...op, key: `k${i}` })));

/** The database's behaviour in miniature: additive commands pass a unique-key gate. */
function run(ops: Op[]): { lines: Map<string, LineState>; total: LevelFacts } {
  const seen = new Set<string>();
  const lines = new Map<string, LineState>();
  let total = { ...ZERO_FACTS };
  for (const op of ops) {
    if (!isLastWriterWins(op.command)) {
      if (seen.has(op.key)) continue;
      seen.add(op.key);
    }
    const { state, delta } = applyLineCommand(lines.get(op.line) ?? EMPTY_LINE, op.command);
    lines.set(op.line, state);
    total = addFacts(total, delta);
  }
  return { lines, total };
}

describe("order line commands", () => {
  it("end in the same ledger whatever the order and however many duplicates (exactly-once)", () => {
    fc.assert(
      fc.property(
        arbStream.chain((ops) =>
          fc.tuple(
            fc.constant(ops),
            fc
              .shuffledSubarray(
                ops.flatMap((op) => [op, op, op]),
                { minLength: 0 },
              )
              .map((extra) => extra),
            fc.array(fc.nat(), { minLength: ops.length * 3, maxLength: ops.length * 3 }),
          ),
        ),
        ([ops, duplicates, noise]) => {
          // Every op at least once, up to 3 times, in a random order.
          const delivered = [...ops, ...duplicates.slice(0, ops.length * 2)]
            .map((op, i) => ({ op, sort: noise[i] ?? i }))
            .sort((a, b) => a.sort - b.sort)
            .map((x) => x.op);
          const clean = run(ops);
          const messy = run(delivered);
          expect(messy.total).toEqual(clean.total);
          for (const line of ["l1", "l2", "l3"]) {
            expect(messy.lines.get(line) ?? EMPTY_LINE).toEqual(
              clean.lines.get(line) ?? EMPTY_LINE,
            );
          }
          // Conservation: the committed delta adds up to the final commitments.
          const committed = [...clean.lines.values()].reduce((s, l) => s + lineCommitment(l), 0);
          expect(clean.total.committed).toBe(committed);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("handles cancel before create and edit before create", () => {
    const cancelFirst = run([
      { key: "c", line: "l", command: { kind: "cancelled_all" } },
      {
        key: "p",
        line: "l",
        command: { kind: "placed", quantity: 2, version: "2026-01-01T00:00:00Z" },
      },
    ]);
    expect(cancelFirst.total.committed).toBe(0);

    const editFirst = run([
      {
        key: "e",
        line: "l",
        command: { kind: "edited", quantity: 5, version: "2026-01-01T00:05:00Z" },
      },
      {
        key: "p",
        line: "l",
        command: { kind: "placed", quantity: 2, version: "2026-01-01T00:00:00Z" },
      },
    ]);
    expect(editFirst.total.committed).toBe(5);

    const staleEdit = run([
      {
        key: "p",
        line: "l",
        command: { kind: "placed", quantity: 2, version: "2026-01-01T00:00:00Z" },
      },
      {
        key: "e2",
        line: "l",
        command: { kind: "edited", quantity: 1, version: "2026-01-01T00:09:00Z" },
      },
      {
        key: "e1",
        line: "l",
        command: { kind: "edited", quantity: 4, version: "2026-01-01T00:05:00Z" },
      },
    ]);
    expect(staleEdit.total.committed).toBe(1);
  });

  it("ships committed units out of on hand and holds returns", () => {
    const { total } = run([
      {
        key: "p",
        line: "l",
        command: { kind: "placed", quantity: 3, version: "2026-01-01T00:00:00Z" },
      },
      { key: "s", line: "l", command: { kind: "shipped", quantity: 2 } },
      { key: "r", line: "l", command: { kind: "returned", quantity: 1 } },
      { key: "x", line: "l", command: { kind: "cancelled", quantity: 1 } },
    ]);
    expect(total).toEqual({ onHand: -1, committed: 0, held: 1, damaged: 0, safetyStock: 0 });
  });

  it("rejects bad quantities and missing keys", () => {
    expect(() => applyLineCommand(EMPTY_LINE, { kind: "shipped", quantity: -1 })).toThrow(
      /non-negative integer/,
    );
    expect(() =>
      applyLineCommand(EMPTY_LINE, { kind: "placed", quantity: 1.5, version: "v" }),
    ).toThrow(/non-negative integer/);
    expect(() => applyLineCommand(EMPTY_LINE, { kind: "cancelled", quantity: 0 })).toThrow();
    expect(() => requireKey("")).toThrow(/idempotency key/);
    expect(() => requireKey(undefined)).toThrow(/idempotency key/);
  });
});

describe("item commands", () => {
  const facts: LevelFacts = { onHand: 10, committed: 2, held: 3, damaged: 1, safetyStock: 0 };

  it("moves held units to sellable or damaged", () => {
    expect(applyItemCommand(facts, { kind: "inspection_passed", quantity: 2 })).toMatchObject({
      held: -2,
      onHand: 0,
    });
    expect(applyItemCommand(facts, { kind: "inspection_failed", quantity: 3 })).toMatchObject({
      held: -3,
      damaged: 3,
    });
    expect(() => applyItemCommand(facts, { kind: "inspection_passed", quantity: 4 })).toThrow(
      /only 3/,
    );
    expect(applyItemCommand(facts, { kind: "written_off", quantity: 1 })).toMatchObject({
      damaged: -1,
      onHand: -1,
    });
  });

  it("turns an absolute count into a delta, allowing for writes still on their way", () => {
    expect(
      applyItemCommand(facts, { kind: "on_hand_counted", onHand: 7, pendingToSource: 0 }).onHand,
    ).toBe(-3);
    // The ledger already shipped 2 units that the source will only see once we write them.
    expect(
      applyItemCommand(facts, { kind: "on_hand_counted", onHand: 12, pendingToSource: -2 }).onHand,
    ).toBe(0);
    expect(
      applyItemCommand(facts, { kind: "on_hand_counted", onHand: -1, pendingToSource: 0 }).onHand,
    ).toBe(-11);
    expect(() =>
      applyItemCommand(facts, { kind: "on_hand_counted", onHand: 1.5, pendingToSource: 0 }),
    ).toThrow();
  });

  it("requires a reason and a non-zero integer for manual adjustments", () => {
    expect(
      applyItemCommand(facts, { kind: "manual_adjustment", delta: -2, reason: "cycle count" })
        .onHand,
    ).toBe(-2);
    expect(() =>
      applyItemCommand(facts, { kind: "manual_adjustment", delta: 0, reason: "x" }),
    ).toThrow();
    expect(() =>
      applyItemCommand(facts, { kind: "manual_adjustment", delta: 2, reason: " " }),
    ).toThrow(/reason/);
    expect(applyItemCommand(facts, { kind: "safety_stock_set", quantity: 4 }).safetyStock).toBe(4);
  });
});

import { describe, expect, it } from "vitest";
import type { LineCommand } from "./ledger";
import { unchangedClaim, type LedgerOperation } from "./operations";

const line = (lineId: string, command: LineCommand, over: object = {}): LedgerOperation => ({
  type: "line",
  key: `k-${lineId}-${command.kind}`,
  connectionId: "c1",
  orderId: "o1",
  lineId,
  sku: "A",
  command,
  ...over,
});

describe("unchangedClaim", () => {
  it("claims each last-writer-wins line's quantity at the snapshot's version, and the keyed effects", () => {
    const claim = unchangedClaim(
      [
        line("1", { kind: "placed", quantity: 2, version: "v2" }),
        line("2", { kind: "edited", quantity: 0, version: "v2" }),
        line("1", { kind: "shipped", quantity: 1 }),
      ],
      "c1",
    );
    expect(claim).toEqual({
      orderId: "o1",
      lines: [
        { lineId: "1", quantity: 2 },
        { lineId: "2", quantity: 0 },
      ],
      version: "v2",
      keys: ["k-1-shipped"],
      keyedLineIds: ["1"],
    });
  });

  it("makes no claim a snapshot's shape rules out", () => {
    const placed = (v: string, over: object = {}) =>
      line("1", { kind: "placed", quantity: 1, version: v }, over);
    expect(unchangedClaim([], "c1")).toBeNull();
    expect(unchangedClaim([placed("v1"), placed("v2")], "c1")).toBeNull();
    expect(unchangedClaim([placed("v1"), placed("v1", { orderId: "o2" })], "c1")).toBeNull();
    expect(unchangedClaim([placed("v1")], "c2")).toBeNull();
    expect(
      unchangedClaim(
        [
          placed("v1"),
          {
            type: "item",
            key: "i",
            sku: "A",
            command: { kind: "manual_adjustment", delta: 1, reason: "x" },
          } as LedgerOperation,
        ],
        "c1",
      ),
    ).toBeNull();
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyLineCommand, lineCommitment, type LineState } from "../../domain/ledger";
import type { LineOperation } from "../../domain/operations";
import { walmartInbound, verifyHmac } from "./inbound";
import { SNAPSHOT_TOPIC, type WalmartOrder } from "./payloads";
import { snapshotOperations, translateDelivery } from "./translate";
import { createHmac } from "node:crypto";

const inbound = walmartInbound(async () => ["secret-0123456789-0123456789-0123"]);

function order(
  lines: { n: string; sku: string; q: number; cancelled?: number; shipped?: number; at: number }[],
): WalmartOrder {
  return {
    purchaseOrderId: "1800000000001",
    orderDate: 1_000,
    orderLines: {
      orderLine: lines.map((l) => ({
        lineNumber: l.n,
        item: { sku: l.sku },
        orderLineQuantity: { amount: l.q },
        statusDate: l.at,
        orderLineStatuses: {
          orderLineStatus: [
            {
              status: "Created",
              statusQuantity: { amount: l.q - (l.cancelled ?? 0) - (l.shipped ?? 0) },
            },
            ...(l.shipped ? [{ status: "Shipped", statusQuantity: { amount: l.shipped } }] : []),
            ...(l.cancelled
              ? [{ status: "Cancelled", statusQuantity: { amount: l.cancelled } }]
              : []),
          ],
        },
      })),
    },
  };
}

/** Applies operations the way the ledger does: LWW by version, the rest once per key. */
function apply(ops: LineOperation[]): { committed: number; shipped: number } {
  let state: LineState = {
    ordered: 0,
    orderedVersion: null,
    cancelledAll: false,
    cancelled: 0,
    shipped: 0,
    returned: 0,
  };
  const keys = new Set<string>();
  for (const op of ops) {
    const lww = op.command.kind === "placed" || op.command.kind === "edited";
    if (!lww) {
      if (keys.has(op.key)) continue;
      keys.add(op.key);
    }
    state = applyLineCommand(state, op.command).state;
  }
  return { committed: lineCommitment(state), shipped: state.shipped };
}

describe("Walmart order snapshots", () => {
  it("commits what is open and ships each unit once, whatever the order of snapshots", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.constantFrom("ship", "cancel"), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (q, actions, picks) => {
          // The line's history as Walmart shows it after each action.
          const history = [{ cancelled: 0, shipped: 0, at: 1_000 }];
          for (const [i, a] of actions.entries()) {
            const last = history[history.length - 1]!;
            const open = q - last.cancelled - last.shipped;
            if (open === 0) break;
            history.push({
              cancelled: last.cancelled + (a === "cancel" ? 1 : 0),
              shipped: last.shipped + (a === "ship" ? 1 : 0),
              at: 2_000 + i,
            });
          }
          const final = history[history.length - 1]!;
          // Deliveries: every snapshot at least once (the last one included), duplicated and
          // shuffled by `picks`.
          const deliveries = [...history.keys(), ...picks.map((p) => p % history.length)];
          const shuffled = deliveries
            .map((d, i) => ({ d, k: picks[i % Math.max(1, picks.length)] ?? i }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.d);
          const ops = shuffled.flatMap((h) =>
            snapshotOperations("c1", {
              order: order([{ n: "1", sku: "A", q, ...history[h]! }]),
            }),
          );
          const result = apply(ops);
          expect(result.committed).toBe(q - final.cancelled - final.shipped);
          expect(result.shipped).toBe(final.shipped);
        },
      ),
    );
  });

  it("adopted orders release the units shipped before StockGuard watched them", () => {
    const adopted = snapshotOperations("c1", {
      order: order([{ n: "1", sku: "A", q: 3, shipped: 1, at: 5 }]),
      adopted: true,
    });
    const later = snapshotOperations("c1", {
      order: order([{ n: "1", sku: "A", q: 3, shipped: 2, at: 6 }]),
    });
    const result = apply([...adopted, ...later]);
    expect(result).toEqual({ committed: 1, shipped: 1 });
  });

  it("PO_CREATED places each line at the event time; a later snapshot's cancellation wins", () => {
    const created = translateDelivery("c1", "PO_CREATED", {
      source: { eventType: "PO_CREATED", eventId: "e1", eventTime: 1_000 },
      payload: {
        purchaseOrderId: "1800000000001",
        orderLines: [{ lineNumber: "1", sku: "A", quantity: { measurementValue: 2 } }],
      },
    });
    expect(created.kind).toBe("ledger");
    const ops = created.kind === "ledger" ? (created.operations as LineOperation[]) : [];
    expect(ops[0]!.command).toEqual({
      kind: "placed",
      quantity: 2,
      version: new Date(1_000).toISOString(),
    });
    const snapshot = snapshotOperations("c1", {
      order: order([{ n: "1", sku: "A", q: 2, cancelled: 2, at: 2_000 }]),
    });
    expect(apply([...snapshot, ...ops]).committed).toBe(0);
    expect(apply([...ops, ...snapshot]).committed).toBe(0);
  });

  it("cancellation events name the order to read back; intent to cancel releases nothing", () => {
    const payload = {
      purchaseOrderId: "1800000000001",
      orderLines: [{ lineNumber: "1", sku: "A", quantity: { measurementValue: 1 } }],
    };
    const source = (eventType: string) => ({ eventType, eventId: "e", eventTime: 1 });
    expect(
      translateDelivery("c1", "PO_LINE_AUTOCANCELLED", { source: source("x"), payload }),
    ).toEqual({ kind: "order_reference", orderId: "1800000000001" });
    expect(
      translateDelivery("c1", "ORDER_UPDATES", {
        source: source("ORDER_UPDATES"),
        payload: { subEventType: "FRAUD_CANCEL", order: payload },
      }),
    ).toEqual({ kind: "order_reference", orderId: "1800000000001" });
    expect(
      translateDelivery("c1", "ORDER_UPDATES", {
        source: source("ORDER_UPDATES"),
        payload: { meta: { subEventType: "INTENT_TO_CANCEL" }, order: payload },
      }).kind,
    ).toBe("ignored");
  });

  it("INVENTORY_OOS is recorded only; OFFER_UNPUBLISHED is a catalog change", () => {
    const oos = translateDelivery("c1", "INVENTORY_OOS", {
      source: { eventType: "INVENTORY_OOS", eventId: "e", eventTime: 5_000 },
      payload: { sku: "A", shipNodes: [{ shipNode: "1", availToSellQty: 0 }] },
    });
    expect(oos.kind).toBe("ignored");
    const unpublished = translateDelivery("c1", "OFFER_UNPUBLISHED", {
      source: { eventType: "OFFER_UNPUBLISHED", eventId: "e", eventTime: 5_000 },
      payload: { sku: "A", publishStatus: "UNPUBLISHED" },
    });
    expect(unpublished).toEqual({ kind: "catalog_changed" });
  });
});

describe("Walmart inbound checks", () => {
  it("keeps only what StockGuard uses (no buyer data) and re-checks its own output", () => {
    const polled = {
      order: {
        ...order([{ n: "1", sku: "A", q: 1, at: 5 }]),
        customerEmailId: "x@relay.walmart.com",
        shippingInfo: { phone: "555", postalAddress: { name: "Jane Buyer" } },
      },
    };
    const checked = inbound.check(SNAPSHOT_TOPIC, polled);
    expect(checked.ok).toBe(true);
    const text = JSON.stringify(checked.ok && checked.payload);
    expect(text).not.toContain("Jane");
    expect(text).not.toContain("relay");
    expect(inbound.check(SNAPSHOT_TOPIC, checked.ok ? checked.payload : null).ok).toBe(true);
  });

  it("refuses malformed events and quantities PostgreSQL cannot hold", () => {
    const source = { eventType: "PO_CREATED", eventId: "e", eventTime: "2026-12-01T00:00:00Z" };
    expect(inbound.check("PO_CREATED", { source, payload: { nope: 1 } }).ok).toBe(false);
    expect(
      inbound.check("PO_CREATED", {
        source,
        payload: {
          purchaseOrderId: "1",
          orderLines: [
            { lineNumber: "1", sku: "A", quantity: { measurementValue: "99999999999" } },
          ],
        },
      }).ok,
    ).toBe(false);
    expect(inbound.check("BUY_BOX_CHANGED", { source: { ...source, eventType: "X" } }).ok).toBe(
      true,
    );
  });

  it("verifies the HMAC in base64 or hex, and nothing else", () => {
    const body = '{"source":{}}';
    const secret = "s".repeat(40);
    const mac = createHmac("sha256", secret).update(body).digest();
    expect(verifyHmac(body, mac.toString("base64"), secret)).toBe(true);
    expect(verifyHmac(body, mac.toString("hex"), secret)).toBe(true);
    expect(verifyHmac(body, mac.toString("base64"), "t".repeat(40))).toBe(false);
    expect(verifyHmac(`${body} `, mac.toString("base64"), secret)).toBe(false);
    expect(verifyHmac(body, null, secret)).toBe(false);
    expect(verifyHmac(body, "", secret)).toBe(false);
  });
});

/**
 * The source store's own fulfilment moves its on_hand at Shopify before StockGuard hears of it.
 * A counting read made in between (a receipt at the source changing the level at the same time)
 * counts the shipment already, and an order placed *and* shipped before either webhook leaves no
 * commitment behind to tell it from a count: the shipped movement then takes the unit a second
 * time and every channel stays one short for good (seen in the chaos convergence run, seed 12:
 * ledger on_hand 5, the store 6, nothing left to read it again). So applying the source's own
 * shipment flags its level for the counting read; other channels' shipments and placements do not.
 */
import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import * as listings from "../../app/repositories/listings.server";
import { storeDelivery } from "../../app/services/inbound/deliveries.server";
import { ingestReceipt } from "../../app/services/ingest/ingest-receipt.server";
import { orderSnapshot, sourceTarget, storeOrder } from "../factories/deliveries";
import { addSalesConnection, seedShop } from "../factories/shop";

const NO_ID = "00000000-0000-0000-0000-000000000000";

async function shipped(target: ReturnType<typeof sourceTarget>, id: number, sku: string) {
  const stored = await storeDelivery({
    target,
    sameAccount: [target],
    topic: "orders/updated",
    eventId: `evt-${target.connectionId}-${id}-shipped`,
    deliveryId: `wh-${target.connectionId}-${id}-shipped`,
    resourceId: String(id),
    occurredAt: new Date(),
    payload: {
      ...orderSnapshot(id, sku),
      updated_at: "2026-11-26T10:05:00Z",
      fulfillments: [
        {
          id: id * 100,
          order_id: id,
          status: "success",
          line_items: [{ id: id * 10, quantity: 1, sku }],
        },
      ],
    },
  });
  if (stored.replayed) throw new Error("unexpected replay");
  return stored.receiptId;
}

describe("the source's own shipment", () => {
  it("flags its level for the counting read; a placement or another channel's shipment does not", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "TEE", onHand: 6 }] });
    const source = sourceTarget(shop);
    const store = await addSalesConnection(prisma, shop, { name: "store-b" });
    const storeTarget = { ...source, connectionId: store.connectionId, role: "sales" as const };
    const sourceListing = await prisma.listing.findFirstOrThrow({
      where: { connectionId: shop.sourceConnectionId },
    });
    const flagged = async () =>
      (await listings.flaggedSourceListings(shop.sourceConnectionId, NO_ID, 10)).map((l) => l.id);

    // Another channel's order, placed and shipped: its shipment goes to the source as an outbox
    // write (the store never shipped it itself), nothing to read back.
    expect(await ingestReceipt(await storeOrder(storeTarget, 1, "TEE"))).toMatchObject({
      status: "applied",
    });
    expect(await ingestReceipt(await shipped(storeTarget, 1, "TEE"))).toMatchObject({
      status: "applied",
      applied: 1,
    });
    // The source's own order placed: on_hand did not move.
    expect(await ingestReceipt(await storeOrder(source, 2, "TEE"))).toMatchObject({
      status: "applied",
    });
    expect(await flagged()).toEqual([]);

    // …and shipped at the store: the level is read again.
    expect(await ingestReceipt(await shipped(source, 2, "TEE"))).toMatchObject({
      status: "applied",
      applied: 1,
    });
    expect(await flagged()).toEqual([sourceListing.id]);
    const moves = await prisma.movement.findMany({
      where: { shopId: shop.shopId, kind: "shipped" },
      select: { dOnHand: true, connectionId: true },
    });
    expect(moves).toHaveLength(2);
  });
});

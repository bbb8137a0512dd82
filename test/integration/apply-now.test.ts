import { Queue } from "bullmq";
import { afterAll, describe, expect, it, vi } from "vitest";
import prisma from "../../app/db.server";
import { env } from "../../app/env.server";
import { ShopSlots } from "../../app/lib/shop-slots";
import * as receipts from "../../app/repositories/receipts.server";
import { applyNowOrEnqueue } from "../../app/services/inbound/apply-now.server";
import { recordUninstall } from "../../app/services/shops.server";
import { orderSnapshot, sourceTarget, storeOrder } from "../factories/deliveries";
import { seedShop, type SeededShop } from "../factories/shop";

/**
 * The web's fast lane (docs/decisions/0011-apply-receipts-in-the-web.md): a stored receipt is
 * applied by the process that stored it when a slot is free, handed to the ingest queue when the
 * lane is full for its shop or the apply fails. No worker runs in this file: a receipt that is
 * applied was applied by the lane.
 */
const ingest = new Queue("ingest", {
  connection: { url: env().REDIS_URL },
  prefix: env().QUEUE_PREFIX,
});
afterAll(() => ingest.close());

const store = (shop: SeededShop, id: number, sku: string) =>
  storeOrder(sourceTarget(shop), id, sku);

async function settled(id: bigint): Promise<{ status: string; error: string | null }> {
  for (let i = 0; i < 200; i++) {
    const row = await prisma.receipt.findUniqueOrThrow({ where: { id } });
    if (row.status !== "pending") return { status: row.status, error: row.error };
    await new Promise((r) => setTimeout(r, 25));
  }
  return { status: "pending", error: null };
}

describe("ShopSlots", () => {
  it("bounds the lane in total and one shop to all but the slots kept for other shops", () => {
    const slots = new ShopSlots(4);
    expect(slots.perShop).toBe(2);
    expect([slots.tryTake("a"), slots.tryTake("a"), slots.tryTake("a")]).toEqual([
      true,
      true,
      false,
    ]);
    expect([slots.tryTake("b"), slots.tryTake("b"), slots.tryTake("c")]).toEqual([
      true,
      true,
      false,
    ]);
    expect(slots.inUse).toBe(4);
    slots.release("a");
    expect(slots.tryTake("c")).toBe(true);
    expect(new ShopSlots(1).perShop).toBe(1);
  });

  it("gives the web's lane to a shop selling alone, all but the slots kept for other shops", () => {
    const lane = new ShopSlots(8);
    const loud = Array.from({ length: 8 }, () => lane.tryTake("loud"));
    expect(loud).toEqual([true, true, true, true, true, true, false, false]);
    expect([lane.tryTake("quiet"), lane.tryTake("other"), lane.tryTake("quiet")]).toEqual([
      true,
      true,
      false,
    ]);
    // A freed slot goes to whoever asks first, within the bounds.
    lane.release("loud");
    expect([lane.tryTake("quiet"), lane.tryTake("loud")]).toEqual([true, false]);
    expect(new ShopSlots(2).perShop).toBe(1);
  });
});

describe("applying a stored receipt in the web", () => {
  it("applies it at once, without a queue job, when a slot is free", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "NOW", onHand: 5 }] });
    const first = await store(shop, 1, "NOW");
    // storeDelivery itself only stores: outside the web process the lane is closed.
    expect(await ingest.getJob(`r-${first}`)).toBeTruthy();
    const id = await store(shop, 2, "NOW");
    await ingest.obliterate({ force: true });

    const slots = new ShopSlots(2);
    await applyNowOrEnqueue(id, shop.shopId, { slots });
    expect(slots.inUse).toBe(1);
    expect(await settled(id)).toEqual({ status: "applied", error: null });
    // The slot is given back once the apply returns, a moment after its commit.
    for (let i = 0; i < 80 && slots.inUse > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(slots.inUse).toBe(0);
    expect(await ingest.getJob(`r-${id}`)).toBeUndefined();
    const level = await prisma.stockLevel.findFirstOrThrow({
      where: { itemId: shop.itemIds.get("NOW")! },
    });
    expect(level.committed).toBe(1);
  });

  it("applies a receipt this process just stored as stored, without reading it back", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "FRESH", onHand: 5 }] });
    const storeIt = (triggeredAt: Date | null, payload: unknown) =>
      receipts.storeReceipt({
        shopId: shop.shopId,
        connectionId: shop.sourceConnectionId,
        topic: "orders/create",
        eventId: "evt-fresh-1",
        webhookId: "wh-fresh-1",
        resourceId: "1",
        triggeredAt,
        payload,
        sameAccount: [shop.sourceConnectionId],
      });
    const stored = await storeIt(new Date("2026-11-26T10:00:00.123Z"), {
      ...orderSnapshot(1, "FRESH"),
      note: "ünïcode \u2028",
      total_price: "10.50",
    });
    if (stored.replayed || stored.duplicate) throw new Error("expected a new receipt");
    // Exactly what the ingest would read back (payload, times, the connection and its shop).
    const loaded = stored.loaded();
    expect(loaded).toEqual(await receipts.loadReceiptForIngest(stored.id));
    expect(loaded.connection?.shopDomain).toBe(shop.domain);
    // A duplicate carries nothing to apply from memory (its first delivery may be applied).
    const again = await storeIt(null, {});
    expect(again).toEqual({ replayed: false, id: stored.id, duplicate: true, status: "pending" });

    const read = vi.spyOn(receipts, "loadReceiptForIngest");
    try {
      const slots = new ShopSlots(2);
      await applyNowOrEnqueue(stored.id, shop.shopId, { stored: stored.loaded, slots });
      expect(await settled(stored.id)).toEqual({ status: "applied", error: null });
      expect(read).not.toHaveBeenCalled();
    } finally {
      read.mockRestore();
    }
    const level = await prisma.stockLevel.findFirstOrThrow({
      where: { itemId: shop.itemIds.get("FRESH")! },
    });
    expect(level.committed).toBe(1);
  });

  it("enqueues what a full lane cannot take, and keeps a slot for another shop", async () => {
    const loud = await seedShop(prisma, { items: [{ sku: "LOUD", onHand: 50 }] });
    const quiet = await seedShop(prisma, { items: [{ sku: "QUIET", onHand: 50 }] });
    const ids = [await store(loud, 1, "LOUD"), await store(loud, 2, "LOUD")];
    const other = await store(quiet, 1, "QUIET");
    await ingest.obliterate({ force: true });

    const slots = new ShopSlots(2);
    await applyNowOrEnqueue(ids[0]!, loud.shopId, { slots }); // the shop's one slot
    await applyNowOrEnqueue(ids[1]!, loud.shopId, { slots }); // over its share: queued
    await applyNowOrEnqueue(other, quiet.shopId, { slots }); // the other shop's slot
    expect(await ingest.getJob(`r-${ids[1]}`)).toBeTruthy();
    expect(await settled(ids[0]!)).toMatchObject({ status: "applied" });
    expect(await settled(other)).toMatchObject({ status: "applied" });
    expect(await ingest.getJob(`r-${ids[0]}`)).toBeUndefined();
    expect(await ingest.getJob(`r-${other}`)).toBeUndefined();
    // No worker: the queued one waits for the ingest queue.
    expect((await prisma.receipt.findUniqueOrThrow({ where: { id: ids[1]! } })).status).toBe(
      "pending",
    );
  });

  it("hands a receipt whose apply fails to the ingest queue", async () => {
    const shop = await seedShop(prisma, { items: [{ sku: "GONE", onHand: 5 }] });
    const id = await store(shop, 1, "GONE");
    await ingest.obliterate({ force: true });
    // The shop uninstalls between the delivery and its apply (what app/uninstalled does).
    await recordUninstall(shop.domain);

    const slots = new ShopSlots(2);
    await applyNowOrEnqueue(id, shop.shopId, { slots });
    for (let i = 0; i < 200 && slots.inUse > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(slots.inUse).toBe(0);
    expect(await ingest.getJob(`r-${id}`)).toBeTruthy();
    const level = await prisma.stockLevel.findFirstOrThrow({
      where: { itemId: shop.itemIds.get("GONE")! },
    });
    expect(level.committed).toBe(0);
  });
});

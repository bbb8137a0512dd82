import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  ChannelAdapter,
  ConnectionContext,
  SourceStorePort,
} from "../../app/channels/channel-adapter";
import prisma from "../../app/db.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { adapterFor } from "../../app/channels/registry.server";
import { readSourceLevels } from "../../app/services/ingest/read-source-levels.server";
import { applyLedgerEvent } from "../../app/services/ledger/apply-event.server";
import { republishShop } from "../../app/services/ledger/republish.server";
import { pushSourceConnection } from "../../app/services/push/push-source.server";
import { pushSalesConnection } from "../../app/services/push/push-sales.server";
import { connectSalesStore, installSource, startLocalStores } from "../helpers/local-stores";
import type { LocalShopify } from "../sandbox/shopify/server";

/**
 * The source store against the local Shopify, service by service (no processes): buffers held in
 * `safety_stock` with on_hand untouched, marketplace-style shipments leaving through the outbox,
 * and the outbox surviving a crash between Shopify applying a batch and us recording it.
 */
const SOURCE = "outbox-source.myshopify.com";
const OTHER = "outbox-other.myshopify.com";
let local: LocalShopify;
let source: ConnectionContext;
let other: ConnectionContext;
let shopId: string;

const level = (store: string, sku: string) => {
  const shop = local.sandbox.shop(store);
  const variant = [...shop.variants.values()].find((v) => v.sku === sku)!;
  const q = [...shop.items.get(variant.inventoryItemId)!.levels.values()][0]!.quantities;
  return {
    ...q,
    on_hand:
      q.available + q.committed + q.reserved + q.damaged + q.safety_stock + q.quality_control,
  };
};

beforeAll(async () => {
  local = await startLocalStores(
    [SOURCE, OTHER].map((domain, i) => ({
      domain,
      products: [
        { title: "Tee", variants: [{ sku: "TEE", inventory: { Warehouse: i === 0 ? 10 : 0 } }] },
      ],
    })),
  );
  ({ shopId, source } = await installSource(SOURCE, "token-0"));
  other = await connectSalesStore(shopId, OTHER, "token-1");
  await importCatalog(source, adapterFor("shopify"));
  await importCatalog(other, adapterFor("shopify"));
  await pushSourceConnection(source, adapterFor("shopify"), {});
  await pushSalesConnection(other, adapterFor("shopify"));
});

afterAll(async () => {
  await local?.close();
});

describe("the source store", () => {
  it("imports the physical stock and shows it everywhere", async () => {
    const item = await prisma.stockItem.findFirstOrThrow({
      where: { shopId, sku: "TEE" },
      include: { levels: true },
    });
    expect(item.levels[0]).toMatchObject({ onHand: 10, committed: 0 });
    expect(level(OTHER, "TEE").available).toBe(10);
    expect(level(SOURCE, "TEE")).toMatchObject({ available: 10, on_hand: 10 });
  });

  it("holds a storefront buffer in safety_stock without touching on_hand", async () => {
    await prisma.bufferRule.create({
      data: { shopId, connectionId: source.id, kind: "reserve_units", value: 2 },
    });
    await republishShop(shopId);
    await pushSourceConnection(source, adapterFor("shopify"), {});
    await pushSalesConnection(other, adapterFor("shopify"));
    expect(level(SOURCE, "TEE")).toMatchObject({ available: 8, safety_stock: 2, on_hand: 10 });
    expect(level(OTHER, "TEE").available).toBe(10);
  });

  it("reserves units sold elsewhere and lets a shipment leave on_hand exactly once, even across a crash", async () => {
    // Sold on the other store: committed in the ledger, reserved at the source.
    const order = local.sandbox.checkout(OTHER, { lines: [{ sku: "TEE", quantity: 3 }] }) as {
      id: number;
      line_items: { id: number }[];
    };
    const lineId = String(order.line_items[0]!.id);
    const orderId = String(order.id);
    await applyLedgerEvent({
      shopId,
      actor: "test",
      operations: [
        {
          type: "line",
          key: `${other.id}/o/${orderId}/placed`,
          connectionId: other.id,
          orderId,
          lineId,
          sku: "TEE",
          command: { kind: "placed", quantity: 3, version: "2026-11-26T10:00:00.000Z" },
        },
      ],
    });
    await pushSourceConnection(source, adapterFor("shopify"), {});
    expect(level(SOURCE, "TEE")).toMatchObject({
      reserved: 3,
      on_hand: 10,
      available: 5,
      safety_stock: 2,
    });

    // Shipped from the warehouse: the outbox takes 3 units off the source's on_hand…
    await applyLedgerEvent({
      shopId,
      actor: "test",
      operations: [
        {
          type: "line",
          key: `${other.id}/f/1/${lineId}`,
          connectionId: other.id,
          orderId,
          lineId,
          sku: "TEE",
          command: { kind: "shipped", quantity: 3 },
        },
      ],
    });
    // …but the worker dies right after Shopify applied the batch, before recording it.
    const real = adapterFor("shopify");
    const store = real.source!;
    const crashing = Object.assign(Object.create(real) as ChannelAdapter, {
      source: {
        ...store,
        adjust: async (...args: Parameters<SourceStorePort["adjust"]>) => {
          await store.adjust(...args);
          throw new Error("worker killed");
        },
      },
    });
    await expect(pushSourceConnection(source, crashing, {})).rejects.toThrow("worker killed");
    expect(level(SOURCE, "TEE").on_hand).toBe(7);
    expect(await prisma.sourceAdjustment.findFirstOrThrow({ where: { shopId } })).toMatchObject({
      status: "sending",
    });

    // A level read now cannot tell whether the batch landed: it must not count anything.
    await prisma.listing.updateMany({
      where: { connectionId: source.id },
      data: { remoteSource: "webhook" },
    });
    const read = await readSourceLevels(source.id, 0);
    expect(read).toMatchObject({ counted: 0, postponed: 1 });

    // The next push resends the batch with the same key: Shopify answers from its idempotency
    // store, nothing is applied twice, and the row is confirmed.
    await pushSourceConnection(source, adapterFor("shopify"), {});
    expect(await prisma.sourceAdjustment.findFirstOrThrow({ where: { shopId } })).toMatchObject({
      status: "written",
    });
    const after = level(SOURCE, "TEE");
    expect(after).toMatchObject({ on_hand: 7, reserved: 0, available: 5, safety_stock: 2 });
    await readSourceLevels(source.id, 0);
    const item = await prisma.stockItem.findFirstOrThrow({
      where: { shopId, sku: "TEE" },
      include: { levels: true },
    });
    expect(item.levels[0]).toMatchObject({ onHand: 7, committed: 0 });
    expect(
      await prisma.movement.count({
        where: { shopId, kind: "on_hand_counted", actor: "shopify:level-read" },
      }),
    ).toBe(0);
  });

  it("counts a real change at the source that lands between our write and its echo", async () => {
    await pushSourceConnection(source, adapterFor("shopify"), {});
    // The merchant receives 5 units in the Shopify admin right after our last write.
    local.sandbox.adjustInventory(SOURCE, { sku: "TEE", name: "available", delta: 5 });
    await prisma.listing.updateMany({
      where: { connectionId: source.id },
      data: { remoteSource: "webhook" },
    });
    const read = await readSourceLevels(source.id, 0);
    expect(read.counted).toBe(1);
    const item = await prisma.stockItem.findFirstOrThrow({
      where: { shopId, sku: "TEE" },
      include: { levels: true },
    });
    expect(item.levels[0]).toMatchObject({ onHand: 12 });
    // An echo of our own write (same available as we know) counts nothing.
    await prisma.listing.updateMany({
      where: { connectionId: source.id },
      data: { remoteSource: "webhook" },
    });
    expect((await readSourceLevels(source.id, 0)).counted).toBe(0);
  });

  it("a push that finds another store up to date does not count as a look at it", async () => {
    // What StockGuard saw there, and when, is what orders are placed against: stamping "seen
    // now" without looking took a sale made before that moment as already included.
    await pushSalesConnection(other, adapterFor("shopify"));
    const seenAt = new Date(Date.now() - 60_000);
    const listing = await prisma.listing.findFirstOrThrow({ where: { connectionId: other.id } });
    await prisma.listing.update({
      where: { id: listing.id },
      data: {
        remoteObservedAt: seenAt,
        publishedVersion: { increment: 1 },
        dirtySince: new Date(),
      },
    });
    const outcome = await pushSalesConnection(other, adapterFor("shopify"));
    expect(outcome).toMatchObject({ wrote: 0, upToDate: 1 });
    const after = await prisma.listing.findUniqueOrThrow({ where: { id: listing.id } });
    expect(after.remoteObservedAt).toEqual(seenAt);
    expect(after.pushedVersion).toBe(after.publishedVersion);
  });
});

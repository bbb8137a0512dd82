/**
 * Builders for the incident tests: a shop with two sales channels selling one SKU, sales and
 * cancels delivered as stored receipts with the channel's own time (triggered_at), and the
 * incidents as the settle service left them.
 */
import { randomUUID } from "node:crypto";
import prisma from "../../app/db.server";
import type { LedgerOperation } from "../../app/domain/operations";
import { applyLedgerEvent } from "../../app/services/ledger/apply-event.server";
import { republishShop } from "../../app/services/ledger/republish.server";
import { addSalesConnection, seedShop } from "../factories/shop";

export async function twoChannels(onHand: number, sku = "HOT") {
  const shop = await seedShop(prisma, { items: [{ sku, onHand }] });
  const x = await addSalesConnection(prisma, shop, { name: `x${randomUUID().slice(0, 4)}` });
  const y = await addSalesConnection(prisma, shop, { name: `y${randomUUID().slice(0, 4)}` });
  await republishShop(shop.shopId);
  // Every channel shows what was published (as after a push).
  for (const c of [x, y]) {
    const id = c.listingIds.get(sku)!;
    const l = await prisma.listing.findUniqueOrThrow({ where: { id } });
    await prisma.listing.update({
      where: { id },
      data: {
        pushedQuantity: l.publishedQuantity,
        remoteQuantity: l.publishedQuantity,
        pushedVersion: l.publishedVersion,
        remoteSource: "push",
        lastPushedAt: new Date(),
      },
    });
  }
  return { shop, x, y, sku, itemId: shop.itemIds.get(sku)! };
}

/** Stores a receipt for an event that happened on the channel at `at`, then applies it. */
export async function deliver(
  shopId: string,
  connectionId: string,
  eventId: string,
  at: Date,
  operations: LedgerOperation[],
): Promise<{ receiptId: bigint; appliedAt: Date }> {
  const receipt = await prisma.receipt.upsert({
    where: { connectionId_eventId: { connectionId, eventId } },
    create: {
      shopId,
      connectionId,
      topic: "orders/updated",
      eventId,
      triggeredAt: at,
      payload: {},
    },
    update: {},
  });
  await applyLedgerEvent({
    shopId,
    receiptId: receipt.id,
    actor: "shopify:orders/updated",
    receivedAt: receipt.receivedAt,
    operations,
    markReceiptApplied: true,
  });
  const applied = await prisma.receipt.findUniqueOrThrow({ where: { id: receipt.id } });
  return { receiptId: receipt.id, appliedAt: applied.appliedAt ?? new Date() };
}

export function placed(
  connectionId: string,
  orderId: string,
  sku: string,
  quantity: number,
): LedgerOperation {
  return {
    type: "line",
    key: `${connectionId}/order/${orderId}/line/1/ordered`,
    connectionId,
    orderId,
    lineId: "1",
    sku,
    command: { kind: "placed", quantity, version: "2026-12-01T00:00:00Z" },
  };
}

export function cancelled(connectionId: string, orderId: string, sku: string): LedgerOperation {
  return {
    type: "line",
    key: `${connectionId}/order/${orderId}/cancel`,
    connectionId,
    orderId,
    lineId: "1",
    sku,
    command: { kind: "cancelled_all" },
  };
}

/** A sale on a channel: its receipt triggered at `at`. */
export function sell(
  shopId: string,
  connectionId: string,
  orderId: string,
  sku: string,
  quantity: number,
  at: Date,
) {
  return deliver(shopId, connectionId, `order-${orderId}`, at, [
    placed(connectionId, orderId, sku, quantity),
  ]);
}

export async function incidentsOf(shopId: string) {
  return prisma.oversellIncident.findMany({ where: { shopId }, orderBy: { id: "asc" } });
}

export async function confirmedUnits(shopId: string): Promise<number> {
  const rows = await prisma.oversellIncident.findMany({
    where: { shopId, status: "confirmed" },
  });
  return rows.reduce((s, r) => s + (r.units ?? 0), 0);
}

export const ago = (ms: number) => new Date(Date.now() - ms);

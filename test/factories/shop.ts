import type { PrismaClient } from "@prisma/client";
import { randomUUID } from "node:crypto";

/**
 * Builders for ledger tests: a shop with its source store connection and locations, stock items
 * with balances, and sales connections with listings (plain, multipack or bundle).
 */
export type SeededShop = {
  shopId: string;
  domain: string;
  sourceConnectionId: string;
  locationIds: string[];
  itemIds: Map<string, string>;
};

export async function seedShop(
  prisma: PrismaClient,
  options: {
    domain?: string;
    locations?: number;
    items?: { sku: string; onHand: number | number[]; safetyStock?: number }[];
    sourceListings?: boolean;
  } = {},
): Promise<SeededShop> {
  const domain = options.domain ?? `shop-${randomUUID().slice(0, 8)}.myshopify.com`;
  const shop = await prisma.shop.create({ data: { domain, name: "Test shop" } });
  const source = await prisma.connection.create({
    data: { shopId: shop.id, kind: "shopify", role: "source", name: domain, accountRef: domain },
  });
  const locationIds: string[] = [];
  for (let i = 0; i < (options.locations ?? 1); i++) {
    const loc = await prisma.location.create({
      data: {
        shopId: shop.id,
        connectionId: source.id,
        remoteId: `gid://shopify/Location/${i + 1}`,
        name: `Location ${i + 1}`,
        isPrimary: i === 0,
      },
    });
    locationIds.push(loc.id);
  }
  const itemIds = new Map<string, string>();
  for (const [index, spec] of (options.items ?? []).entries()) {
    const item = await prisma.stockItem.create({ data: { shopId: shop.id, sku: spec.sku } });
    itemIds.set(spec.sku, item.id);
    const quantities = Array.isArray(spec.onHand) ? spec.onHand : [spec.onHand];
    for (const [i, locationId] of locationIds.entries()) {
      await prisma.stockLevel.create({
        data: {
          shopId: shop.id,
          itemId: item.id,
          locationId,
          onHand: quantities[i] ?? 0,
          safetyStock: i === 0 ? (spec.safetyStock ?? 0) : 0,
        },
      });
      if (options.sourceListings !== false) {
        await prisma.listing.create({
          data: {
            shopId: shop.id,
            connectionId: source.id,
            remoteRef: `gid://shopify/InventoryItem/${index + 1}`,
            remoteLocationRef: `gid://shopify/Location/${i + 1}`,
            remoteVariantRef: `gid://shopify/ProductVariant/${index + 1}`,
            sku: spec.sku,
            sourceLocationId: locationId,
            components: { create: [{ itemId: item.id, quantity: 1 }] },
          },
        });
      }
    }
  }
  return { shopId: shop.id, domain, sourceConnectionId: source.id, locationIds, itemIds };
}

export async function addSalesConnection(
  prisma: PrismaClient,
  shop: SeededShop,
  options: {
    name?: string;
    listings?: { sku: string; components?: { sku: string; quantity: number }[] }[];
  } = {},
): Promise<{ connectionId: string; listingIds: Map<string, string> }> {
  const name = options.name ?? `sales-${randomUUID().slice(0, 6)}`;
  const connection = await prisma.connection.create({
    data: {
      shopId: shop.shopId,
      kind: "shopify",
      role: "sales",
      name,
      accountRef: `${name}.myshopify.com`,
    },
  });
  const listingIds = new Map<string, string>();
  const specs: { sku: string; components?: { sku: string; quantity: number }[] }[] =
    options.listings ?? [...shop.itemIds.keys()].map((sku) => ({ sku }));
  for (const [index, spec] of specs.entries()) {
    const components = spec.components ?? [{ sku: spec.sku, quantity: 1 }];
    const listing = await prisma.listing.create({
      data: {
        shopId: shop.shopId,
        connectionId: connection.id,
        remoteRef: `gid://shopify/InventoryItem/${name}-${index + 1}`,
        remoteLocationRef: "gid://shopify/Location/1",
        remoteVariantRef: `gid://shopify/ProductVariant/${name}-${index + 1}`,
        sku: spec.sku,
        components: {
          create: components.map((c) => ({
            itemId: shop.itemIds.get(c.sku)!,
            quantity: c.quantity,
          })),
        },
      },
    });
    listingIds.set(spec.sku, listing.id);
  }
  return { connectionId: connection.id, listingIds };
}

/**
 * `count` shipped one-unit order lines of `sku` on `connectionId`, spread evenly over the `spanMs`
 * before `end` (order ids `<idPrefix>-<sku>-<i>`, the connection id by default): the order
 * history the recommendations read.
 */
export async function addOrderHistory(
  prisma: PrismaClient,
  shop: SeededShop,
  input: {
    connectionId: string;
    sku: string;
    count: number;
    spanMs: number;
    end: Date;
    idPrefix?: string;
  },
): Promise<void> {
  await prisma.orderLine.createMany({
    data: Array.from({ length: input.count }, (_, i) => ({
      shopId: shop.shopId,
      connectionId: input.connectionId,
      orderId: `${input.idPrefix ?? input.connectionId}-${input.sku}-${i}`,
      lineId: "1",
      itemId: shop.itemIds.get(input.sku)!,
      locationId: shop.locationIds[0]!,
      sku: input.sku,
      ordered: 1,
      committed: 0,
      shipped: 1,
      createdAt: new Date(input.end.getTime() - ((i + 0.5) * input.spanMs) / input.count),
    })),
  });
}

/** An event received from `from` that reached `to` at `writtenAt`: its receipt and push trace. */
export async function addPushTrace(
  prisma: PrismaClient,
  input: {
    shopId: string;
    from: string;
    to: string;
    eventId: string;
    receivedAt: Date;
    writtenAt: Date;
    topic?: string;
    /** The order the event is about (several events of one order share it). */
    resourceId?: string;
  },
): Promise<void> {
  const receipt = await prisma.receipt.create({
    data: {
      shopId: input.shopId,
      connectionId: input.from,
      topic: input.topic ?? "orders/create",
      eventId: input.eventId,
      resourceId: input.resourceId ?? null,
      receivedAt: input.receivedAt,
      payload: {},
      status: "applied",
    },
  });
  await prisma.pushTrace.create({
    data: { receiptId: receipt.id, connectionId: input.to, writtenAt: input.writtenAt },
  });
}

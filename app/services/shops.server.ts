import type { Prisma, PrismaClient } from "@prisma/client";
import prisma from "../db.server";

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * Install (OAuth, token exchange or `shop:connect`): the shop becomes active and syncing again,
 * and its own store is registered as the `source` connection (physical stock lives there).
 */
export async function recordInstall(
  input: { domain: string; name?: string | null },
  client: Db = prisma,
): Promise<{ shopId: string; sourceConnectionId: string }> {
  const shop = await client.shop.upsert({
    where: { domain: input.domain },
    create: { domain: input.domain, name: input.name ?? null },
    update: {
      status: "active",
      syncEnabled: true,
      uninstalledAt: null,
      ...(input.name ? { name: input.name } : {}),
    },
  });
  const connection = await client.connection.upsert({
    where: {
      shopId_kind_accountRef: { shopId: shop.id, kind: "shopify", accountRef: input.domain },
    },
    create: {
      shopId: shop.id,
      kind: "shopify",
      role: "source",
      name: input.name ?? input.domain,
      accountRef: input.domain,
    },
    update: { status: "active", statusReason: null },
  });
  // Connections paused by an earlier uninstall resume; ones the merchant paused stay paused.
  await client.connection.updateMany({
    where: { shopId: shop.id, status: "paused", statusReason: "uninstalled" },
    data: { status: "active", statusReason: null },
  });
  return { shopId: shop.id, sourceConnectionId: connection.id };
}

/**
 * `app/uninstalled`. Idempotent: Shopify may deliver it more than once, and after the data is
 * already gone (`shop/redact` 48 h later). Sessions are removed, sync is disabled, the ledger is
 * kept until `shop/redact` so a reinstall within the window resumes where it stopped.
 */
export async function recordUninstall(domain: string, client: PrismaClient = prisma) {
  return client.$transaction(async (tx) => {
    const sessions = await tx.session.deleteMany({ where: { shop: domain } });
    const shops = await tx.shop.updateMany({
      where: { domain, status: "active" },
      data: { status: "uninstalled", syncEnabled: false, uninstalledAt: new Date() },
    });
    const shop = await tx.shop.findUnique({ where: { domain }, select: { id: true } });
    if (shop) {
      await tx.connection.updateMany({
        where: { shopId: shop.id, status: "active" },
        data: { status: "paused", statusReason: "uninstalled" },
      });
    }
    return { sessionsDeleted: sessions.count, shopsDisabled: shops.count };
  });
}

export async function findShopByDomain(domain: string, client: Db = prisma) {
  return client.shop.findUnique({ where: { domain } });
}

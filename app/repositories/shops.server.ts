/**
 * Shops: install and uninstall (status, sync switch, the source connection), lookups by domain.
 */
import type { Prisma, PrismaClient } from "@prisma/client";
import prisma from "../db.server";

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * The shop becomes active, and its own store is registered as the `source` connection (physical
 * stock lives there). Sync starts at once when asked (`shop:connect`); an install from Shopify
 * (or a reinstall) leaves it off until the merchant starts it. Connections paused by an earlier
 * uninstall resume; ones the merchant paused stay paused.
 */
export async function upsertInstalledShop(
  input: { domain: string; name?: string | null; startSync: boolean },
  client: Db = prisma,
): Promise<{ shopId: string; sourceConnectionId: string; created: boolean }> {
  // The first requests of a fresh install race (the library's afterAuth and the page's own
  // wait-for-install both record it): a unique violation means the other one inserted first,
  // and a second pass updates what it wrote.
  for (let attempt = 0; ; attempt++) {
    try {
      return await upsertInstalledShopOnce(input, client);
    } catch (error) {
      if ((error as { code?: string }).code !== "P2002" || attempt >= 2) throw error;
    }
  }
}

async function upsertInstalledShopOnce(
  input: { domain: string; name?: string | null; startSync: boolean },
  client: Db,
): Promise<{ shopId: string; sourceConnectionId: string; created: boolean }> {
  const existing = await client.shop.findUnique({
    where: { domain: input.domain },
    select: { id: true, status: true },
  });
  const shop = await client.shop.upsert({
    where: { domain: input.domain },
    create: { domain: input.domain, name: input.name ?? null, syncEnabled: input.startSync },
    update: {
      status: "active",
      uninstalledAt: null,
      ...(existing?.status !== "active" ? { syncEnabled: input.startSync } : {}),
      ...(input.startSync ? { syncEnabled: true } : {}),
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
  await client.connection.updateMany({
    where: { shopId: shop.id, status: "paused", statusReason: "uninstalled" },
    data: { status: "active", statusReason: null },
  });
  return { shopId: shop.id, sourceConnectionId: connection.id, created: !existing };
}

/**
 * Sessions removed, sync disabled, connections paused, other channels' credentials deleted; the
 * ledger is kept until `shop/redact`.
 * Idempotent (Shopify may deliver `app/uninstalled` more than once, and after the data is gone).
 */
export async function markUninstalled(domain: string, client: PrismaClient = prisma) {
  return client.$transaction(async (tx) => {
    const sessions = await tx.session.deleteMany({ where: { shop: domain } });
    const shops = await tx.shop.updateMany({
      where: { domain, status: "active" },
      data: { status: "uninstalled", syncEnabled: false, uninstalledAt: new Date() },
    });
    const shop = await tx.shop.findUnique({ where: { domain }, select: { id: true } });
    if (shop) {
      // Other stores' and marketplaces' credentials go with the install: nothing of theirs is
      // kept for a shop that left (a reinstall asks the merchant to connect them again).
      await tx.connection.updateMany({
        where: { shopId: shop.id, credentials: { not: null } },
        data: {
          credentials: null,
          status: "disconnected",
          statusReason: "credentials removed when the app was uninstalled; connect it again",
        },
      });
      await tx.connection.updateMany({
        where: { shopId: shop.id, status: "active" },
        data: { status: "paused", statusReason: "uninstalled" },
      });
    }
    return { sessionsDeleted: sessions.count, shopsDisabled: shops.count };
  });
}

export async function shopByDomain(
  domain: string,
): Promise<{ id: string; domain: string; status: string; syncEnabled: boolean } | null> {
  return prisma.shop.findUnique({
    where: { domain },
    select: { id: true, domain: true, status: true, syncEnabled: true },
  });
}

export async function shopById(
  id: string,
): Promise<{ id: string; domain: string; status: string } | null> {
  return prisma.shop.findUnique({
    where: { id },
    select: { id: true, domain: true, status: true },
  });
}

export async function setSyncEnabled(shopId: string, enabled: boolean): Promise<void> {
  await prisma.shop.update({ where: { id: shopId }, data: { syncEnabled: enabled } });
}

/**
 * A store linked as another shop's sales channel: it stops being a hub of its own (its source
 * connection is disconnected, its sync off), so its orders count once, in the linking shop.
 */
export async function markLinked(storeShopId: string, toShopId: string): Promise<void> {
  await prisma.$transaction([
    prisma.shop.update({
      where: { id: storeShopId },
      data: { linkedToShopId: toShopId, syncEnabled: false },
    }),
    prisma.connection.updateMany({
      where: { shopId: storeShopId, role: "source" },
      data: { status: "disconnected", statusReason: "linked as a sales channel of another store" },
    }),
  ]);
}

/**
 * The reverse of `markLinked`, when the linking shop disconnects the store: it is its own hub
 * again (its source connection back, sync still off until its merchant starts it). Returns false
 * when the store was not linked to that shop.
 */
export async function unlinkStore(storeDomain: string, fromShopId: string): Promise<boolean> {
  const store = await prisma.shop.findUnique({
    where: { domain: storeDomain },
    select: { id: true, linkedToShopId: true },
  });
  if (!store || store.linkedToShopId !== fromShopId) return false;
  await prisma.$transaction([
    prisma.shop.update({ where: { id: store.id }, data: { linkedToShopId: null } }),
    prisma.connection.updateMany({
      where: {
        shopId: store.id,
        role: "source",
        status: "disconnected",
        statusReason: "linked as a sales channel of another store",
      },
      data: { status: "active", statusReason: null },
    }),
  ]);
  return true;
}

export async function markHoldsReleased(shopId: string, at: Date | null): Promise<void> {
  await prisma.shop.update({ where: { id: shopId }, data: { holdsReleasedAt: at } });
}

export async function shopDetails(domain: string): Promise<{
  id: string;
  domain: string;
  status: string;
  syncEnabled: boolean;
  linkedToShopId: string | null;
  holdsReleasedAt: Date | null;
} | null> {
  return prisma.shop.findUnique({
    where: { domain },
    select: {
      id: true,
      domain: true,
      status: true,
      syncEnabled: true,
      linkedToShopId: true,
      holdsReleasedAt: true,
    },
  });
}

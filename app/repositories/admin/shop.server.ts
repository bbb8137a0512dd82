/**
 * Shop lookups for the embedded admin and the sandbox sign-in: the shop row behind an
 * authenticated `session.shop`, by its domain (unique). Every other admin query is scoped by the
 * id returned here.
 */
import prisma from "../../db.server";

export type AdminShopRow = {
  id: string;
  domain: string;
  name: string | null;
  syncEnabled: boolean;
};

/** The shop the admin works on, or null when it never finished installing. */
export async function findAdminShop(input: { domain: string }): Promise<AdminShopRow | null> {
  return prisma.shop.findUnique({
    where: { domain: input.domain },
    select: { id: true, domain: true, name: true, syncEnabled: true },
  });
}

export type ShopInstallationRow = AdminShopRow & { status: string; installedAt: Date };

/** The shop with its installation state (installed or uninstalled, since when). */
export async function findShopInstallation(input: {
  domain: string;
}): Promise<ShopInstallationRow | null> {
  return prisma.shop.findUnique({
    where: { domain: input.domain },
    select: {
      id: true,
      domain: true,
      name: true,
      syncEnabled: true,
      status: true,
      installedAt: true,
    },
  });
}

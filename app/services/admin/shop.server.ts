import prisma from "../../db.server";

export type AdminShop = { id: string; domain: string; name: string | null; syncEnabled: boolean };

/**
 * The shop behind an authenticated admin request (`session.shop`). Every admin query is scoped
 * by the id returned here. The shop row is created at install (afterAuth → recordInstall), so a
 * missing one is answered with a 404 rather than an empty page.
 */
export async function requireShop(domain: string): Promise<AdminShop> {
  const shop = await prisma.shop.findUnique({
    where: { domain },
    select: { id: true, domain: true, name: true, syncEnabled: true },
  });
  if (!shop) {
    throw new Response(`${domain} has not finished installing StockGuard`, { status: 404 });
  }
  return shop;
}

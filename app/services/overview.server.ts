import prisma from "../db.server";

export type ConnectionSummary = {
  id: string;
  name: string;
  kind: string;
  role: "source" | "sales";
  status: string;
  statusReason: string | null;
  accountRef: string;
  createdAt: string;
};

export type Overview = {
  shop: {
    domain: string;
    name: string | null;
    status: string;
    syncEnabled: boolean;
    installedAt: string;
  } | null;
  connections: ConnectionSummary[];
};

/** Data for the embedded admin's Overview page, scoped to one shop. */
export async function getOverview(shopDomain: string): Promise<Overview> {
  const shop = await prisma.shop.findUnique({
    where: { domain: shopDomain },
    include: { connections: { orderBy: [{ role: "asc" }, { createdAt: "asc" }] } },
  });
  if (!shop) return { shop: null, connections: [] };
  return {
    shop: {
      domain: shop.domain,
      name: shop.name,
      status: shop.status,
      syncEnabled: shop.syncEnabled,
      installedAt: shop.installedAt.toISOString(),
    },
    connections: shop.connections.map((c) => ({
      id: c.id,
      name: c.name,
      kind: c.kind,
      role: c.role,
      status: c.status,
      statusReason: c.statusReason,
      accountRef: c.accountRef,
      createdAt: c.createdAt.toISOString(),
    })),
  };
}

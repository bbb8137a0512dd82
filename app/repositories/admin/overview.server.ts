/**
 * The Overview page's own read model: oversold units over a time window. The rest of the page
 * is the CLI's status report (`repositories/status.server.ts`) and the shop lookup.
 */
import prisma from "../../db.server";

/**
 * Oversell incidents of one shop since `since`: how many, and how many units were short. A
 * shortfall the merchant's own admin change caused is their decision, not an oversell.
 */
export async function countOversoldSince(input: {
  shopId: string;
  since: Date;
}): Promise<{ incidents: number; units: number }> {
  const row = await prisma.oversellIncident.aggregate({
    // Confirmed incidents only (issue 13): provisional shortfalls may still be explained.
    where: {
      shopId: input.shopId,
      occurredAt: { gte: input.since },
      merchant: false,
      status: "confirmed",
    },
    _count: { _all: true },
    _sum: { units: true },
  });
  return { incidents: row._count._all, units: row._sum.units ?? 0 };
}

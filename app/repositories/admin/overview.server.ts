/**
 * The Overview page's own read model: oversold units over a time window. The rest of the page
 * is the CLI's status report (`repositories/status.server.ts`) and the shop lookup.
 */
import prisma from "../../db.server";

/** Oversell incidents of one shop since `since`: how many, and how many units were short. */
export async function countOversoldSince(input: {
  shopId: string;
  since: Date;
}): Promise<{ incidents: number; units: number }> {
  const row = await prisma.oversellIncident.aggregate({
    where: { shopId: input.shopId, occurredAt: { gte: input.since } },
    _count: { _all: true },
    _sum: { shortfall: true },
  });
  return { incidents: row._count._all, units: row._sum.shortfall ?? 0 };
}

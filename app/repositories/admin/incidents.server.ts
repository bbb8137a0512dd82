/**
 * The Incidents page's read model: oversell incidents of one shop, newest first, filtered by
 * root cause and an occurrence window, with their totals and the names of the shop's
 * connections (incidents and their snapshots name connections by id).
 */
import type { Prisma } from "@prisma/client";
import prisma from "../../db.server";

export type IncidentFilter = {
  shopId: string;
  /** Only incidents of this root cause (all when absent). */
  rootCause?: string;
  /** Occurred at or after. */
  occurredFrom?: Date;
  /** Occurred strictly before. */
  occurredBefore?: Date;
};

function where(filter: IncidentFilter): Prisma.OversellIncidentWhereInput {
  const occurredAt: Prisma.DateTimeFilter = {};
  if (filter.occurredFrom) occurredAt.gte = filter.occurredFrom;
  if (filter.occurredBefore) occurredAt.lt = filter.occurredBefore;
  return {
    shopId: filter.shopId,
    ...(filter.rootCause !== undefined ? { rootCause: filter.rootCause } : {}),
    ...(filter.occurredFrom || filter.occurredBefore ? { occurredAt } : {}),
  };
}

/** Up to `take` incidents matching the filter with an id below `beforeId`, newest first. */
export async function listIncidentsPage(
  input: IncidentFilter & { beforeId?: bigint; take: number },
) {
  return prisma.oversellIncident.findMany({
    where: {
      ...where(input),
      ...(input.beforeId !== undefined ? { id: { lt: input.beforeId } } : {}),
    },
    orderBy: { id: "desc" },
    take: input.take,
  });
}

/** How many incidents match the filter, and how many units they were short in all. */
export async function sumIncidents(
  filter: IncidentFilter,
): Promise<{ incidents: number; units: number }> {
  const totals = await prisma.oversellIncident.aggregate({
    where: where(filter),
    _count: { _all: true },
    _sum: { shortfall: true },
  });
  return { incidents: totals._count._all, units: totals._sum.shortfall ?? 0 };
}

/** Every connection of the shop by id, for naming channels. */
export async function listConnectionNames(input: {
  shopId: string;
}): Promise<{ id: string; name: string }[]> {
  return prisma.connection.findMany({
    where: { shopId: input.shopId },
    select: { id: true, name: true },
  });
}

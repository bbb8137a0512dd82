/**
 * The Incidents page's read model: oversell incidents of one shop, newest first, filtered by
 * root cause, status, channel, SKU and an occurrence window, with their totals (confirmed
 * units), the oversold units by cause per day or week (the chart), the rows of a CSV export,
 * and the names of the shop's connections (incidents and their snapshots name them by id).
 */
import type { Prisma } from "@prisma/client";
import prisma from "../../db.server";
import { db, sql } from "../../lib/sql.server";

export type IncidentStatusFilter = "open" | "confirmed" | "provisional" | "resolved" | "all";

export type IncidentFilter = {
  shopId: string;
  /** Only incidents of this root cause (all when absent). */
  rootCause?: string;
  /** Occurred at or after. */
  occurredFrom?: Date;
  /** Occurred strictly before. */
  occurredBefore?: Date;
  connectionId?: string;
  sku?: string;
  /** open: confirmed and not resolved, plus provisional (the default). */
  status?: IncidentStatusFilter;
};

function statusWhere(status: IncidentStatusFilter | undefined): Prisma.OversellIncidentWhereInput {
  switch (status ?? "open") {
    case "open":
      return {
        OR: [
          { status: "provisional", merchant: false },
          { status: "confirmed", resolvedAt: null },
        ],
      };
    case "confirmed":
      return { status: "confirmed" };
    case "provisional":
      return { status: "provisional", merchant: false };
    case "resolved":
      return { status: "confirmed", resolvedAt: { not: null } };
    case "all":
      return { status: { in: ["confirmed", "provisional", "explained"] } };
  }
}

function where(filter: IncidentFilter): Prisma.OversellIncidentWhereInput {
  const occurredAt: Prisma.DateTimeFilter = {};
  if (filter.occurredFrom) occurredAt.gte = filter.occurredFrom;
  if (filter.occurredBefore) occurredAt.lt = filter.occurredBefore;
  return {
    shopId: filter.shopId,
    ...(filter.rootCause !== undefined ? { cause: filter.rootCause } : {}),
    ...(filter.occurredFrom || filter.occurredBefore ? { occurredAt } : {}),
    ...(filter.connectionId !== undefined ? { connectionId: filter.connectionId } : {}),
    ...(filter.sku !== undefined ? { sku: filter.sku } : {}),
    ...statusWhere(filter.status),
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

/** Confirmed incidents matching the filter and their oversold units; provisional ones counted apart. */
export async function sumIncidents(
  filter: IncidentFilter,
): Promise<{ incidents: number; units: number; provisional: number }> {
  const base = { ...filter, status: undefined };
  const [confirmed, provisional] = await Promise.all([
    prisma.oversellIncident.aggregate({
      where: { ...where({ ...base, status: "confirmed" }) },
      _count: { _all: true },
      _sum: { units: true },
    }),
    prisma.oversellIncident.count({ where: where({ ...base, status: "provisional" }) }),
  ]);
  return {
    incidents: confirmed._count._all,
    units: confirmed._sum.units ?? 0,
    provisional,
  };
}

/** Confirmed oversold units per period (UTC day or ISO week) and cause, oldest first. */
export async function unitsByCause(
  filter: IncidentFilter & { bucket: "day" | "week"; since: Date },
): Promise<{ period: Date; cause: string; units: number }[]> {
  return db().query(sql`
    SELECT date_trunc(${filter.bucket}, COALESCE(sale_at, occurred_at)) AS period,
           COALESCE(cause, 'unknown') AS cause, sum(units)::int AS units
      FROM oversell_incident
     WHERE shop_id = ${filter.shopId}::uuid AND status = 'confirmed'
       AND COALESCE(sale_at, occurred_at) >= ${filter.since}
       AND (${filter.occurredBefore ?? null}::timestamp IS NULL OR occurred_at < ${filter.occurredBefore ?? null}::timestamp)
       AND (${filter.rootCause ?? null}::text IS NULL OR cause = ${filter.rootCause ?? null}::text)
       AND (${filter.connectionId ?? null}::uuid IS NULL OR connection_id = ${filter.connectionId ?? null}::uuid)
       AND (${filter.sku ?? null}::text IS NULL OR sku = ${filter.sku ?? null}::text)
     GROUP BY 1, 2 ORDER BY 1, 2`);
}

/** Every incident matching the filter for the CSV export, newest first (bounded). */
export async function incidentsForExport(filter: IncidentFilter, limit: number) {
  return prisma.oversellIncident.findMany({
    where: where(filter),
    orderBy: { id: "desc" },
    take: limit,
  });
}

/** Every connection of the shop by id, for naming channels. */
export async function listConnectionNames(input: {
  shopId: string;
}): Promise<{ id: string; name: string }[]> {
  return prisma.connection.findMany({
    where: { shopId: input.shopId },
    select: { id: true, name: true },
    orderBy: { name: "asc" },
  });
}

import type { Prisma } from "@prisma/client";
import { z } from "zod";
import prisma from "../../db.server";
import { requireShop } from "./shop.server";
import { ROOT_CAUSES } from "./vocabulary";

export const INCIDENT_PAGE_SIZE = 50;

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "Use a date like 2026-11-26");

/** Query-string filters; bad values are reported, never silently dropped. */
export const ZIncidentFilters = z.object({
  cause: z.enum([...ROOT_CAUSES, "all"]).default("all"),
  from: isoDate.optional(),
  to: isoDate.optional(),
  /** Show incidents older than this id (the last row of the previous page). */
  before: z.string().regex(/^\d+$/).optional(),
});
export type IncidentFilters = z.infer<typeof ZIncidentFilters>;

const ZSnapshotEntry = z.object({
  listingId: z.string().optional(),
  connectionId: z.string().nullish(),
  role: z.string().nullish(),
  published: z.number().nullish(),
  pushed: z.number().nullish(),
  remote: z.number().nullish(),
  lastPushedAt: z.string().nullish(),
  remoteObservedAt: z.string().nullish(),
});

export type IncidentRow = {
  id: string;
  occurredAt: string;
  itemId: string;
  sku: string;
  channel: string | null;
  orderRef: string | null;
  lineRef: string | null;
  shortfall: number;
  atsBefore: number;
  atsAfter: number;
  rootCause: string;
  resolvedAt: string | null;
  snapshot: {
    channel: string;
    role: string | null;
    published: number | null;
    pushed: number | null;
    remote: number | null;
    lastPushedAt: string | null;
  }[];
};

export type IncidentsPage = {
  now: string;
  filters: { cause: string; from: string; to: string };
  incidents: IncidentRow[];
  totals: { incidents: number; units: number };
  nextBefore: string | null;
};

/** Oversell incidents of one shop, newest first, filtered by root cause and a UTC date range. */
export async function listIncidents(input: {
  shopDomain: string;
  filters: IncidentFilters;
}): Promise<IncidentsPage> {
  const shop = await requireShop(input.shopDomain);
  const { cause, from, to, before } = input.filters;
  const occurredAt: Prisma.DateTimeFilter = {};
  if (from) occurredAt.gte = new Date(`${from}T00:00:00.000Z`);
  if (to) occurredAt.lt = new Date(new Date(`${to}T00:00:00.000Z`).getTime() + 86_400_000);
  const where: Prisma.OversellIncidentWhereInput = {
    shopId: shop.id,
    ...(cause !== "all" ? { rootCause: cause } : {}),
    ...(from || to ? { occurredAt } : {}),
  };
  const [rows, totals, connections] = await Promise.all([
    prisma.oversellIncident.findMany({
      where: { ...where, ...(before ? { id: { lt: BigInt(before) } } : {}) },
      orderBy: { id: "desc" },
      take: INCIDENT_PAGE_SIZE + 1,
    }),
    prisma.oversellIncident.aggregate({
      where,
      _count: { _all: true },
      _sum: { shortfall: true },
    }),
    prisma.connection.findMany({ where: { shopId: shop.id }, select: { id: true, name: true } }),
  ]);
  const names = new Map(connections.map((c) => [c.id, c.name]));
  const page = rows.slice(0, INCIDENT_PAGE_SIZE);
  return {
    now: new Date().toISOString(),
    filters: { cause, from: from ?? "", to: to ?? "" },
    totals: { incidents: totals._count._all, units: totals._sum.shortfall ?? 0 },
    nextBefore: rows.length > INCIDENT_PAGE_SIZE ? (page.at(-1)?.id.toString() ?? null) : null,
    incidents: page.map((r) => {
      const snapshot = z.array(ZSnapshotEntry).safeParse(r.snapshot);
      return {
        id: r.id.toString(),
        occurredAt: r.occurredAt.toISOString(),
        itemId: r.itemId,
        sku: r.sku,
        channel: r.connectionId ? (names.get(r.connectionId) ?? r.connectionId) : null,
        orderRef: r.orderRef,
        lineRef: r.lineRef,
        shortfall: r.shortfall,
        atsBefore: r.atsBefore,
        atsAfter: r.atsAfter,
        rootCause: r.rootCause ?? "unknown",
        resolvedAt: r.resolvedAt?.toISOString() ?? null,
        snapshot: (snapshot.success ? snapshot.data : []).map((s) => ({
          channel: s.connectionId ? (names.get(s.connectionId) ?? s.connectionId) : "unknown",
          role: s.role ?? null,
          published: s.published ?? null,
          pushed: s.pushed ?? null,
          remote: s.remote ?? null,
          lastPushedAt: s.lastPushedAt ?? null,
        })),
      };
    }),
  };
}

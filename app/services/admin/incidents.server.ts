/**
 * The Incidents page: oversell incidents of one shop, newest first, filtered by root cause and a
 * UTC date range, with what each channel showed at the time. Its query-string filters are
 * validated here; bad values are reported to the merchant, never silently dropped. Reads through
 * `repositories/admin/incidents.server.ts`.
 */
import { z } from "zod";
import {
  listConnectionNames,
  listIncidentsPage,
  sumIncidents,
  type IncidentFilter,
} from "../../repositories/admin/incidents.server";
import { dateField, STALE_PAGE } from "./forms.server";
import { requireShop } from "./shop.server";
import { ROOT_CAUSES } from "./vocabulary";

export const INCIDENT_PAGE_SIZE = 50;

const DAY_MS = 86_400_000;

/** Query-string filters (names as in the page's filter form and its "Older incidents" link). */
export const ZIncidentFilters = z
  .object({
    cause: z
      .enum([...ROOT_CAUSES, "all"], "Unknown root cause: choose one from the list")
      .default("all"),
    from: dateField("From").optional(),
    to: dateField("To").optional(),
    /** Show incidents older than this id (the last row of the previous page); int8 at most. */
    before: z
      .string()
      .regex(/^\d{1,18}$/, STALE_PAGE)
      .optional(),
  })
  .refine((f) => !f.from || !f.to || f.from <= f.to, {
    path: ["to"],
    message: "To must be on or after From",
  });
export type IncidentFilters = z.infer<typeof ZIncidentFilters>;
export const INCIDENT_FILTER_NAMES = ["cause", "from", "to", "before"] as const;

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
  const filter: IncidentFilter = {
    shopId: shop.id,
    ...(cause !== "all" ? { rootCause: cause } : {}),
    ...(from ? { occurredFrom: new Date(`${from}T00:00:00.000Z`) } : {}),
    ...(to ? { occurredBefore: new Date(new Date(`${to}T00:00:00.000Z`).getTime() + DAY_MS) } : {}),
  };
  const [rows, totals, connections] = await Promise.all([
    listIncidentsPage({
      ...filter,
      ...(before ? { beforeId: BigInt(before) } : {}),
      take: INCIDENT_PAGE_SIZE + 1,
    }),
    sumIncidents(filter),
    listConnectionNames({ shopId: shop.id }),
  ]);
  const names = new Map(connections.map((c) => [c.id, c.name]));
  const page = rows.slice(0, INCIDENT_PAGE_SIZE);
  return {
    now: new Date().toISOString(),
    filters: { cause, from: from ?? "", to: to ?? "" },
    totals,
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

/** The page answered for filters that could not be read: the filters as typed, no incidents. */
export function emptyIncidentsPage(typed: {
  cause: string | null;
  from: string | null;
  to: string | null;
}): IncidentsPage {
  const shown = (value: string | null) => (value ?? "").replaceAll("\u0000", "").slice(0, 100);
  return {
    now: new Date().toISOString(),
    filters: { cause: shown(typed.cause) || "all", from: shown(typed.from), to: shown(typed.to) },
    incidents: [],
    totals: { incidents: 0, units: 0 },
    nextBefore: null,
  };
}

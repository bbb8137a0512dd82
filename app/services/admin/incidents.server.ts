/**
 * The Incidents page: oversell incidents of one shop, newest first, filtered by root cause,
 * status, channel, SKU and a UTC date range, with what each channel showed at the time and the
 * evidence of the root cause; the chart of confirmed oversold units by cause per day or week;
 * resolving with a note; the CSV export. Query-string filters are validated here; bad values
 * are reported to the merchant, never silently dropped. Reads through
 * `repositories/admin/incidents.server.ts`.
 */
import { z } from "zod";
import {
  incidentsForExport,
  listConnectionNames,
  listIncidentsPage,
  sumIncidents,
  unitsByCause,
  type IncidentFilter,
} from "../../repositories/admin/incidents.server";
import { resolveIncident } from "../../repositories/incidents.server";
import { dateField, STALE_PAGE } from "./forms.server";
import { requireShop } from "./shop.server";
import { ROOT_CAUSES } from "./vocabulary";

export const INCIDENT_PAGE_SIZE = 50;

export const INCIDENT_STATUSES = ["open", "confirmed", "provisional", "resolved", "all"] as const;

const DAY_MS = 86_400_000;

/** Query-string filters (names as in the page's filter form and its "Older incidents" link). */
export const ZIncidentFilters = z
  .object({
    cause: z
      .enum([...ROOT_CAUSES, "all"], "Unknown root cause: choose one from the list")
      .default("all"),
    from: dateField("From").optional(),
    to: dateField("To").optional(),
    status: z.enum(INCIDENT_STATUSES, "Unknown status: choose one from the list").default("open"),
    channel: z
      .union([z.literal("all"), z.uuid("Unknown channel: choose one from the list")])
      .default("all"),
    sku: z
      .string()
      .trim()
      .max(100, "A SKU has at most 100 characters")
      .refine((v) => !v.includes("\u0000"), "Enter a SKU without control characters")
      .optional(),
    bucket: z.enum(["day", "week"], "Group by day or week").default("day"),
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
export const INCIDENT_FILTER_NAMES = [
  "cause",
  "from",
  "to",
  "before",
  "status",
  "channel",
  "sku",
  "bucket",
] as const;

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
  status: string;
  /** Confirmed oversold units (null while provisional). */
  units: number | null;
  saleAt: string | null;
  evidence: Record<string, unknown> | null;
  reason: string | null;
  resolvedAt: string | null;
  resolutionNote: string | null;
  snapshot: {
    channel: string;
    role: string | null;
    published: number | null;
    pushed: number | null;
    remote: number | null;
    lastPushedAt: string | null;
  }[];
};

export type ChartPeriod = { period: string; units: Record<string, number>; total: number };

export type IncidentsPage = {
  now: string;
  filters: {
    cause: string;
    from: string;
    to: string;
    status: string;
    channel: string;
    sku: string;
    bucket: string;
  };
  incidents: IncidentRow[];
  totals: { incidents: number; units: number; provisional: number };
  nextBefore: string | null;
  chart: { bucket: "day" | "week"; periods: ChartPeriod[] };
  channels: { id: string; name: string }[];
};

function toFilter(shopId: string, filters: IncidentFilters): IncidentFilter {
  const { cause, from, to, status, channel, sku } = filters;
  return {
    shopId,
    ...(cause !== "all" ? { rootCause: cause } : {}),
    ...(from ? { occurredFrom: new Date(`${from}T00:00:00.000Z`) } : {}),
    ...(to ? { occurredBefore: new Date(new Date(`${to}T00:00:00.000Z`).getTime() + DAY_MS) } : {}),
    ...(channel !== "all" ? { connectionId: channel } : {}),
    ...(sku ? { sku } : {}),
    status,
  };
}

/** Periods shown on the chart: 30 days, or 12 weeks, up to the filter's end. */
const CHART_SPAN = { day: 30, week: 12 } as const;

function chartPeriods(
  rows: { period: Date; cause: string; units: number }[],
  bucket: "day" | "week",
  end: Date,
  span: number = CHART_SPAN[bucket],
): ChartPeriod[] {
  const step = bucket === "day" ? DAY_MS : 7 * DAY_MS;
  const startOf = (d: Date) => {
    const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    // ISO weeks start on Monday (as date_trunc('week') does).
    return bucket === "day" ? day : day - ((new Date(day).getUTCDay() + 6) % 7) * DAY_MS;
  };
  const last = startOf(end);
  const periods: ChartPeriod[] = [];
  for (let i = span - 1; i >= 0; i--)
    periods.push({ period: new Date(last - i * step).toISOString(), units: {}, total: 0 });
  const byStart = new Map(periods.map((p) => [p.period, p]));
  for (const r of rows) {
    const p = byStart.get(new Date(startOf(r.period)).toISOString());
    if (!p) continue;
    p.units[r.cause] = (p.units[r.cause] ?? 0) + r.units;
    p.total += r.units;
  }
  return periods;
}

function chartSince(bucket: "day" | "week", end: Date): Date {
  return new Date(end.getTime() - CHART_SPAN[bucket] * (bucket === "day" ? 1 : 7) * DAY_MS);
}

/** The Overview's trend: confirmed oversold units by cause over the last 7 days (UTC days). */
export async function oversoldLastSevenDays(shopDomain: string): Promise<{
  periods: ChartPeriod[];
  byCause: Record<string, number>;
  units: number;
}> {
  const shop = await requireShop(shopDomain);
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const rows = await unitsByCause({
    shopId: shop.id,
    bucket: "day",
    since: new Date(today - 6 * DAY_MS),
  });
  const periods = chartPeriods(rows, "day", now, 7);
  const byCause: Record<string, number> = {};
  for (const p of periods)
    for (const [cause, units] of Object.entries(p.units))
      byCause[cause] = (byCause[cause] ?? 0) + units;
  return { periods, byCause, units: periods.reduce((s, p) => s + p.total, 0) };
}

/** Oversell incidents of one shop, newest first, with totals and the chart. */
export async function listIncidents(input: {
  shopDomain: string;
  filters: IncidentFilters;
}): Promise<IncidentsPage> {
  const shop = await requireShop(input.shopDomain);
  const { cause, from, to, before, status, channel, sku, bucket } = input.filters;
  const filter = toFilter(shop.id, input.filters);
  const now = new Date();
  const end = filter.occurredBefore ? new Date(filter.occurredBefore.getTime() - 1) : now;
  const [rows, totals, connections, chartRows] = await Promise.all([
    listIncidentsPage({
      ...filter,
      ...(before ? { beforeId: BigInt(before) } : {}),
      take: INCIDENT_PAGE_SIZE + 1,
    }),
    sumIncidents(filter),
    listConnectionNames({ shopId: shop.id }),
    unitsByCause({ ...filter, bucket, since: chartSince(bucket, end) }),
  ]);
  const names = new Map(connections.map((c) => [c.id, c.name]));
  const page = rows.slice(0, INCIDENT_PAGE_SIZE);
  return {
    now: now.toISOString(),
    filters: {
      cause,
      from: from ?? "",
      to: to ?? "",
      status,
      channel,
      sku: sku ?? "",
      bucket,
    },
    totals,
    nextBefore: rows.length > INCIDENT_PAGE_SIZE ? (page.at(-1)?.id.toString() ?? null) : null,
    chart: { bucket, periods: chartPeriods(chartRows, bucket, end) },
    channels: connections,
    incidents: page.map((r) => toRow(r, names)),
  };
}

type StoredIncident = Awaited<ReturnType<typeof listIncidentsPage>>[number];

function toRow(r: StoredIncident, names: Map<string, string>): IncidentRow {
  const snapshot = z.array(ZSnapshotEntry).safeParse(r.snapshot);
  const evidence =
    r.evidence && typeof r.evidence === "object" && !Array.isArray(r.evidence)
      ? (r.evidence as Record<string, unknown>)
      : null;
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
    rootCause: r.status === "provisional" ? "provisional" : (r.cause ?? r.rootCause ?? "unknown"),
    status: r.status,
    units: r.units,
    saleAt: r.saleAt?.toISOString() ?? null,
    evidence,
    reason: typeof evidence?.reason === "string" ? evidence.reason : null,
    resolvedAt: r.resolvedAt?.toISOString() ?? null,
    resolutionNote: r.resolutionNote,
    snapshot: (snapshot.success ? snapshot.data : []).map((s) => ({
      channel: s.connectionId ? (names.get(s.connectionId) ?? s.connectionId) : "unknown",
      role: s.role ?? null,
      published: s.published ?? null,
      pushed: s.pushed ?? null,
      remote: s.remote ?? null,
      lastPushedAt: s.lastPushedAt ?? null,
    })),
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
    filters: {
      cause: shown(typed.cause) || "all",
      from: shown(typed.from),
      to: shown(typed.to),
      status: "open",
      channel: "all",
      sku: "",
      bucket: "day",
    },
    incidents: [],
    totals: { incidents: 0, units: 0, provisional: 0 },
    nextBefore: null,
    chart: { bucket: "day", periods: [] },
    channels: [],
  };
}

/** Resolving an incident: the merchant's note says what was done (refund, restock, …). */
export const ZResolveIncident = z.object({
  id: z.string().regex(/^\d{1,18}$/, STALE_PAGE),
  note: z
    .string()
    .trim()
    .min(1, "Say what was done (a refund, a restock, a cancelled order)")
    .max(500, "At most 500 characters")
    .refine((v) => !v.includes("\u0000"), "Remove control characters"),
});

export async function resolveWithNote(input: {
  shopDomain: string;
  id: string;
  note: string;
}): Promise<boolean> {
  const shop = await requireShop(input.shopDomain);
  return resolveIncident({ shopId: shop.id, id: BigInt(input.id), note: input.note });
}

export const EXPORT_LIMIT = 10_000;

const CSV_COLUMNS = [
  "id",
  "status",
  "sale_at",
  "recorded_at",
  "sku",
  "channel",
  "order",
  "units",
  "cause",
  "reason",
  "resolved_at",
  "resolution_note",
] as const;

/** A CSV cell: quoted, and a leading = + - @ neutralised so a spreadsheet never runs it. */
export function csvCell(value: string | number | null): string {
  let text = value === null ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text.startsWith("'") ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The incidents matching the filters as CSV (bounded to EXPORT_LIMIT rows). */
export async function exportIncidentsCsv(input: {
  shopDomain: string;
  filters: IncidentFilters;
}): Promise<{ csv: string; rows: number; truncated: boolean }> {
  const shop = await requireShop(input.shopDomain);
  const filter = toFilter(shop.id, input.filters);
  const [rows, connections] = await Promise.all([
    incidentsForExport(filter, EXPORT_LIMIT + 1),
    listConnectionNames({ shopId: shop.id }),
  ]);
  const names = new Map(connections.map((c) => [c.id, c.name]));
  const lines = [CSV_COLUMNS.join(",")];
  for (const r of rows.slice(0, EXPORT_LIMIT).map((r) => toRow(r, names)))
    lines.push(
      [
        r.id,
        r.status,
        r.saleAt,
        r.occurredAt,
        r.sku,
        r.channel,
        r.orderRef,
        r.units ?? r.shortfall,
        r.rootCause,
        r.reason,
        r.resolvedAt,
        r.resolutionNote,
      ]
        .map(csvCell)
        .join(","),
    );
  return {
    csv: `${lines.join("\r\n")}\r\n`,
    rows: Math.min(rows.length, EXPORT_LIMIT),
    truncated: rows.length > EXPORT_LIMIT,
  };
}

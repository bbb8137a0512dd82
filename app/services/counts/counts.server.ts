/**
 * Cycle counts, the use cases behind `/app/counts`: start a count of a location (all SKUs, a
 * filter, or a sample of the most valuable / fastest-moving), enter counted quantities one scan
 * at a time or from a CSV (all or nothing, per-row errors), submit for review, reopen, cancel,
 * and approve — which books every variance as a `cycle_counted` movement tied to the count (the
 * source store is corrected through the outbox with Shopify's reason `cycle_count_available`),
 * exactly once however often it is approved. Plus the history of counts and variance per SKU.
 */
import { z } from "zod";
import {
  COUNT_SCOPES,
  correctionKey,
  correctionsFor,
  findLine,
  parseCountCsv,
  parseCounted,
  priceToCents,
  selectForCount,
  varianceReport,
  type CountScope,
  type CsvRowError,
  type VarianceLine,
  type VarianceTotals,
} from "../../domain/counts";
import { DomainError } from "../../domain/errors";
import { enqueuePushes, enqueueSafely } from "../../queues/jobs.server";
import * as counts from "../../repositories/counts.server";
import { transaction } from "../../repositories/tx.server";
import { recordCycleCountVarianceApproved } from "../flow/triggers.server";
import { requireShop } from "../admin/shop.server";
import { STALE_PAGE, intField, type FormFailure } from "../admin/forms.server";
import { applyLedgerEventInTransaction } from "../ledger/apply-event.server";

/** Days of sales behind "fastest-moving first". */
export const VELOCITY_DAYS = 30;
/** The largest CSV accepted (about 50,000 rows). */
export const MAX_CSV_BYTES = 2_000_000;
/** Lines the count page lists (variances first); the totals always cover every line. */
export const MAX_LINES_SHOWN = 1_000;

export const ZCountId = z
  .string()
  .regex(/^[1-9]\d{0,17}$/, STALE_PAGE)
  .transform((s) => BigInt(s));

export const ZStartCount = z
  .object({
    intent: z.literal("start"),
    locationId: z.uuid("Choose a location"),
    scope: z.enum(COUNT_SCOPES as [CountScope, ...CountScope[]], "Choose what to count"),
    filter: z.string().trim().max(100, "Keep the filter under 100 characters").optional(),
    sampleSize: intField("Sample size", { min: 1, max: 10_000 }).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.scope === "filter" && !v.filter)
      ctx.addIssue({ code: "custom", path: ["filter"], message: "Type part of a SKU or title" });
    if ((v.scope === "top_value" || v.scope === "top_velocity") && v.sampleSize === undefined)
      ctx.addIssue({ code: "custom", path: ["sampleSize"], message: "Say how many SKUs to count" });
  });
export type StartCount = z.infer<typeof ZStartCount>;

export const ZCountAction = z.discriminatedUnion(
  "intent",
  [
    z.object({
      intent: z.literal("enter"),
      code: z
        .string({ error: "Scan or type a SKU" })
        .trim()
        .min(1, "Scan or type a SKU")
        .max(200, "That is not a SKU or barcode"),
      counted: z.string({ error: "Type the counted quantity" }).max(20, "Type a whole number"),
    }),
    z.object({ intent: z.literal("submit") }),
    z.object({ intent: z.literal("reopen") }),
    z.object({ intent: z.literal("cancel") }),
    z.object({ intent: z.literal("approve") }),
  ],
  { error: STALE_PAGE },
);
export type CountAction = z.infer<typeof ZCountAction>;

export type CountFailure = FormFailure & { rowErrors?: CsvRowError[] };

export type CountSuccess = {
  ok: true;
  intent: string;
  message: string;
  /** Approve: false when the count had already been approved (nothing booked again). */
  applied?: boolean;
  corrections?: number;
  /** Enter: the line just counted (the page shows it and focuses the scan field again). */
  entered?: { sku: string; counted: number; expected: number | null };
};

const failure = (
  intent: string,
  status: 400 | 404 | 422,
  formError: string,
  fieldErrors: Record<string, string> = {},
): CountFailure => ({ ok: false, intent, fieldErrors, formError, status });

// ---------------------------------------------------------------------------------------------
// Pages

export async function getCountsPage(shopDomain: string) {
  const shop = await requireShop(shopDomain);
  const [locations, history, topSkus] = await Promise.all([
    counts.countLocations(shop.id),
    counts.listCounts(shop.id, 50),
    counts.topVarianceSkus(shop.id, 20),
  ]);
  return {
    locations,
    counts: history.map((c) => ({
      id: c.id.toString(),
      location: c.locationName,
      scope: c.scope,
      filter: c.filter,
      sampleSize: c.sampleSize,
      status: c.status,
      startedBy: c.startedBy,
      startedAt: c.startedAt.toISOString(),
      approvedAt: c.approvedAt?.toISOString() ?? null,
      lines: c.lines,
      counted: c.counted,
      withVariance: c.withVariance,
      netUnits: c.netUnits,
      absoluteUnits: c.absoluteUnits,
      netCents: priceToCents(c.netValue) ?? 0,
    })),
    topSkus: topSkus.map((s) => ({ ...s, netCents: priceToCents(s.netValue) ?? 0 })),
  };
}

export type CountDetail = {
  id: string;
  location: string;
  scope: string;
  filter: string | null;
  status: string;
  startedBy: string;
  startedAt: string;
  approvedBy: string | null;
  approvedAt: string | null;
  lines: (Omit<VarianceLine, "itemId"> & {
    itemId: string;
    barcode: string | null;
    countedAt: string | null;
    booked: boolean;
  })[];
  /** Lines not listed (beyond MAX_LINES_SHOWN), still in the totals. */
  hiddenLines: number;
  totals: VarianceTotals;
};

export async function getCountDetail(
  shopDomain: string,
  countId: bigint,
): Promise<CountDetail | null> {
  const shop = await requireShop(shopDomain);
  const count = await counts.findCount(shop.id, countId);
  if (!count) return null;
  const rows = await counts.countLines(shop.id, countId);
  const report = varianceReport(rows.map(varianceInput));
  return {
    id: count.id.toString(),
    location: count.locationName,
    scope: count.scope,
    filter: count.filter,
    status: count.status,
    startedBy: count.startedBy,
    startedAt: count.startedAt.toISOString(),
    approvedBy: count.approvedBy,
    approvedAt: count.approvedAt?.toISOString() ?? null,
    lines: report.lines
      .map((l, i) => ({
        ...l,
        barcode: rows[i]!.barcode,
        countedAt: rows[i]!.countedAt?.toISOString() ?? null,
        booked: rows[i]!.movementId !== null,
      }))
      // Variances first (largest first), then counted, then not yet counted; by SKU within.
      .map((l, order) => ({ l, order }))
      .sort(
        (a, b) =>
          rank(a.l.varianceUnits) - rank(b.l.varianceUnits) ||
          Math.abs(b.l.varianceUnits ?? 0) - Math.abs(a.l.varianceUnits ?? 0) ||
          a.order - b.order,
      )
      .slice(0, MAX_LINES_SHOWN)
      .map(({ l }) => l),
    hiddenLines: Math.max(0, rows.length - MAX_LINES_SHOWN),
    totals: report.totals,
  };
}

/** Variance of one SKU in approved counts. */
export async function getSkuHistory(shopDomain: string, sku: string) {
  const shop = await requireShop(shopDomain);
  const rows = await counts.skuVarianceHistory(shop.id, sku, 50);
  return rows.map((r) => ({
    countId: r.countId.toString(),
    approvedAt: r.approvedAt.toISOString(),
    location: r.locationName,
    expected: r.expected,
    counted: r.counted,
    variance: r.variance,
    valueCents: r.variance * (priceToCents(r.unitPrice) ?? 0),
  }));
}

/** 0: a variance, 1: counted and matching, 2: not counted. */
function rank(variance: number | null): number {
  return variance === null ? 2 : variance === 0 ? 1 : 0;
}

function varianceInput(l: counts.CountLineRow) {
  return {
    itemId: l.itemId,
    sku: l.sku,
    title: l.title,
    unitCents: priceToCents(l.unitPrice),
    snapshotOnHand: l.snapshotOnHand,
    expectedAtCount: l.expectedAtCount,
    counted: l.counted,
  };
}

// ---------------------------------------------------------------------------------------------
// Actions

/** Starts a count; the id of the new count, or why not (no SKU matched, unknown location). */
export async function startCount(input: {
  shopDomain: string;
  actor: string;
  start: StartCount;
}): Promise<{ ok: true; countId: string; lines: number } | CountFailure> {
  const shop = await requireShop(input.shopDomain);
  const { start } = input;
  if (!(await counts.locationOfShop(shop.id, start.locationId)))
    return failure("start", 400, "Choose a location of this store", {
      locationId: "Choose a location of this store",
    });
  const candidates = await counts.countCandidates(shop.id, start.locationId, VELOCITY_DAYS);
  const chosen = selectForCount(
    candidates.map((c) => ({ ...c, unitCents: priceToCents(c.unitPrice) })),
    start.scope,
    { filter: start.filter ?? null, size: start.sampleSize ?? null },
  );
  if (chosen.length === 0)
    return failure("start", 422, "No SKU at this location matches; nothing to count", {
      ...(start.scope === "filter" ? { filter: "No SKU or title contains this" } : {}),
    });
  const countId = await transaction((tx) =>
    counts.createCount(tx, {
      shopId: shop.id,
      locationId: start.locationId,
      scope: start.scope,
      filter: start.scope === "filter" ? (start.filter ?? null) : null,
      sampleSize:
        start.scope === "top_value" || start.scope === "top_velocity"
          ? (start.sampleSize ?? null)
          : null,
      startedBy: input.actor,
      itemIds: chosen.map((c) => c.itemId),
    }),
  );
  return { ok: true, countId: countId.toString(), lines: chosen.length };
}

/** One scanned or typed entry: the SKU or barcode and the counted quantity (replaces an earlier one). */
async function enter(
  shopId: string,
  countId: bigint,
  actor: string,
  code: string,
  countedRaw: string,
): Promise<CountSuccess | CountFailure> {
  const lines = await counts.countLines(shopId, countId);
  const line = findLine(lines, code);
  const counted = parseCounted(countedRaw);
  const fieldErrors: Record<string, string> = {};
  if (!line) fieldErrors.code = `${code.trim()} is not part of this count`;
  if (!counted.ok)
    fieldErrors.counted = counted.error.charAt(0).toUpperCase() + counted.error.slice(1);
  if (!line || !counted.ok) return { ok: false, intent: "enter", fieldErrors, status: 400 };
  const n = await counts.recordCounted({
    shopId,
    countId,
    countedBy: actor,
    entries: [{ itemId: line.itemId, counted: counted.value }],
  });
  if (n === 0) return failure("enter", 422, "This count is no longer open");
  const after = (await counts.countLines(shopId, countId)).find((l) => l.itemId === line.itemId)!;
  return {
    ok: true,
    intent: "enter",
    message: `${line.sku}: ${counted.value} counted`,
    entered: { sku: line.sku, counted: counted.value, expected: after.expectedAtCount },
  };
}

/**
 * A count sheet: every row checked first (unknown SKUs, duplicates, negative or non-numeric
 * counts, wrong columns); any error and nothing is recorded. Otherwise all rows in one statement.
 */
export async function uploadCountSheet(input: {
  shopDomain: string;
  countId: bigint;
  actor: string;
  csv: string;
}): Promise<CountSuccess | CountFailure | null> {
  const shop = await requireShop(input.shopDomain);
  const count = await counts.findCount(shop.id, input.countId);
  if (!count) return null;
  if (count.status !== "open") return failure("upload", 422, "This count is no longer open");
  if (input.csv.includes("\u0000")) return failure("upload", 400, "This is not a CSV text file");
  const lines = await counts.countLines(shop.id, input.countId);
  const parsed = parseCountCsv(input.csv, lines);
  if (!parsed.ok)
    return {
      ...failure("upload", 400, `${parsed.errors.length} row(s) need fixing; nothing was recorded`),
      rowErrors: parsed.errors.slice(0, 500),
    };
  const n = await counts.recordCounted({
    shopId: shop.id,
    countId: input.countId,
    countedBy: input.actor,
    entries: parsed.entries,
  });
  if (n === 0) return failure("upload", 422, "This count is no longer open");
  return { ok: true, intent: "upload", message: `${n} SKU(s) recorded from the sheet` };
}

export async function performCountAction(input: {
  shopDomain: string;
  countId: bigint;
  actor: string;
  action: CountAction;
}): Promise<CountSuccess | CountFailure | null> {
  const shop = await requireShop(input.shopDomain);
  const count = await counts.findCount(shop.id, input.countId);
  if (!count) return null;
  const { action } = input;
  const move = async (from: string[], to: "open" | "review" | "cancelled", message: string) =>
    (await counts.transitionCount({
      shopId: shop.id,
      countId: input.countId,
      from,
      to,
      actor: input.actor,
    }))
      ? { ok: true as const, intent: action.intent, message }
      : failure(
          action.intent,
          422,
          `This count is ${count.status}; it cannot be ${action.intent}ed`,
        );
  switch (action.intent) {
    case "enter":
      if (count.status !== "open") return failure("enter", 422, "This count is no longer open");
      return enter(shop.id, input.countId, input.actor, action.code, action.counted);
    case "submit":
      return move(["open"], "review", "Submitted for review");
    case "reopen":
      return move(["review"], "open", "Reopened for counting");
    case "cancel":
      return move(["open", "review"], "cancelled", "Count cancelled");
    case "approve":
      return approveCount({
        shopId: shop.id,
        syncEnabled: shop.syncEnabled,
        countId: input.countId,
        locationId: count.locationId,
        actor: input.actor,
      });
  }
}

/**
 * Approves a count in review: in one transaction, the conditional update review → approved (a
 * second approval finds no row and books nothing), then every variance as a `cycle_counted`
 * movement keyed by count, item and location (the ledger writes the source outbox row, sent
 * with reason `cycle_count_available`), and each line linked to its movement. Then a push.
 */
export async function approveCount(input: {
  shopId: string;
  syncEnabled: boolean;
  countId: bigint;
  locationId: string;
  actor: string;
}): Promise<CountSuccess | CountFailure> {
  let result;
  try {
    result = await transaction(async (tx) => {
      const approved = await counts.transitionCount(
        {
          shopId: input.shopId,
          countId: input.countId,
          from: ["review"],
          to: "approved",
          actor: input.actor,
        },
        tx,
      );
      if (!approved) return null;
      const lines = await counts.countLines(input.shopId, input.countId, tx);
      const corrections = correctionsFor(lines.map(varianceInput)).map((c) => ({
        ...c,
        key: correctionKey(input.countId.toString(), c.itemId, input.locationId),
      }));
      if (corrections.length === 0) return { corrections: 0, connections: [] as string[] };
      const applied = await applyLedgerEventInTransaction(tx, {
        shopId: input.shopId,
        actor: input.actor,
        reason: `cycle count #${input.countId.toString()}`,
        operations: corrections.map((c) => ({
          type: "item" as const,
          key: c.key,
          itemId: c.itemId,
          locationId: input.locationId,
          command: { kind: "cycle_counted" as const, delta: c.delta },
        })),
      });
      await counts.linkCorrections(tx, {
        shopId: input.shopId,
        countId: input.countId,
        corrections,
      });
      // Shopify Flow "Cycle count variance approved" (its outbox row commits with the approval).
      const { totals } = varianceReport(lines.map(varianceInput));
      await recordCycleCountVarianceApproved(
        {
          shopId: input.shopId,
          countId: input.countId,
          locationId: input.locationId,
          units: totals.netUnits,
          value: totals.netCents / 100,
          approvedBy: input.actor,
        },
        tx,
      );
      return {
        corrections: applied.applied,
        connections: applied.changedListings.map((l) => l.connectionId),
      };
    });
  } catch (error) {
    if (error instanceof DomainError)
      return failure("approve", 422, `Not approved: ${error.message}`);
    throw error;
  }
  if (!result) {
    const now = await counts.findCount(input.shopId, input.countId);
    return now?.status === "approved"
      ? {
          ok: true,
          intent: "approve",
          applied: false,
          corrections: 0,
          message: "Already approved: the corrections were booked once",
        }
      : failure(
          "approve",
          422,
          `This count is ${now?.status ?? "gone"}; submit it for review first`,
        );
  }
  if (input.syncEnabled && result.corrections > 0) {
    // The source store gets the outbox rows even when no published quantity changed.
    const source = await counts.sourceConnectionOf(input.shopId);
    const connections = new Set([...result.connections, ...(source ? [source] : [])]);
    await enqueueSafely("push after a cycle count", () => enqueuePushes(connections));
  }
  return {
    ok: true,
    intent: "approve",
    applied: true,
    corrections: result.corrections,
    message:
      result.corrections > 0
        ? `Approved: ${result.corrections} correction(s) booked and sent to the store`
        : "Approved: every counted SKU matched",
  };
}

/**
 * Cycle counts, the pure part: which SKUs a count covers (all, a filter, or a sample of the most
 * valuable / fastest-moving), reading a scanned code or an uploaded CSV into counted quantities
 * (every bad row reported, nothing accepted while any row is bad), what each line was expected
 * to be (the snapshot at count start plus the movements since), the variance report (units and
 * value per SKU, totals), the corrections an approval books, and the count's status machine.
 */
import { normalizeSku } from "./sku";

export type CountScope = "all" | "filter" | "top_value" | "top_velocity";
export const COUNT_SCOPES: readonly CountScope[] = ["all", "filter", "top_value", "top_velocity"];

export type CountStatus = "open" | "review" | "approved" | "cancelled";

/** Counted quantities are stored in a 32-bit column; more than this is a typo, not stock. */
export const MAX_COUNTED = 1_000_000_000;
/** Rows one upload may carry (a location of 50,000 SKUs is counted in several uploads). */
export const MAX_CSV_ROWS = 50_000;

// ---------------------------------------------------------------------------------------------
// Selection

export type CountCandidate = {
  itemId: string;
  sku: string;
  title: string | null;
  onHand: number;
  /** Unit price in cents (null: unknown, valued at 0). */
  unitCents: number | null;
  /** Units that left or were sold recently (velocity), for the fastest-moving sample. */
  recentUnits: number;
};

/**
 * The SKUs a new count covers. `filter` keeps SKUs or titles containing the text
 * (case-insensitive); `top_value` the `size` largest on-hand values (units × price), `top_velocity`
 * the `size` fastest-moving; ties are broken by SKU so the choice is deterministic.
 */
export function selectForCount(
  candidates: CountCandidate[],
  scope: CountScope,
  options: { filter?: string | null; size?: number | null } = {},
): CountCandidate[] {
  const bySku = (a: CountCandidate, b: CountCandidate) =>
    a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0;
  const size = options.size ?? candidates.length;
  switch (scope) {
    case "all":
      return [...candidates].sort(bySku);
    case "filter": {
      const needle = (options.filter ?? "").trim().toUpperCase();
      return candidates
        .filter(
          (c) =>
            needle !== "" &&
            (c.sku.toUpperCase().includes(needle) ||
              (c.title ?? "").toUpperCase().includes(needle)),
        )
        .sort(bySku);
    }
    case "top_value":
      return [...candidates]
        .sort((a, b) => stockValue(b) - stockValue(a) || bySku(a, b))
        .slice(0, size);
    case "top_velocity":
      return [...candidates]
        .sort((a, b) => b.recentUnits - a.recentUnits || bySku(a, b))
        .slice(0, size);
  }
}

function stockValue(c: CountCandidate): number {
  return Math.max(0, c.onHand) * (c.unitCents ?? 0);
}

/** "12.5" / "12.50" / 12.5 → 1250 cents; null or unreadable → null. */
export function priceToCents(price: string | number | null | undefined): number | null {
  if (price === null || price === undefined || price === "") return null;
  const n = typeof price === "number" ? price : Number(price);
  return Number.isFinite(n) ? Math.round(n * 100) : null;
}

// ---------------------------------------------------------------------------------------------
// Entering counts

/** A line of the count as lookup sees it. */
export type CountableLine = { itemId: string; sku: string; barcode: string | null };

/**
 * What a scanner or a typist entered: the line whose SKU (normalised) or barcode (exact, trimmed)
 * it is; null when the count has no such SKU.
 */
export function findLine<L extends CountableLine>(lines: L[], code: string): L | null {
  const trimmed = code.trim();
  if (!trimmed) return null;
  const sku = normalizeSku(trimmed);
  return (
    lines.find((l) => l.sku === sku) ??
    lines.find((l) => l.barcode !== null && l.barcode.trim() === trimmed) ??
    null
  );
}

/** A quantity typed or uploaded: a whole number from 0 to MAX_COUNTED, or why it is not. */
export function parseCounted(
  raw: string,
): { ok: true; value: number } | { ok: false; error: string } {
  const text = raw.trim();
  if (text === "") return { ok: false, error: "the counted quantity is empty" };
  if (/^-\s*\d+$/.test(text)) return { ok: false, error: `counted ${text} is negative` };
  if (!/^\+?\d+$/.test(text))
    return { ok: false, error: `counted "${text}" is not a whole number` };
  const value = Number(text);
  if (value > MAX_COUNTED)
    return {
      ok: false,
      error: `counted ${text} is more than ${MAX_COUNTED.toLocaleString("en-US")}`,
    };
  return { ok: true, value };
}

export type CsvRowError = { row: number; message: string };
export type CountEntry = { itemId: string; counted: number; row: number };

/**
 * Splits CSV text into rows of fields (RFC 4180: quoted fields, doubled quotes, CRLF or LF).
 * A quote left open is reported as an error on the row it started.
 */
export function splitCsv(text: string): { rows: string[][]; error: CsvRowError | null } {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let quoteStartRow = 0;
  let i = 0;
  const src = text.startsWith("\uFEFF") ? text.slice(1) : text;
  while (i < src.length) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === "") {
      quoted = true;
      quoteStartRow = rows.length + 1;
      i++;
    } else if (ch === ",") {
      row.push(field);
      field = "";
      i++;
    } else if (ch === "\n" || ch === "\r") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i += ch === "\r" && src[i + 1] === "\n" ? 2 : 1;
    } else {
      field += ch;
      i++;
    }
  }
  if (quoted)
    return { rows, error: { row: quoteStartRow, message: "a quoted field is never closed" } };
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return { rows, error: null };
}

const CODE_COLUMNS = ["sku", "barcode"];
const QUANTITY_COLUMNS = ["counted", "quantity", "count"];

/**
 * An uploaded count sheet → counted quantities per line of the count. The header names a code
 * column (`sku` or `barcode`) and a quantity column (`counted`, `quantity` or `count`), nothing
 * else. Every problem is reported by row (row 1 is the header): unknown SKUs, SKUs listed twice,
 * negative, fractional or non-numeric counts, rows with the wrong number of fields. Any error
 * means no entry is returned: nothing is applied until the sheet is fixed.
 */
export function parseCountCsv(
  text: string,
  lines: CountableLine[],
): { ok: true; entries: CountEntry[] } | { ok: false; errors: CsvRowError[] } {
  const { rows, error } = splitCsv(text);
  if (error) return { ok: false, errors: [error] };
  const nonEmpty = rows
    .map((fields, index) => ({ fields, row: index + 1 }))
    .filter((r) => !(r.fields.length === 1 && r.fields[0]!.trim() === ""));
  const header = nonEmpty[0];
  if (!header) return { ok: false, errors: [{ row: 1, message: "the file is empty" }] };
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const codeAt = names.findIndex((n) => CODE_COLUMNS.includes(n));
  const qtyAt = names.findIndex((n) => QUANTITY_COLUMNS.includes(n));
  const unexpected = names.filter((n, i) => i !== codeAt && i !== qtyAt);
  if (codeAt < 0 || qtyAt < 0 || unexpected.length > 0) {
    const problems = [
      codeAt < 0 ? "a sku (or barcode) column is missing" : null,
      qtyAt < 0 ? "a counted column is missing" : null,
      unexpected.length > 0
        ? `unexpected column(s): ${unexpected.map((n) => `"${n}"`).join(", ")}`
        : null,
    ].filter((p): p is string => p !== null);
    return {
      ok: false,
      errors: [
        {
          row: header.row,
          message: `${problems.join("; ")}. Expected the header: sku,counted`,
        },
      ],
    };
  }
  const body = nonEmpty.slice(1);
  if (body.length === 0)
    return { ok: false, errors: [{ row: 2, message: "the file has no rows" }] };
  if (body.length > MAX_CSV_ROWS)
    return {
      ok: false,
      errors: [
        {
          row: MAX_CSV_ROWS + 2,
          message: `at most ${MAX_CSV_ROWS} rows per upload; split the file`,
        },
      ],
    };
  const errors: CsvRowError[] = [];
  const entries: CountEntry[] = [];
  const firstRowOf = new Map<string, number>();
  for (const { fields, row } of body) {
    if (fields.length !== names.length) {
      errors.push({ row, message: `expected ${names.length} fields, found ${fields.length}` });
      continue;
    }
    const code = fields[codeAt]!.trim();
    const line = findLine(lines, code);
    const counted = parseCounted(fields[qtyAt]!);
    const problems: string[] = [];
    if (!code) problems.push("the SKU is empty");
    else if (!line) problems.push(`SKU ${code} is not part of this count`);
    if (!counted.ok) problems.push(counted.error);
    if (line) {
      const first = firstRowOf.get(line.itemId);
      if (first !== undefined)
        problems.push(`SKU ${line.sku} is listed twice (first on row ${first})`);
      else firstRowOf.set(line.itemId, row);
    }
    if (problems.length > 0) {
      errors.push({ row, message: problems.join("; ") });
      continue;
    }
    entries.push({ itemId: line!.itemId, counted: (counted as { value: number }).value, row });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, entries };
}

// ---------------------------------------------------------------------------------------------
// Variance

export type VarianceLineInput = {
  itemId: string;
  sku: string;
  title: string | null;
  unitCents: number | null;
  snapshotOnHand: number;
  /** Snapshot plus the movements after it, up to when the line was counted; null if uncounted. */
  expectedAtCount: number | null;
  counted: number | null;
};

export type VarianceLine = VarianceLineInput & {
  /** counted − expected; null when not counted. */
  varianceUnits: number | null;
  /** varianceUnits × unit price, in cents (0 when the price is unknown). */
  varianceCents: number | null;
  /** Movements during the count (expected − snapshot). */
  duringCount: number | null;
};

export type VarianceTotals = {
  lines: number;
  counted: number;
  uncounted: number;
  /** Lines whose count differs from what was expected. */
  withVariance: number;
  netUnits: number;
  /** Σ |variance| (shrinkage and surplus do not cancel out). */
  absoluteUnits: number;
  netCents: number;
  absoluteCents: number;
  /** Counted lines that matched, in percent (100 when nothing is counted yet). */
  accuracyPercent: number;
};

export function varianceReport(lines: VarianceLineInput[]): {
  lines: VarianceLine[];
  totals: VarianceTotals;
} {
  const out: VarianceLine[] = lines.map((l) => {
    if (l.counted === null || l.expectedAtCount === null)
      return { ...l, varianceUnits: null, varianceCents: null, duringCount: null };
    const units = l.counted - l.expectedAtCount;
    return {
      ...l,
      varianceUnits: units,
      varianceCents: units * (l.unitCents ?? 0),
      duringCount: l.expectedAtCount - l.snapshotOnHand,
    };
  });
  const counted = out.filter((l) => l.varianceUnits !== null);
  const withVariance = counted.filter((l) => l.varianceUnits !== 0).length;
  const sum = (f: (l: VarianceLine) => number) => counted.reduce((s, l) => s + f(l), 0);
  return {
    lines: out,
    totals: {
      lines: out.length,
      counted: counted.length,
      uncounted: out.length - counted.length,
      withVariance,
      netUnits: sum((l) => l.varianceUnits!),
      absoluteUnits: sum((l) => Math.abs(l.varianceUnits!)),
      netCents: sum((l) => l.varianceCents!),
      absoluteCents: sum((l) => Math.abs(l.varianceCents!)),
      accuracyPercent:
        counted.length === 0
          ? 100
          : Math.round(((counted.length - withVariance) / counted.length) * 1000) / 10,
    },
  };
}

/** What an approval books: one on-hand correction per counted line that differs. */
export function correctionsFor(lines: VarianceLineInput[]): { itemId: string; delta: number }[] {
  return varianceReport(lines)
    .lines.filter((l) => l.varianceUnits !== null && l.varianceUnits !== 0)
    .map((l) => ({ itemId: l.itemId, delta: l.varianceUnits! }));
}

/** The ledger key of a count's correction of one item: a count is booked once per item. */
export function correctionKey(countId: string, itemId: string, locationId: string): string {
  return `cycle-count-${countId}-${itemId}-${locationId}`;
}

// ---------------------------------------------------------------------------------------------
// Status

export type CountAction = "enter" | "submit" | "reopen" | "approve" | "cancel";

/** The status a count moves to, or null when the action is not allowed in its status. */
export function nextStatus(status: CountStatus, action: CountAction): CountStatus | null {
  switch (action) {
    case "enter":
      return status === "open" ? "open" : null;
    case "submit":
      return status === "open" ? "review" : null;
    case "reopen":
      return status === "review" ? "open" : null;
    case "approve":
      return status === "review" ? "approved" : null;
    case "cancel":
      return status === "open" || status === "review" ? "cancelled" : null;
  }
}

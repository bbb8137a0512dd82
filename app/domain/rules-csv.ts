/**
 * Buffer rules as a CSV sheet (bulk edit): `channel,sku,kind,value` — channel a channel's name
 * or `all`, sku empty or `all` for every SKU, kind one of the four rule kinds, value a whole
 * number ≥ 0. Parsing checks the sheet's own shape (columns, kinds, numbers, a scope and kind
 * listed twice) and reports every bad row; the service then checks channels and SKUs against the
 * shop. Pure: no I/O.
 */
import type { BufferKind } from "./types";

export const RULE_KINDS = [
  "reserve_units",
  "percent_of_ats",
  "max_shown",
  "zero_at_or_below",
] as const;
export const RULES_CSV_HEADER = "channel,sku,kind,value";
export const MAX_RULE_ROWS = 5_000;

export type RuleSheetRow = {
  /** 1-based line of the sheet (the header is line 1). */
  line: number;
  /** A channel's name, or null for every channel. */
  channel: string | null;
  /** A SKU, or null for every SKU. */
  sku: string | null;
  kind: BufferKind;
  value: number;
};

export type RuleSheetError = { line: number; message: string };

/** One CSV line into fields: commas split, double quotes quote ("" is a quote). */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      fields.push(field);
      field = "";
    } else field += ch;
  }
  fields.push(field);
  return fields.map((f) => f.trim());
}

export function parseRulesCsv(text: string): { rows: RuleSheetRow[]; errors: RuleSheetError[] } {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const errors: RuleSheetError[] = [];
  const rows: RuleSheetRow[] = [];
  const header = splitCsvLine(lines[0] ?? "").map((h) => h.toLowerCase());
  if (header.join(",") !== RULES_CSV_HEADER) {
    return {
      rows,
      errors: [{ line: 1, message: `The first line must be the columns ${RULES_CSV_HEADER}` }],
    };
  }
  const seen = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === "") continue;
    const line = i + 1;
    if (rows.length + errors.length >= MAX_RULE_ROWS) {
      errors.push({ line, message: `At most ${MAX_RULE_ROWS} rules per sheet` });
      break;
    }
    const fields = splitCsvLine(raw);
    if (fields.length !== 4) {
      errors.push({ line, message: `Line ${line}: expected 4 fields, found ${fields.length}` });
      continue;
    }
    const [channelField, skuField, kindField, valueField] = fields as [
      string,
      string,
      string,
      string,
    ];
    const kind = kindField.toLowerCase();
    if (!(RULE_KINDS as readonly string[]).includes(kind)) {
      errors.push({
        line,
        message: `Line ${line}: kind must be one of ${RULE_KINDS.join(", ")} (found "${kindField}")`,
      });
      continue;
    }
    if (!/^\d{1,10}$/.test(valueField) || Number(valueField) > 1_000_000_000) {
      errors.push({
        line,
        message: `Line ${line}: value must be a whole number from 0 to 1,000,000,000 (found "${valueField}")`,
      });
      continue;
    }
    const value = Number(valueField);
    if (kind === "percent_of_ats" && value > 100) {
      errors.push({ line, message: `Line ${line}: a percentage must be at most 100` });
      continue;
    }
    const channel =
      channelField === "" || channelField.toLowerCase() === "all" ? null : channelField;
    const sku = skuField === "" || skuField.toLowerCase() === "all" ? null : skuField;
    const key = `${channel?.toLowerCase() ?? "*"}|${sku?.toUpperCase() ?? "*"}|${kind}`;
    const first = seen.get(key);
    if (first !== undefined) {
      errors.push({ line, message: `Line ${line}: the same rule as line ${first}` });
      continue;
    }
    seen.set(key, line);
    rows.push({ line, channel, sku, kind: kind as BufferKind, value });
  }
  return { rows, errors };
}

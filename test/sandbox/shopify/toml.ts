/**
 * Reads the `[[webhooks.subscriptions]]` blocks of a shopify.app.toml (the subset the app uses:
 * `topics`, `uri`, optional `include_fields`; `compliance_topics` are ignored) so the sandbox
 * subscribes exactly what the app declares. Not a general TOML parser.
 */
import type { SubscriptionSeed } from "./state";

type Value = string | string[] | number | boolean;

export function subscriptionsFromToml(tomlText: string, baseUrl: string): SubscriptionSeed[] {
  const blocks = parseSubscriptionBlocks(tomlText);
  const base = baseUrl.replace(/\/+$/, "");
  const out: SubscriptionSeed[] = [];
  for (const block of blocks) {
    const topics = block.topics;
    const uri = block.uri;
    if (!Array.isArray(topics) || topics.length === 0 || typeof uri !== "string") continue;
    const address = /^[a-z][a-z0-9+.-]*:\/\//i.test(uri)
      ? uri
      : `${base}${uri.startsWith("/") ? "" : "/"}${uri}`;
    const subscription: SubscriptionSeed = { topics: [...topics], address };
    if (Array.isArray(block.include_fields)) subscription.includeFields = [...block.include_fields];
    out.push(subscription);
  }
  return out;
}

/** The `[webhooks] api_version` value, if present. */
export function webhooksApiVersion(tomlText: string): string | null {
  let table = "";
  for (const line of logicalLines(tomlText)) {
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?$/.exec(line);
    if (header) {
      table = header[1] ?? "";
      continue;
    }
    const kv = /^([A-Za-z0-9_.-]+)\s*=\s*(.*)$/.exec(line);
    if (table === "webhooks" && kv?.[1] === "api_version") {
      const value = parseValue(kv[2] ?? "");
      return typeof value === "string" ? value : null;
    }
  }
  return null;
}

function parseSubscriptionBlocks(text: string): Record<string, Value>[] {
  const blocks: Record<string, Value>[] = [];
  let current: Record<string, Value> | null = null;
  for (const line of logicalLines(text)) {
    if (line.startsWith("[")) {
      current = null;
      if (/^\[\[\s*webhooks\.subscriptions\s*\]\]$/.test(line)) {
        current = {};
        blocks.push(current);
      }
      continue;
    }
    if (!current) continue;
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line);
    if (kv?.[1]) current[kv[1]] = parseValue(kv[2] ?? "");
  }
  return blocks;
}

/** Lines without comments, with multi-line arrays joined into one line. */
function logicalLines(text: string): string[] {
  const out: string[] = [];
  let pending = "";
  let depth = 0;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = stripComment(rawLine).trim();
    if (line === "" && depth === 0) continue;
    pending = pending === "" ? line : `${pending} ${line}`;
    depth += bracketBalance(line);
    if (depth <= 0 || pending.startsWith("[")) {
      out.push(pending);
      pending = "";
      depth = 0;
    }
  }
  if (pending !== "") out.push(pending);
  return out;
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#") return line.slice(0, i);
  }
  return line;
}

/** Net `[` minus `]` outside strings, for `key = [` lines only (headers are single-line). */
function bracketBalance(line: string): number {
  if (/^\[/.test(line)) return 0;
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "[") depth++;
    else if (c === "]") depth--;
  }
  return depth;
}

function parseValue(raw: string): Value {
  const text = raw.trim();
  if (text.startsWith("[")) {
    const items: string[] = [];
    for (const match of text.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g)) {
      items.push(match[1] !== undefined ? unescape(match[1]) : (match[2] ?? ""));
    }
    return items;
  }
  const quoted = /^"((?:[^"\\]|\\.)*)"$|^'([^']*)'$/.exec(text);
  if (quoted) return quoted[1] !== undefined ? unescape(quoted[1]) : (quoted[2] ?? "");
  if (text === "true" || text === "false") return text === "true";
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

function unescape(value: string): string {
  return value.replace(/\\(["\\nt])/g, (_m, c: string) =>
    c === "n" ? "\n" : c === "t" ? "\t" : c,
  );
}

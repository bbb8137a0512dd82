/**
 * Reads the Flow extensions the app declares (extensions/<dir>/shopify.extension.toml): handle,
 * type, name and `[[settings.fields]]` (type, key, name, required). The local Shopify validates
 * `flowTriggerReceive` payloads against them, and tests compare them with the app's own schemas.
 * Not a general TOML parser: the subset those files use (tables, arrays of tables, `key = value`
 * with strings, booleans and numbers, `#` comments).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export type FlowField = {
  type: string;
  key?: string;
  name?: string;
  description?: string;
  required?: boolean;
};

export type FlowManifest = {
  dir: string;
  type: string;
  handle: string;
  name: string;
  description?: string;
  runtimeUrl?: string;
  fields: FlowField[];
  /** Every other extension's targets (ui_extension): target → module. */
  targets: { target: string; module: string }[];
  apiVersion?: string;
};

type Scalar = string | number | boolean;

function parseValue(raw: string): Scalar {
  const text = raw.trim();
  if (text.startsWith('"')) {
    const end = text.indexOf('"', 1);
    if (end < 0) throw new Error(`unterminated string: ${raw}`);
    return JSON.parse(text.slice(0, end + 1)) as string;
  }
  if (text === "true" || text === "false") return text === "true";
  const n = Number(text.replace(/\s+#.*$/, ""));
  if (Number.isFinite(n)) return n;
  throw new Error(`unsupported value: ${raw}`);
}

/** Parses one shopify.extension.toml of the subset above. */
export function parseExtensionToml(text: string, dir = ""): FlowManifest {
  const manifest: FlowManifest = { dir, type: "", handle: "", name: "", fields: [], targets: [] };
  let section = "";
  let current: Record<string, Scalar> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const table = /^\[\[?\s*([A-Za-z0-9_.]+)\s*\]\]?$/.exec(line);
    if (table) {
      section = table[1]!;
      current = {};
      if (section === "settings.fields") manifest.fields.push(current as FlowField);
      if (section === "extensions.targeting") {
        manifest.targets.push(current as unknown as { target: string; module: string });
      }
      continue;
    }
    const pair = /^([A-Za-z0-9_]+)\s*=\s*(.+)$/.exec(line);
    if (!pair) throw new Error(`unsupported line: ${line}`);
    const value = parseValue(pair[2]!);
    const key = pair[1]!;
    if (section === "" && key === "api_version") manifest.apiVersion = String(value);
    else if (section === "extensions") {
      if (key === "type") manifest.type = String(value);
      if (key === "handle") manifest.handle = String(value);
      if (key === "name") manifest.name = String(value);
      if (key === "description") manifest.description = String(value);
      if (key === "runtime_url") manifest.runtimeUrl = String(value);
    } else current[key] = value;
  }
  return manifest;
}

export const EXTENSIONS_DIR = join(process.cwd(), "extensions");

/** Every extension under `dir` (default: the app's extensions/ folder). */
export function loadExtensionManifests(dir = EXTENSIONS_DIR): FlowManifest[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(dir, entry.name, "shopify.extension.toml"))
    .filter((path) => existsSync(path))
    .map((path) => parseExtensionToml(readFileSync(path, "utf8"), path));
}

/** The payload key of a trigger field: `<object>_id` for a commerce reference, else its key. */
export function payloadKey(field: FlowField): string {
  if (field.type.endsWith("_reference")) return `${field.type.replace(/_reference$/, "")}_id`;
  if (!field.key) throw new Error(`field of type ${field.type} has no key`);
  return field.key;
}

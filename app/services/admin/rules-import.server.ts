/**
 * Bulk edit of buffer rules from a CSV sheet (`channel,sku,kind,value`, the Rules page's
 * "Import"): the whole sheet is checked first — its shape (domain/rules-csv.ts), then every
 * channel name and SKU against the shop — and with any bad row nothing is applied and every bad
 * row is reported with its line. A good sheet sets each rule (an existing rule of the same scope
 * and kind takes the new value) and republishes the shop once.
 */
import { parseRulesCsv, type RuleSheetError } from "../../domain/rules-csv";
import { normalizeSku } from "../../domain/sku";
import { listRuleConnections } from "../../repositories/admin/buffer-rules.server";
import { skuInShop } from "../../repositories/rules.server";
import { applyRuleChange, createRule } from "../rules.server";
import { requireShop } from "./shop.server";

export type RulesImportResult =
  | { ok: true; intent: "import"; message: string; applied: number }
  | { ok: false; intent: "import"; status: 422; rowErrors: RuleSheetError[] };

export async function importBufferRules(
  shopDomain: string,
  csv: string,
): Promise<RulesImportResult> {
  const shop = await requireShop(shopDomain);
  const { rows, errors } = parseRulesCsv(csv);
  const connections = await listRuleConnections({ shopId: shop.id });
  const byName = new Map(connections.map((c) => [c.name.trim().toLowerCase(), c.id]));
  const resolved: {
    connectionId: string | null;
    sku: string | null;
    kind: (typeof rows)[number]["kind"];
    value: number;
  }[] = [];
  const skuKnown = new Map<string, boolean>();
  for (const row of rows) {
    const connectionId = row.channel === null ? null : byName.get(row.channel.toLowerCase());
    if (connectionId === undefined) {
      errors.push({
        line: row.line,
        message: `Line ${row.line}: no channel is named "${row.channel}"`,
      });
      continue;
    }
    const sku = row.sku === null ? null : normalizeSku(row.sku);
    if (sku !== null) {
      if (!skuKnown.has(sku)) skuKnown.set(sku, await skuInShop({ shopId: shop.id, sku }));
      if (!skuKnown.get(sku)) {
        errors.push({
          line: row.line,
          message: `Line ${row.line}: no stock item or listing has SKU ${sku}`,
        });
        continue;
      }
    }
    resolved.push({ connectionId, sku, kind: row.kind, value: row.value });
  }
  if (errors.length > 0 || resolved.length === 0) {
    return {
      ok: false,
      intent: "import",
      status: 422,
      rowErrors:
        errors.length > 0
          ? errors.sort((a, b) => a.line - b.line)
          : [{ line: 1, message: "The sheet has no rules" }],
    };
  }
  try {
    for (const rule of resolved)
      await createRule(shop.id, rule, { replace: true, republish: false });
  } finally {
    // Even after a failure half-way, what was set is published.
    await applyRuleChange(shop.id);
  }
  return {
    ok: true,
    intent: "import",
    applied: resolved.length,
    message: `${resolved.length} rule${resolved.length === 1 ? "" : "s"} set from the sheet`,
  };
}

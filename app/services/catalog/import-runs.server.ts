/**
 * A catalog import as the merchant follows it: a run recorded with its progress (entries read,
 * updated after each page), the issues it found, and — when it fails — why, so the Overview can
 * show progress and a retry. Runs on the catalog queue; an install from Shopify starts one.
 */
import { adapterFor } from "../../channels/registry.server";
import { enqueueMaintenance, enqueuePush, enqueueSafely } from "../../queues/jobs.server";
import * as connections from "../../repositories/connections.server";
import * as runs from "../../repositories/import-runs.server";
import { importCatalog, type ImportSummary } from "./import-catalog.server";

export async function runImport(
  connectionId: string,
  reason = "refresh",
): Promise<ImportSummary | { skipped: true }> {
  const row = await connections.loadConnection(connectionId);
  if (!row || row.shopStatus !== "active" || row.status === "disconnected")
    return { skipped: true };
  const run = await runs.startImportRun({ shopId: row.shopId, connectionId, reason });
  try {
    let last = 0;
    const summary = await importCatalog(
      connections.toContext(row),
      adapterFor(row.kind),
      async (read) => {
        if (read - last < 250 && read !== 0) return;
        last = read;
        await runs.importProgress(run, { imported: read, total: null });
      },
    );
    await runs.finishImportRun(run, {
      imported: summary.variants,
      issues: summary.duplicateSkus + summary.emptySkus + summary.unmatchedSkus,
    });
    if (row.syncEnabled) await enqueueSafely("push", () => enqueuePush(connectionId));
    return summary;
  } catch (error) {
    await runs.failImportRun(run, error instanceof Error ? error.message : String(error));
    throw error;
  }
}

/** An import the caller waits for (connecting a channel): recorded like any other run. */
export async function importNow(connectionId: string, reason: string): Promise<ImportSummary> {
  const result = await runImport(connectionId, reason);
  if ("skipped" in result) throw new Error("the connection is not active: nothing was imported");
  return result;
}

/** Starts (queues) an import; the merchant's retry and an install from Shopify use it. */
export async function requestImport(connectionId: string, reason: string): Promise<void> {
  await enqueueMaintenance({ task: "import_catalog", connectionId, reason });
}

export const latestImports = runs.latestImportRuns;

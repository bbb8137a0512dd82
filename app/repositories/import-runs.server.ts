/**
 * Catalog import runs: one row per import of a connection, with the progress the Overview shows
 * (entries read, of how many when known), the issues found, and why it failed.
 */
import { db, sql } from "../lib/sql.server";

export async function startImportRun(input: {
  shopId: string;
  connectionId: string;
  reason: string;
}): Promise<bigint> {
  const [row] = await db().query<{ id: bigint }>(sql`
    INSERT INTO import_run (shop_id, connection_id, reason)
    VALUES (${input.shopId}::uuid, ${input.connectionId}::uuid, ${input.reason})
    RETURNING id`);
  return row!.id;
}

export async function importProgress(
  id: bigint,
  progress: { imported: number; total: number | null },
): Promise<void> {
  await db().execute(sql`
    UPDATE import_run SET imported = ${progress.imported}, total = COALESCE(${progress.total}::int, total)
     WHERE id = ${id}::bigint AND status = 'running'`);
}

export async function finishImportRun(
  id: bigint,
  result: { imported: number; issues: number },
): Promise<void> {
  await db().execute(sql`
    UPDATE import_run SET status = 'done', imported = ${result.imported}, total = ${result.imported},
                          issues = ${result.issues}, finished_at = now()
     WHERE id = ${id}::bigint`);
}

export async function failImportRun(id: bigint, error: string): Promise<void> {
  await db().execute(sql`
    UPDATE import_run SET status = 'failed', error = ${error.slice(0, 1000)}, finished_at = now()
     WHERE id = ${id}::bigint AND status = 'running'`);
}

export type ImportRunView = {
  id: bigint;
  connectionId: string;
  connectionName: string;
  status: "running" | "done" | "failed";
  reason: string;
  total: number | null;
  imported: number;
  issues: number;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
};

/** The latest run of each connection of a shop. */
export async function latestImportRuns(shopId: string): Promise<ImportRunView[]> {
  return db().query<ImportRunView>(sql`
    SELECT DISTINCT ON (r.connection_id) r.id, r.connection_id AS "connectionId", c.name AS "connectionName",
           r.status, r.reason, r.total, r.imported, r.issues, r.error, r.started_at AS "startedAt",
           r.finished_at AS "finishedAt"
      FROM import_run r JOIN connection c ON c.id = r.connection_id
     WHERE r.shop_id = ${shopId}::uuid
     ORDER BY r.connection_id, r.started_at DESC`);
}

/** Runs a previous process left `running` when it died: failed, so the merchant can retry. */
export async function failAbandonedRuns(olderThanMs: number): Promise<number> {
  return db().execute(sql`
    UPDATE import_run SET status = 'failed', error = 'the import stopped (the worker restarted)', finished_at = now()
     WHERE status = 'running' AND started_at < now() - make_interval(secs => ${olderThanMs / 1000})`);
}

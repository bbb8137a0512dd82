import { Redis } from "ioredis";
import { applyRepeatable, migrateDeploy } from "../../prisma/migrate";
import { databaseUrl, PG_ADMIN_URL, REDIS_URL, templateName, withAdmin } from "./services";

/**
 * Once per `vitest run`: check that Postgres and Redis answer (with a message saying how to
 * start them), build the migrated template database the per-file databases are cloned from,
 * and drop test databases left behind by interrupted runs.
 */
export default async function setup(): Promise<void> {
  try {
    await withAdmin((client) => client.query("SELECT 1"));
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG_ADMIN_URL} (${(error as Error).message}). Start it (bash .ci/run does).`,
    );
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`Redis is not reachable at ${REDIS_URL} (${(error as Error).message}).`);
  } finally {
    redis.disconnect();
  }

  const template = templateName();
  await withAdmin(async (client) => {
    // Leftovers: older templates, and per-file databases of runs interrupted over 2 hours ago
    // (their names carry the creation time in base 36).
    const all = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'sg\\_t%'",
    );
    const cutoff = Date.now() - 2 * 3_600_000;
    for (const { datname } of all.rows) {
      const created = /^sg_t_([0-9a-z]+)_/.exec(datname)?.[1];
      const stale =
        (datname.startsWith("sg_tpl_") && datname !== template) ||
        (created !== undefined && parseInt(created, 36) < cutoff);
      if (stale)
        await client
          .query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`)
          .catch(() => undefined);
    }
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [template]);
    if (exists.rowCount) return;
    await client.query(`CREATE DATABASE "${template}"`);
    try {
      migrateDeploy(databaseUrl(template), true);
      await applyRepeatable(databaseUrl(template));
    } catch (error) {
      await client.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
      throw new Error(`migrating the test template failed: ${(error as Error).message}`);
    }
  });
}

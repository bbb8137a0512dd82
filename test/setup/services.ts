import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { applyRepeatable, migrateDeploy } from "../../prisma/migrate";

/** Connection facts for the test services (overridable for other machines). */
export const PG_ADMIN_URL =
  process.env.TEST_PG_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL =
  process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export function databaseUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A name that changes whenever a migration changes, so a stale template is never reused. */
export function templateName(): string {
  const dir = path.resolve("prisma/migrations");
  const hash = createHash("sha256");
  for (const entry of readdirSync(dir).sort()) {
    const file = path.join(dir, entry, "migration.sql");
    try {
      hash.update(entry).update(readFileSync(file));
    } catch {
      // migration_lock.toml and other files
    }
  }
  const repeatable = path.resolve("prisma/repeatable");
  for (const entry of readdirSync(repeatable).sort()) {
    hash.update(entry).update(readFileSync(path.join(repeatable, entry)));
  }
  return `sg_tpl_${hash.digest("hex").slice(0, 12)}`;
}

export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Clones the migrated template into a fresh database (a file copy: fast, fully isolated). */
export async function createTestDatabase(prefix = "sg_t"): Promise<{ name: string; url: string }> {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const template = templateName();
  await withAdmin(async (client) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        return;
      } catch (error) {
        // 55006: the template is briefly in use by a concurrent clone; try again.
        if ((error as { code?: string }).code !== "55006" || attempt > 50) throw error;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  });
  return { name, url: databaseUrl(name) };
}

export async function dropTestDatabase(name: string): Promise<void> {
  await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/**
 * The migrated template every test database is cloned from (named after the migrations, so a
 * stale one is never reused); also drops leftovers of interrupted runs.
 */
export async function ensureTemplate(): Promise<string> {
  const template = templateName();
  await withAdmin(async (client) => {
    // One maker at a time, across processes (several benches or worlds starting together):
    // the others wait here and then find the template made. The lock ends with the session.
    await client.query("SELECT pg_advisory_lock(hashtext('stockguard test template'))");
    // Leftovers: older templates, and per-file databases of runs interrupted over 2 hours ago
    // (their names carry the creation time in base 36).
    const all = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'sg\\_t%'",
    );
    const cutoff = Date.now() - 2 * 3_600_000;
    // Other templates belong to other migration sets — possibly another checkout's run going on
    // right now on this machine — so they go only when too many pile up.
    const others = all.rows.filter(
      (r) => r.datname.startsWith("sg_tpl_") && r.datname !== template,
    );
    for (const { datname } of all.rows) {
      const created = /^sg_t_([0-9a-z]+)_/.exec(datname)?.[1];
      const stale =
        (others.length > 8 && others.some((o) => o.datname === datname)) ||
        (created !== undefined && parseInt(created, 36) < cutoff);
      if (stale)
        await client
          .query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`)
          .catch(() => undefined);
    }
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [template]);
    if (exists.rowCount) return;
    // Made under another name and renamed when complete: a process killed half-way (a bench
    // interrupted while its template migrated) leaves a `_wip` database, never a template that
    // looks made but lacks its repeatable SQL (the movement ledger's append-only trigger).
    const wip = `${template}_wip`;
    await client.query(`DROP DATABASE IF EXISTS "${wip}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${wip}"`);
    try {
      migrateDeploy(databaseUrl(wip), true);
      await applyRepeatable(databaseUrl(wip));
      await client.query(`ALTER DATABASE "${wip}" RENAME TO "${template}"`);
    } catch (error) {
      await client.query(`DROP DATABASE IF EXISTS "${wip}" WITH (FORCE)`);
      throw new Error(`migrating the test template failed: ${(error as Error).message}`);
    }
  });
  return template;
}

/**
 * Deletes every Redis key under a test's queue prefix (its queues, locks, buckets): a world or a
 * test file leaves nothing behind in a Redis that many runs share.
 */
export async function dropRedisPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== "0");
  } catch {
    // Redis down (a fault test stopped it): nothing to clean that a restart did not drop.
  } finally {
    redis.disconnect();
  }
}

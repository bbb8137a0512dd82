/**
 * `npm run db:migrate`: creates the database named by DATABASE_URL when it is missing, then applies
 * every committed migration with `prisma migrate deploy` (JS schema engine, no native download).
 */
import { spawnSync } from "node:child_process";
import pg from "pg";

const DEFAULT_URL = "postgresql://postgres:postgres@127.0.0.1:5432/stockguard";

export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!/^[A-Za-z0-9_\-]+$/.test(name)) throw new Error(`Unsupported database name "${name}"`);
  const admin = new URL(databaseUrl);
  admin.pathname = "/postgres";
  admin.search = "";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const existing = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (existing.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } catch (error) {
      // Another process created it between our check and our CREATE.
      if ((error as { code?: string }).code !== "42P04") throw error;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}

export function migrateDeploy(databaseUrl: string): void {
  const result = spawnSync("prisma", ["migrate", "deploy"], {
    stdio: "inherit",
    env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
  });
  if (result.status !== 0) throw new Error(`prisma migrate deploy exited with ${result.status}`);
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL || DEFAULT_URL;
  const created = await ensureDatabase(databaseUrl);
  const safe = new URL(databaseUrl);
  safe.password = safe.password ? "***" : "";
  if (created) console.log(`Created database ${safe.pathname.slice(1)} on ${safe.host}`);
  migrateDeploy(databaseUrl);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

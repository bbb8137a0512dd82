/**
 * `npm run db:migrate`: creates the database named by DATABASE_URL when it is missing, applies
 * every committed migration with `prisma migrate deploy` (JS schema engine, no native download),
 * then the repeatable scripts in prisma/repeatable/ (functions and triggers: the JS schema engine
 * splits migration files on every semicolon, so it cannot run a function body).
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const here = path.dirname(fileURLToPath(import.meta.url));

const DEFAULT_URL = "postgresql://postgres:postgres@127.0.0.1:5432/stockguard";

export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`Unsupported database name "${name}"`);
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

export function migrateDeploy(databaseUrl: string, quiet = false): void {
  const result = spawnSync("npx", ["prisma", "migrate", "deploy"], {
    cwd: path.resolve(here, ".."),
    stdio: quiet ? "pipe" : "inherit",
    encoding: "utf8",
    env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
  });
  if (result.status !== 0) {
    throw new Error(
      `prisma migrate deploy exited with ${result.status}\n${result.stdout ?? ""}${result.stderr ?? ""}`,
    );
  }
}

export async function applyRepeatable(databaseUrl: string): Promise<string[]> {
  const dir = path.join(here, "repeatable");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("BEGIN");
    for (const file of files) await client.query(readFileSync(path.join(dir, file), "utf8"));
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
  return files;
}

/** The whole of `npm run db:migrate`, reused by the test setup and the demo. */
export async function migrate(
  databaseUrl: string,
  log: (line: string) => void = () => {},
): Promise<void> {
  const created = await ensureDatabase(databaseUrl);
  const safe = new URL(databaseUrl);
  safe.password = safe.password ? "***" : "";
  if (created) log(`Created database ${safe.pathname.slice(1)} on ${safe.host}`);
  migrateDeploy(databaseUrl);
  const applied = await applyRepeatable(databaseUrl);
  log(`Applied repeatable scripts: ${applied.join(", ")}`);
}

async function main(): Promise<void> {
  await migrate(process.env.DATABASE_URL || DEFAULT_URL, (line) => console.log(line));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

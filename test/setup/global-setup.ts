import { Redis } from "ioredis";
import { ensureBuild } from "../../app/lib/build.server";
import { ensureTemplate, PG_ADMIN_URL, REDIS_URL, withAdmin } from "./services";

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

  await ensureTemplate();
  // Web processes of the end-to-end and browser tests start in parallel: build once, here.
  if (!ensureBuild(process.cwd())) throw new Error("remix vite:build failed");
}

import { afterAll } from "vitest";
import { resetEnvCache } from "../../app/env.server";
import { createTestDatabase, dropRedisPrefix, dropTestDatabase, REDIS_URL } from "./services";

/**
 * Integration tests: each test file gets its own database, cloned from the migrated template,
 * and its own BullMQ prefix, so files run in parallel without seeing each other's rows or jobs.
 */
const database = await createTestDatabase();
process.env.DATABASE_URL = database.url;
process.env.REDIS_URL = REDIS_URL;
process.env.QUEUE_PREFIX = `sgt-${database.name.slice(5).replace(/_/g, "-")}`;
globalThis.prismaGlobal = undefined;
globalThis.stockguardSqlPool = undefined;
resetEnvCache();

afterAll(async () => {
  const { disconnectDb } = await import("../../app/db.server");
  const { runShutdown } = await import("../../app/lib/lifecycle.server");
  await runShutdown(5_000);
  await disconnectDb();
  await dropTestDatabase(database.name);
  await dropRedisPrefix(process.env.QUEUE_PREFIX!);
});

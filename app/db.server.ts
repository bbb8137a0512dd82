/**
 * The Prisma client (template shape): one per process, kept on `globalThis` so Vite's dev
 * reloads do not open a new pool each time. Queries go through the `pg` driver adapter (no
 * native query engine).
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import pg from "pg";
import { env } from "./env.server";

declare global {
  var prismaGlobal: PrismaClient | undefined;
}

export function createPrismaClient(databaseUrl: string, poolMax = 10): PrismaClient {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolMax,
    idleTimeoutMillis: 30_000,
    // Fail fast instead of queueing forever when Postgres is down; callers retry.
    connectionTimeoutMillis: 5_000,
  });
  // A restarted server emits 'error' on pooled clients; the query in flight still fails and the
  // pool replaces the client, but an unhandled event would crash the process.
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
  return new PrismaClient({ adapter: new PrismaPg(pool) });
}

function poolSize(): number {
  const fromEnv = Number(process.env.DATABASE_POOL_MAX);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 10;
}

export function db(): PrismaClient {
  if (!globalThis.prismaGlobal) {
    globalThis.prismaGlobal = createPrismaClient(env().DATABASE_URL, poolSize());
  }
  return globalThis.prismaGlobal;
}

export async function disconnectDb(): Promise<void> {
  const client = globalThis.prismaGlobal;
  globalThis.prismaGlobal = undefined;
  await client?.$disconnect();
}

const prisma = new Proxy({} as PrismaClient, {
  get(_target, property) {
    const client = db();
    const value = Reflect.get(client, property, client) as unknown;
    return typeof value === "function"
      ? (value as (...a: unknown[]) => unknown).bind(client)
      : value;
  },
});

export default prisma;

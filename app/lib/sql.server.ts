/**
 * Raw SQL for the hot paths (ledger apply, push planning): a `pg` pool of its own, a tagged
 * template that turns `${value}` into numbered parameters, and explicit transactions.
 * Prisma stays the schema owner and the client for everything else; see
 * docs/decisions/0002-raw-sql-for-the-ledger-hot-path.md for why and for the measurements.
 */
import { createHash } from "node:crypto";
import pg from "pg";
import { env } from "../env.server";
import { onShutdown } from "./lifecycle.server";
import { metrics } from "./metrics.server";

export type Sql = { text: string; values: unknown[] };

/** A fragment inserted verbatim (identifiers, fixed SQL); never user input. */
export class Raw {
  constructor(readonly text: string) {}
}

export function raw(text: string): Raw {
  return new Raw(text);
}

export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  let text = strings[0] ?? "";
  const params: unknown[] = [];
  values.forEach((value, i) => {
    if (value instanceof Raw) text += value.text;
    else if (isSql(value)) {
      // Nested fragment: renumber its parameters.
      text += value.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + params.length}`);
      params.push(...value.values);
    } else {
      params.push(value);
      text += `$${params.length}`;
    }
    text += strings[i + 1] ?? "";
  });
  return { text, values: params };
}

function isSql(value: unknown): value is Sql {
  return (
    typeof value === "object" &&
    value !== null &&
    "text" in value &&
    "values" in value &&
    Array.isArray((value as Sql).values)
  );
}

export interface SqlClient {
  query<T = Record<string, unknown>>(q: Sql): Promise<T[]>;
  execute(q: Sql): Promise<number>;
}

const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    // int8 (ids, counts) as bigint; timestamp without time zone is stored in UTC (as Prisma does).
    if (oid === 20) return (value: string) => BigInt(value);
    if (oid === 1114) return (value: string) => new Date(`${value.replace(" ", "T")}Z`);
    return pg.types.getTypeParser(oid, format);
  },
};

function serialize(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(serialize);
  return value;
}

/**
 * Statements run as named prepared statements: each pooled connection parses and plans a text
 * once, then only binds and executes it (Postgres spent most of its CPU parsing and planning the
 * same few dozen texts thousands of times a second). Texts come from code, never from input, so
 * the set of names is small and bounded; the name is a hash of the text.
 */
const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `sg_${createHash("sha1").update(text).digest("hex").slice(0, 24)}`;
    if (statementNames.size < 10_000) statementNames.set(text, name);
  }
  return name;
}

function toQuery(q: Sql): pg.QueryConfig {
  return { name: statementName(q.text), text: q.text, values: q.values.map(serialize) };
}

class ClientAdapter implements SqlClient {
  constructor(private readonly client: pg.Pool | pg.PoolClient) {}

  async query<T>(q: Sql): Promise<T[]> {
    const result = await this.run(q);
    return result.rows as T[];
  }

  async execute(q: Sql): Promise<number> {
    const result = await this.run(q);
    return result.rowCount ?? 0;
  }

  /**
   * On the pool each statement is its own transaction: one Postgres aborts as a deadlock's victim
   * (or for serialization) changed nothing, and runs again, as `transaction` runs its function
   * again. A push's multi-row listing statements meet the ledger's transactions, which update the
   * same listings in their own order (bench, 100 orders/s: a push failed after its writes landed,
   * its answers unrecorded, and one store stayed ~13 s behind). Inside a transaction the caller's
   * `transaction` retries the whole of it.
   */
  private run(q: Sql): Promise<pg.QueryResult> {
    const query = toQuery(q);
    const client = this.client;
    if (!(client instanceof pg.Pool)) return client.query(query);
    return retryingAborted("statement", 5, () => client.query(query));
  }
}

declare global {
  var stockguardSqlPool: pg.Pool | undefined;
}

export function sqlPool(): pg.Pool {
  if (!globalThis.stockguardSqlPool) {
    const max =
      Number(process.env.DATABASE_POOL_MAX) > 0 ? Number(process.env.DATABASE_POOL_MAX) : 10;
    const pool = new pg.Pool({
      connectionString: env().DATABASE_URL,
      max,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 5_000,
      types,
      options: "-c TimeZone=UTC",
    });
    // A server restart or a killed backend emits 'error' on idle and checked-out clients alike;
    // the query in progress still rejects, and the pool replaces the client. Without these
    // listeners Node would crash the process on the event.
    pool.on("error", () => undefined);
    pool.on("connect", (client) => client.on("error", () => undefined));
    globalThis.stockguardSqlPool = pool;
    onShutdown("sql-pool", closeSqlPool);
  }
  return globalThis.stockguardSqlPool;
}

export async function closeSqlPool(): Promise<void> {
  const pool = globalThis.stockguardSqlPool;
  globalThis.stockguardSqlPool = undefined;
  await pool?.end();
}

export function db(): SqlClient {
  return new ClientAdapter(sqlPool());
}

const RETRYABLE = new Set(["40P01", "40001"]);

/** A deadlock's victim or a serialization failure: nothing of it was applied. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code !== undefined && RETRYABLE.has(code);
}

/**
 * Runs `attempt` again, up to `attempts` times in all, while PostgreSQL aborts it as a deadlock's
 * victim or for serialization. Each retry is counted for the on-call engineer: a deadlock no
 * longer fails anything, it only costs time.
 */
async function retryingAborted<T>(
  scope: "statement" | "transaction",
  attempts: number,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      if (tried >= attempts || !isRetryable(error)) throw error;
      const reason = (error as { code?: string }).code === "40P01" ? "deadlock" : "serialization";
      metrics().sqlRetries.inc({ scope, reason });
      await new Promise((r) => setTimeout(r, 5 * tried + Math.random() * 20));
    }
  }
}

/**
 * Runs `fn` in one READ COMMITTED transaction, retrying deadlocks and serialization failures
 * (the whole function runs again, so it must not have side effects outside the transaction).
 */
export function transaction<T>(fn: (tx: SqlClient) => Promise<T>, attempts = 5): Promise<T> {
  return retryingAborted("transaction", attempts, async () => {
    const client = await sqlPool().connect();
    let released = false;
    try {
      await client.query("BEGIN");
      const result = await fn(new ClientAdapter(client));
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {
        client.release(true);
        released = true;
      });
      throw error;
    } finally {
      if (!released) client.release();
    }
  });
}

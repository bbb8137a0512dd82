/**
 * PostgreSQL refusing the data itself — SQLSTATE class 22 (numeric value out of range, invalid
 * byte sequence, untranslatable character, invalid timestamp, …). Retrying such a statement can
 * never succeed, so the event it came from is refused or failed at once instead of retried.
 */
export function isUnstorableValue(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("22");
}

export function describeError(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 300);
}

/** SQLSTATEs and socket errors that say "the database cannot be reached", not "this failed". */
const UNAVAILABLE_CODES = new Set([
  "57P01", // admin_shutdown: the server is stopping
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: starting up, shutting down, in recovery
  "53300", // too_many_connections
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "P1001", // Prisma: cannot reach database server
  "P1002", // Prisma: database server timed out
  "P1017", // Prisma: server has closed the connection
  "P2024", // Prisma: timed out fetching a connection from the pool
]);
/** node-pg's own messages for a connection that died or never came (they carry no code). */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Can't reach database server/i;

/**
 * The database is unreachable (down, restarting, failing over, out of connections): the same
 * work will succeed once it is back, so it is kept and retried soon rather than refused or
 * counted against its attempts. SQLSTATE class 08 (connection exception) included; causes are
 * followed (driver adapters wrap the driver's error).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || code.startsWith("08")))
      return true;
    if (typeof message === "string" && UNAVAILABLE_MESSAGES.test(message)) return true;
    e = cause;
  }
  return false;
}

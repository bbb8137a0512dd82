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

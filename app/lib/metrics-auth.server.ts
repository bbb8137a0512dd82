/**
 * Who may read `/metrics`: a scraper presenting `Authorization: Bearer <STOCKGUARD_METRICS_TOKEN>`
 * (constant-time compare). Without a configured token the web's `/metrics` does not exist.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export type MetricsAccess = "allowed" | "missing" | "disabled";

export function metricsAccess(
  authorization: string | null | undefined,
  token: string | undefined,
): MetricsAccess {
  if (!token) return "disabled";
  const given = /^Bearer (.+)$/.exec(authorization ?? "")?.[1] ?? "";
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(token)) ? "allowed" : "missing";
}

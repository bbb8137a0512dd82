/**
 * One pino logger per process. Secrets never reach logs: known secret-bearing keys are redacted
 * wherever they appear (tokens, credentials, HMACs, authorization headers).
 */
import pino, { type Logger } from "pino";

const REDACT = [
  "accessToken",
  "*.accessToken",
  "refreshToken",
  "*.refreshToken",
  "credentials",
  "*.credentials",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "password",
  "*.password",
  "headers.authorization",
  'headers["x-shopify-access-token"]',
  'headers["x-shopify-hmac-sha256"]',
  "*.headers.authorization",
  '*.headers["x-shopify-access-token"]',
];

let root: Logger | undefined;

export function logger(): Logger {
  const service = process.env.STOCKGUARD_PROCESS ?? "stockguard";
  const options = {
    level: process.env.LOG_LEVEL ?? (process.env.VITEST ? "silent" : "info"),
    base: { service, pid: process.pid },
    redact: { paths: REDACT, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // The CLI's standard output is its answer (`--json` is parsed by scripts): logs go to stderr.
  root ??= service === "cli" ? pino(options, pino.destination(2)) : pino(options);
  return root;
}

/** A child logger carrying correlation fields (shop, event id, job id, connection id). */
export function log(bindings: Record<string, unknown> = {}): Logger {
  return logger().child(bindings);
}

/**
 * The same, built on first use: a hot path that rarely logs (a webhook delivery, a receipt) does
 * not pay for a child logger per call — pino serializes and redacts the bindings of each child,
 * about 1.5 % of the web's CPU under a flood when built for every delivery.
 */
export function lazyLog(bindings: Record<string, unknown>): () => Logger {
  let child: Logger | undefined;
  return () => (child ??= log(bindings));
}

/** Whether debug traces are on: checked before building a child logger on a hot path. */
export function debugEnabled(): boolean {
  return logger().isLevelEnabled("debug");
}

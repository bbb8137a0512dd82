/**
 * Secrets at rest: channel credentials and Admin API tokens are sealed with AES-256-GCM under
 * STOCKGUARD_ENCRYPTION_KEY. Outside production, when the variable is unset, a key generated on
 * this machine is used (created once in `.stockguard/development.key`, mode 0600, git-ignored), so
 * no key ever lives in the source and two machines never share one.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { z } from "zod";
import { env } from "../env.server";
import { decrypt, encrypt, isEncrypted, parseKey } from "./crypto.server";

const DEV_KEY_FILE = path.resolve(
  process.env.STOCKGUARD_DEV_KEY_DIR ?? ".stockguard",
  "development.key",
);

let cachedKey: Buffer | undefined;

/** The key of this machine's development and test data (never used in production). */
export function developmentKey(file = DEV_KEY_FILE): Buffer {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      // `wx`: two processes starting at once never overwrite each other's key.
      writeFileSync(file, randomBytes(32).toString("base64"), { flag: "wx", mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    chmodSync(file, 0o600);
  }
  return parseKey(readFileSync(file, "utf8"));
}

export function encryptionKey(): Buffer {
  if (!cachedKey) {
    const configured = env().STOCKGUARD_ENCRYPTION_KEY;
    if (configured) cachedKey = parseKey(configured);
    else if (env().NODE_ENV === "production")
      throw new Error("STOCKGUARD_ENCRYPTION_KEY is required in production");
    else cachedKey = developmentKey();
  }
  return cachedKey;
}

/** Tests switch keys between cases. */
export function forgetEncryptionKey(): void {
  cachedKey = undefined;
}

export function seal(value: unknown): string {
  return encrypt(JSON.stringify(value), encryptionKey());
}

/** Opens a sealed JSON value and validates it; null when nothing is stored. */
export function open<T>(sealed: string | null, schema: z.ZodType<T>): T | null {
  if (!sealed) return null;
  return schema.parse(JSON.parse(decrypt(sealed, encryptionKey())));
}

/** Seals one string (a token column). */
export function sealString(value: string): string {
  return encrypt(value, encryptionKey());
}

/** Opens a sealed string; a value stored before sealing existed is returned as it is. */
export function openString(stored: string): string {
  return isEncrypted(stored) ? decrypt(stored, encryptionKey()) : stored;
}

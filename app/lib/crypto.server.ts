/**
 * AES-256-GCM for channel credentials at rest. The stored form is
 * `v1.<iv>.<tag>.<ciphertext>` (base64url parts), so a key rotation can add `v2` later.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const VERSION = "v1";

export function parseKey(raw: string): Buffer {
  const trimmed = raw.trim();
  const candidates = [
    /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : undefined,
    Buffer.from(trimmed, "base64"),
  ];
  const key = candidates.find((k) => k?.length === 32);
  if (!key) throw new Error("STOCKGUARD_ENCRYPTION_KEY must be 32 bytes (64 hex chars or base64)");
  return key;
}

/** True when `stored` has the sealed form (anything else is a legacy plaintext value). */
export function isEncrypted(stored: string): boolean {
  const parts = stored.split(".");
  return parts.length === 4 && parts[0] === VERSION;
}

export function encrypt(plaintext: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv, tag, ciphertext]
    .map((p) => (typeof p === "string" ? p : p.toString("base64url")))
    .join(".");
}

export function decrypt(stored: string, key: Buffer): string {
  const [version, iv, tag, ciphertext] = stored.split(".");
  if (version !== VERSION || !iv || !tag || ciphertext === undefined) {
    throw new Error("Unrecognised encrypted value");
  }
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([
    decipher.update(Buffer.from(ciphertext, "base64url")),
    decipher.final(),
  ]).toString("utf8");
}

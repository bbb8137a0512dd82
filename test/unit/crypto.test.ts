import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decrypt, encrypt, parseKey } from "../../app/lib/crypto.server";

describe("credential encryption", () => {
  const key = parseKey(Buffer.alloc(32, 1).toString("base64"));

  it("round-trips any text and never stores it in clear", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (secret) => {
        const stored = encrypt(secret, key);
        expect(decrypt(stored, key)).toBe(secret);
        if (secret.length >= 4) expect(stored).not.toContain(secret);
      }),
    );
  });

  it("rejects tampering and a wrong key", () => {
    const stored = encrypt("shpat_secret", key);
    const parts = stored.split(".");
    parts[3] = Buffer.from("tampered").toString("base64url");
    expect(() => decrypt(parts.join("."), key)).toThrow();
    expect(() => decrypt(stored, parseKey("ab".repeat(32)))).toThrow();
  });

  it("accepts hex and base64 keys of 32 bytes only", () => {
    expect(parseKey("00".repeat(32))).toHaveLength(32);
    expect(() => parseKey("short")).toThrow(/32 bytes/);
  });
});

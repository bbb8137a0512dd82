/**
 * Notification signatures as eBay sends them and as the official SDK checks them
 * (eBay/event-notification-nodejs-sdk lib/validator.js, lib/constants.js):
 *
 *   X-EBAY-SIGNATURE = base64( JSON {"alg":"ecdsa","kid":…,"signature":…,"digest":"SHA1"} )
 *   signature        = base64( DER ECDSA signature over the JSON body, SHA-1 digest )
 *   getPublicKey(kid) = { algorithm: "ECDSA", digest: "SHA1",
 *                         key: "-----BEGIN PUBLIC KEY-----<base64 SPKI>-----END PUBLIC KEY-----" }
 *
 * The key is one line without newlines, as in the SDK's test vector; the SDK's `formatKey` puts
 * the newlines back before `crypto.createVerify('ssl3-sha1')`. Keys are P-256 pairs generated
 * locally; rotation keeps old keys retrievable.
 */
import {
  createHash,
  createSign,
  createVerify,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";

export type SigningKey = {
  kid: string;
  privateKey: KeyObject;
  /** The `key` field of getPublicKey (single-line PEM). */
  publicKeyField: string;
  createdAt: string;
};

export type SignatureDigest = "SHA1" | "SHA256";

/**
 * A fresh P-256 pair. The kid is derived from the public key (UUID-shaped hash), so a kid never
 * names two different keys, even across resets of a seeded server: clients cache keys by kid.
 */
export function generateSigningKey(createdAt: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const der = publicKey.export({ type: "spki", format: "der" });
  const hex = createHash("sha256").update(der).digest("hex");
  const kid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  return {
    kid,
    privateKey,
    publicKeyField: `-----BEGIN PUBLIC KEY-----${der.toString("base64")}-----END PUBLIC KEY-----`,
    createdAt,
  };
}

/** The value of the X-EBAY-SIGNATURE header for `body`. */
export function signatureHeader(
  key: SigningKey,
  body: string,
  digest: SignatureDigest = "SHA1",
): string {
  const signature = createSign(digest === "SHA1" ? "sha1" : "sha256")
    .update(body, "utf8")
    .sign(key.privateKey, "base64");
  const decoded = JSON.stringify({ alg: "ecdsa", kid: key.kid, signature, digest });
  return Buffer.from(decoded, "utf8").toString("base64");
}

/** A header whose signature does not match (fault injection). */
export function corruptSignatureHeader(header: string): string {
  const decoded = JSON.parse(Buffer.from(header, "base64").toString("utf8")) as {
    signature: string;
  };
  const bytes = Buffer.from(decoded.signature, "base64");
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
  decoded.signature = bytes.toString("base64");
  return Buffer.from(JSON.stringify(decoded), "utf8").toString("base64");
}

export type DecodedSignatureHeader = {
  alg: string;
  kid: string;
  signature: string;
  digest: string;
};

/** The SDK's `getXeBaySignatureHeader`: base64 → ascii → JSON. */
export function decodeSignatureHeader(header: string): DecodedSignatureHeader {
  return JSON.parse(Buffer.from(header, "base64").toString("ascii")) as DecodedSignatureHeader;
}

/** The SDK's `formatKey`: newline after BEGIN and before END. */
export function formatKey(key: string): string {
  return key
    .replace(/-----BEGIN PUBLIC KEY-----/, "-----BEGIN PUBLIC KEY-----\n")
    .replace(/-----END PUBLIC KEY-----/, "\n-----END PUBLIC KEY-----");
}

/**
 * The SDK's `validateSignature`, step by step: decode the header, take the public key (the
 * getPublicKey answer for `kid`), `createVerify('ssl3-sha1')` over `JSON.stringify(message)`.
 */
export function verifyLikeEbaySdk(
  message: unknown,
  header: string,
  publicKey: { key: string },
): boolean {
  const decoded = decodeSignatureHeader(header);
  const verifier = createVerify("ssl3-sha1");
  verifier.update(JSON.stringify(message));
  return verifier.verify(formatKey(publicKey.key), decoded.signature, "base64");
}

/** The SDK's `generateChallengeResponse`: hex SHA-256 of challengeCode + token + endpoint. */
export function challengeResponse(
  challengeCode: string,
  verificationToken: string,
  endpoint: string,
): string {
  return createHash("sha256")
    .update(challengeCode)
    .update(verificationToken)
    .update(endpoint)
    .digest("hex");
}

/**
 * AWS Signature Version 4 verification for the SQS endpoint: parses the `Authorization` header,
 * rebuilds the canonical request from the raw request (signed headers, double-encoded path as
 * for every service but S3, sorted query, SHA-256 of the exact body) and compares signatures.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export type SigV4Credentials = {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
};

export type SigV4Failure = {
  ok: false;
  /** awsQuery code for `x-amzn-query-error`. */
  queryCode: string;
  type: string;
  message: string;
};

export type SigV4Result =
  { ok: true; accessKeyId: string; region: string; service: string } | SigV4Failure;

const fail = (queryCode: string, type: string, message: string): SigV4Failure => ({
  ok: false,
  queryCode,
  type,
  message,
});

const MAX_SKEW_MS = 15 * 60 * 1000;

function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/** RFC 3986 encoding as SigV4 wants it. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function canonicalPath(path: string): string {
  if (path === "" || path === "/") return "/";
  // Non-S3 services: each segment URI-encoded twice (the raw path is already encoded once).
  return path
    .split("/")
    .map((segment) => uriEncode(segment))
    .join("/");
}

function canonicalQuery(search: URLSearchParams): string {
  const pairs: [string, string][] = [];
  for (const [key, value] of search) pairs.push([uriEncode(key), uriEncode(value)]);
  pairs.sort(([ak, av], [bk, bv]) => (ak === bk ? (av < bv ? -1 : 1) : ak < bk ? -1 : 1));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

/**
 * Verifies the request. `lookup` returns the secret for an access key id (undefined: unknown key).
 */
export function verifySigV4(
  req: IncomingMessage,
  body: Buffer,
  lookup: (accessKeyId: string) => SigV4Credentials | undefined,
  now = Date.now(),
): SigV4Result {
  const authorization = req.headers.authorization;
  if (typeof authorization !== "string" || authorization === "") {
    return fail(
      "MissingAuthenticationToken",
      "com.amazon.coral.service#MissingAuthenticationTokenException",
      "Request is missing Authentication Token",
    );
  }
  const match =
    /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]+)\s*$/.exec(
      authorization,
    );
  if (!match) {
    return fail(
      "IncompleteSignature",
      "com.amazon.coral.service#IncompleteSignatureException",
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.",
    );
  }
  const [, credential = "", signedHeaderList = "", signature = ""] = match;
  const [accessKeyId = "", date = "", region = "", service = "", terminator = ""] =
    credential.split("/");
  if (terminator !== "aws4_request" || !/^\d{8}$/.test(date)) {
    return fail(
      "IncompleteSignature",
      "com.amazon.coral.service#IncompleteSignatureException",
      `Credential should be scoped to a valid region, not '${region}'.`,
    );
  }
  const credentials = lookup(accessKeyId);
  if (!credentials) {
    return fail(
      "InvalidClientTokenId",
      "com.amazon.coral.service#UnrecognizedClientException",
      "The security token included in the request is invalid.",
    );
  }
  if (credentials.sessionToken !== undefined) {
    if (req.headers["x-amz-security-token"] !== credentials.sessionToken) {
      return fail(
        "InvalidClientTokenId",
        "com.amazon.coral.service#UnrecognizedClientException",
        "The security token included in the request is invalid.",
      );
    }
  }
  const amzDate = req.headers["x-amz-date"];
  if (typeof amzDate !== "string" || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
    return fail(
      "IncompleteSignature",
      "com.amazon.coral.service#IncompleteSignatureException",
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  const signedAt = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (!(Math.abs(now - signedAt) <= MAX_SKEW_MS)) {
    return fail(
      "SignatureDoesNotMatch",
      "com.amazon.coral.service#InvalidSignatureException",
      `Signature expired: ${amzDate} is now earlier than ${new Date(now - MAX_SKEW_MS).toISOString().replace(/[-:]/g, "").slice(0, 15)}Z (${new Date(now).toISOString().replace(/[-:]/g, "").slice(0, 15)}Z - 15 min.)`,
    );
  }
  const signedHeaders = signedHeaderList.split(";");
  if (!signedHeaders.includes("host")) {
    return fail(
      "SignatureDoesNotMatch",
      "com.amazon.coral.service#InvalidSignatureException",
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }
  const canonicalHeaders = signedHeaders
    .map((name) => {
      const raw = req.headers[name];
      const value = Array.isArray(raw) ? raw.join(",") : (raw ?? "");
      return `${name}:${value.trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
  const url = new URL(req.url ?? "/", "http://local");
  const contentHash = req.headers["x-amz-content-sha256"];
  const payloadHash =
    typeof contentHash === "string" && contentHash !== "UNSIGNED-PAYLOAD"
      ? contentHash
      : sha256Hex(body);
  const canonicalRequest = [
    req.method ?? "POST",
    canonicalPath(url.pathname),
    canonicalQuery(url.searchParams),
    canonicalHeaders,
    signedHeaderList,
    payloadHash,
  ].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const kDate = hmac(`AWS4${credentials.secretAccessKey}`, date);
  const kSigning = hmac(hmac(hmac(kDate, region), service), "aws4_request");
  const expected = createHmac("sha256", kSigning).update(stringToSign, "utf8").digest();
  const given = Buffer.from(signature, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return fail(
      "SignatureDoesNotMatch",
      "com.amazon.coral.service#InvalidSignatureException",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
  }
  if (payloadHash !== sha256Hex(body) && contentHash !== "UNSIGNED-PAYLOAD") {
    return fail(
      "SignatureDoesNotMatch",
      "com.amazon.coral.service#InvalidSignatureException",
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  return { ok: true, accessKeyId, region, service };
}

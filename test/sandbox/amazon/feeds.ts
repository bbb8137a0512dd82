/**
 * Feeds API 2021-06-30 for JSON_LISTINGS_FEED: createFeedDocument (a pre-signed URL on this
 * server to PUT the document to), createFeed, getFeed(s), cancelFeed, getFeedDocument, the
 * S3-like document store, and feed processing (IN_QUEUE → IN_PROGRESS → DONE/FATAL after scaled
 * delays) producing a processing report in the listings-feed-processing-report v2 shape.
 * Accepted messages become listing submissions applied like patchListingsItem.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { parseJson } from "../shopify/http-util";
import { json, spErrors, type Reply } from "./http";
import * as ids from "./ids";
import {
  INCLUDED_DATA,
  createListing,
  itemPayload,
  parsePatchBody,
  submit,
  validatePatches,
} from "./listings";
import type { FeedDocumentRec, FeedRec, IssueRec, ListingRec, PatchOperation } from "./model";
import type { AmazonSandbox } from "./sandbox";
import { invalidInput, isReply, listParam, marketplaces, type SpContext } from "./sp-util";

export const SUPPORTED_FEED_TYPES = ["JSON_LISTINGS_FEED"];
const OPERATION_TYPES = ["UPDATE", "PARTIAL_UPDATE", "PATCH", "DELETE"];

/** Signs pre-signed document URLs; one per process. */
const URL_SECRET = randomBytes(32);

// --- pre-signed URLs ---------------------------------------------------------------------------

function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

function sign(method: string, documentId: string, date: string, expires: string): string {
  return createHmac("sha256", URL_SECRET)
    .update(`${method}\n${documentId}\n${date}\n${expires}`)
    .digest("hex");
}

export function presignedUrl(
  sb: AmazonSandbox,
  baseUrl: string,
  method: "GET" | "PUT",
  documentId: string,
): string {
  const date = amzDate(new Date());
  const expires = String(sb.behaviour.documentUrlTtlSeconds);
  const params = new URLSearchParams({
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Date": date,
    "X-Amz-SignedHeaders": method === "PUT" ? "content-type;host" : "host",
    "X-Amz-Expires": expires,
    "X-Amz-Signature": sign(method, documentId, date, expires),
  });
  return `${baseUrl}/feed-documents/${encodeURIComponent(documentId)}?${params.toString()}`;
}

function s3Error(status: number, code: string, message: string): Reply {
  return {
    status,
    contentType: "application/xml",
    raw: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${randomBytes(8).toString("hex").toUpperCase()}</RequestId></Error>`,
  };
}

/** `GET|PUT /feed-documents/{id}?X-Amz-…`: the S3-like store behind the pre-signed URLs. */
export function handleDocument(
  sb: AmazonSandbox,
  method: string,
  documentId: string,
  query: URLSearchParams,
  contentType: string | undefined,
  body: Buffer,
): Reply {
  const doc = sb.documents.get(documentId);
  if (!doc) return s3Error(404, "NoSuchKey", "The specified key does not exist.");
  if (method !== "GET" && method !== "PUT") {
    return s3Error(
      405,
      "MethodNotAllowed",
      "The specified method is not allowed against this resource.",
    );
  }
  const date = query.get("X-Amz-Date") ?? "";
  const expires = query.get("X-Amz-Expires") ?? "";
  const given = Buffer.from(query.get("X-Amz-Signature") ?? "", "hex");
  const expected = Buffer.from(sign(method, documentId, date, expires), "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return s3Error(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    );
  }
  const signedAt = Date.parse(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  if (!(Date.now() <= signedAt + Number(expires) * 1000)) {
    return s3Error(403, "AccessDenied", "Request has expired");
  }
  if (method === "GET") {
    if (!doc.content) return s3Error(404, "NoSuchKey", "The specified key does not exist.");
    return {
      status: 200,
      raw: doc.content,
      contentType: doc.compressionAlgorithm === "GZIP" ? "application/x-gzip" : doc.contentType,
    };
  }
  if (doc.kind !== "input") return s3Error(403, "AccessDenied", "Access Denied");
  const normalize = (t: string | undefined): string => (t ?? "").toLowerCase().replace(/\s+/g, "");
  if (normalize(contentType) !== normalize(doc.contentType)) {
    // The URL was signed for the createFeedDocument contentType.
    return s3Error(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    );
  }
  doc.content = body;
  doc.uploadedAt = new Date();
  return { status: 200, headers: { ETag: `"${createHash("md5").update(body).digest("hex")}"` } };
}

// --- handlers ----------------------------------------------------------------------------------

function bodyObject(ctx: SpContext): Record<string, unknown> | null {
  const parsed = parseJson(ctx.body.toString("utf8"));
  if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null) return null;
  return Array.isArray(parsed.value) ? null : (parsed.value as Record<string, unknown>);
}

export function createFeedDocument(ctx: SpContext): Reply {
  const body = bodyObject(ctx);
  if (!body || typeof body.contentType !== "string" || body.contentType === "") {
    return invalidInput("Invalid input", "contentType is required.");
  }
  const doc: FeedDocumentRec = {
    feedDocumentId: ctx.sb.random.uuid(),
    sellerId: ctx.sellerId ?? "",
    kind: "input",
    contentType: body.contentType,
    createdAt: new Date(),
    uploadedAt: null,
    content: null,
    compressionAlgorithm: null,
  };
  ctx.sb.documents.set(doc.feedDocumentId, doc);
  return json(201, {
    feedDocumentId: doc.feedDocumentId,
    url: presignedUrl(ctx.sb, ctx.baseUrl, "PUT", doc.feedDocumentId),
  });
}

export function getFeedDocument(ctx: SpContext): Reply {
  const doc = ctx.sb.documents.get(ctx.params[0] ?? "");
  if (!doc || doc.sellerId !== ctx.sellerId) {
    return json(404, spErrors("NotFound", "The requested feed document was not found."));
  }
  return json(200, {
    feedDocumentId: doc.feedDocumentId,
    url: presignedUrl(ctx.sb, ctx.baseUrl, "GET", doc.feedDocumentId),
    ...(doc.compressionAlgorithm ? { compressionAlgorithm: doc.compressionAlgorithm } : {}),
  });
}

export function feedPayload(feed: FeedRec): Record<string, unknown> {
  return {
    feedId: feed.feedId,
    feedType: feed.feedType,
    marketplaceIds: feed.marketplaceIds,
    createdTime: feed.createdTime.toISOString(),
    processingStatus: feed.processingStatus,
    ...(feed.processingStartTime
      ? { processingStartTime: feed.processingStartTime.toISOString() }
      : {}),
    ...(feed.processingEndTime ? { processingEndTime: feed.processingEndTime.toISOString() } : {}),
    ...(feed.resultFeedDocumentId ? { resultFeedDocumentId: feed.resultFeedDocumentId } : {}),
  };
}

export function feedSnapshot(feed: FeedRec) {
  return {
    ...feedPayload(feed),
    sellerId: feed.sellerId,
    inputFeedDocumentId: feed.inputFeedDocumentId,
    report: feed.report,
  };
}

export function createFeed(ctx: SpContext): Reply {
  const body = bodyObject(ctx);
  if (!body) return invalidInput("Invalid input");
  const { feedType, marketplaceIds, inputFeedDocumentId, feedOptions } = body;
  if (typeof feedType !== "string" || typeof inputFeedDocumentId !== "string") {
    return invalidInput("Invalid input");
  }
  if (!SUPPORTED_FEED_TYPES.includes(feedType)) {
    return invalidInput(
      "Invalid input",
      `Feed type ${feedType} is not supported by the local sandbox.`,
    );
  }
  if (
    !Array.isArray(marketplaceIds) ||
    marketplaceIds.length < 1 ||
    marketplaceIds.length > 25 ||
    marketplaceIds.some((m) => typeof m !== "string")
  ) {
    return invalidInput("Invalid input", "marketplaceIds must list 1 to 25 marketplaces.");
  }
  const seller = ctx.sb.sellers.get(ctx.sellerId ?? "");
  const unknown = (marketplaceIds as string[]).filter((m) => !seller?.marketplaceIds.includes(m));
  if (unknown.length > 0)
    return invalidInput("Invalid input", `Invalid marketplaceIds: ${unknown.join(", ")}.`);
  const doc = ctx.sb.documents.get(inputFeedDocumentId);
  if (!doc || doc.sellerId !== ctx.sellerId || doc.kind !== "input") {
    return invalidInput("Invalid input", "Invalid inputFeedDocumentId.");
  }
  const feed: FeedRec = {
    feedId: ids.feedId(ctx.sb.random),
    sellerId: ctx.sellerId ?? "",
    feedType,
    marketplaceIds: marketplaceIds as string[],
    inputFeedDocumentId,
    feedOptions: (feedOptions as Record<string, string> | undefined) ?? null,
    createdTime: new Date(),
    processingStatus: "IN_QUEUE",
    processingStartTime: null,
    processingEndTime: null,
    resultFeedDocumentId: null,
    report: null,
    cancelTimers: [],
  };
  ctx.sb.feeds.set(feed.feedId, feed);
  startProcessing(ctx.sb, feed);
  return json(202, { feedId: feed.feedId });
}

function ownFeed(ctx: SpContext): FeedRec | Reply {
  const feed = ctx.sb.feeds.get(ctx.params[0] ?? "");
  if (!feed || feed.sellerId !== ctx.sellerId) {
    return json(404, spErrors("NotFound", "The requested feed was not found."));
  }
  return feed;
}

export function getFeed(ctx: SpContext): Reply {
  const feed = ownFeed(ctx);
  if (isReply(feed)) return feed;
  return json(200, feedPayload(feed));
}

export function cancelFeed(ctx: SpContext): Reply {
  const feed = ownFeed(ctx);
  if (isReply(feed)) return feed;
  if (feed.processingStatus !== "IN_QUEUE") {
    return invalidInput(
      "Invalid input",
      `Only IN_QUEUE feeds can be cancelled; this one is ${feed.processingStatus}.`,
    );
  }
  for (const cancel of feed.cancelTimers) cancel();
  feed.processingStatus = "CANCELLED";
  feed.processingEndTime = new Date();
  return { status: 200 };
}

export function getFeeds(ctx: SpContext): Reply {
  const nextToken = ctx.query.get("nextToken");
  let filter: {
    types: string[] | null;
    statuses: string[] | null;
    marketplaces: string[] | null;
    since: number;
    until: number;
    size: number;
    offset: number;
  };
  if (nextToken) {
    try {
      filter = JSON.parse(Buffer.from(nextToken, "base64url").toString("utf8")) as typeof filter;
    } catch {
      return invalidInput("Invalid input", "Invalid nextToken.");
    }
  } else {
    const types = listParam(ctx.query, "feedTypes");
    if (!types || types.length < 1 || types.length > 10) {
      return invalidInput("Invalid input", "feedTypes or nextToken is required.");
    }
    const size = Number(ctx.query.get("pageSize") ?? "10");
    if (!Number.isInteger(size) || size < 1 || size > 100) {
      return invalidInput("Invalid input", "pageSize must be between 1 and 100.");
    }
    let marketplaceFilter: string[] | null = null;
    if (ctx.query.has("marketplaceIds")) {
      const m = marketplaces(ctx);
      if (isReply(m)) return m;
      marketplaceFilter = m;
    }
    const since = Date.parse(ctx.query.get("createdSince") ?? "") || Date.now() - 90 * 86_400_000;
    const until = Date.parse(ctx.query.get("createdUntil") ?? "") || Date.now();
    filter = {
      types,
      statuses: listParam(ctx.query, "processingStatuses"),
      marketplaces: marketplaceFilter,
      since,
      until,
      size,
      offset: 0,
    };
  }
  const matches = [...ctx.sb.feeds.values()]
    .filter((f) => f.sellerId === ctx.sellerId)
    .filter((f) => !filter.types || filter.types.includes(f.feedType))
    .filter((f) => !filter.statuses || filter.statuses.includes(f.processingStatus))
    .filter(
      (f) => !filter.marketplaces || f.marketplaceIds.some((m) => filter.marketplaces?.includes(m)),
    )
    .filter(
      (f) => f.createdTime.getTime() >= filter.since && f.createdTime.getTime() <= filter.until,
    )
    .sort((a, b) => b.createdTime.getTime() - a.createdTime.getTime());
  const page = matches.slice(filter.offset, filter.offset + filter.size);
  const out: Record<string, unknown> = { feeds: page.map(feedPayload) };
  if (filter.offset + filter.size < matches.length) {
    out.nextToken = Buffer.from(
      JSON.stringify({ ...filter, offset: filter.offset + filter.size }),
    ).toString("base64url");
  }
  return json(200, out);
}

// --- processing --------------------------------------------------------------------------------

function startProcessing(sb: AmazonSandbox, feed: FeedRec): void {
  const queued = sb.scaledBetween(sb.behaviour.feedQueueMs);
  feed.cancelTimers.push(
    sb.scheduler.after(queued, () => {
      if (feed.processingStatus !== "IN_QUEUE") return;
      feed.processingStatus = "IN_PROGRESS";
      feed.processingStartTime = new Date();
      feed.cancelTimers = [];
      sb.scheduler.after(sb.scaledBetween(sb.behaviour.feedProcessingMs), () => finish(sb, feed));
    }),
  );
}

type ReportIssue = {
  messageId?: number;
  sku?: string;
  code: string;
  severity: "ERROR" | "WARNING" | "INFO";
  message: string;
  attributeName?: string;
};

function finish(sb: AmazonSandbox, feed: FeedRec): void {
  const doc = sb.documents.get(feed.inputFeedDocumentId);
  const issues: ReportIssue[] = [];
  let status: "DONE" | "FATAL" = "DONE";
  let processed = 0;
  let accepted = 0;
  let invalid = 0;
  let headerEcho: Record<string, unknown> = {};
  const acceptedListings: ListingRec[] = [];
  let content: unknown = null;
  if (doc?.content) {
    let raw = doc.content;
    if (raw[0] === 0x1f && raw[1] === 0x8b) {
      try {
        raw = gunzipSync(raw);
      } catch {
        raw = Buffer.alloc(0);
      }
    }
    const parsed = parseJson(raw.toString("utf8"));
    content = parsed.ok ? parsed.value : null;
  }
  const feedDoc = content as { header?: Record<string, unknown>; messages?: unknown } | null;
  if (!feedDoc || typeof feedDoc !== "object" || Array.isArray(feedDoc)) {
    status = "FATAL";
    issues.push({ code: "4002001", severity: "ERROR", message: "Item 'Feed' cannot be parsed." });
  } else {
    const header = feedDoc.header;
    const report = header?.report as { includedData?: string[] } | undefined;
    if (report) headerEcho = { report };
    if (!header || typeof header.sellerId !== "string" || header.sellerId === "") {
      issues.push({
        code: "4002005",
        severity: "ERROR",
        message: "Attribute 'Merchant' is required, but not present.",
      });
    } else if (header.sellerId !== feed.sellerId) {
      issues.push({
        code: "4002005",
        severity: "ERROR",
        message: `The sellerId '${header.sellerId}' in the feed header is not the seller who submitted the feed.`,
      });
    } else if (header.version !== "2.0") {
      issues.push({ code: "4002001", severity: "ERROR", message: "Item 'Feed' cannot be parsed." });
    } else if (
      !Array.isArray(feedDoc.messages) ||
      feedDoc.messages.length < 1 ||
      feedDoc.messages.length > 25_000
    ) {
      issues.push({ code: "4002001", severity: "ERROR", message: "Item 'Feed' cannot be parsed." });
    } else {
      const seen = new Set<number>();
      for (const raw of feedDoc.messages as unknown[]) {
        processed += 1;
        const result = processMessage(sb, feed, raw, seen);
        issues.push(...result.issues);
        if (result.accepted) {
          accepted += 1;
          if (result.listing) acceptedListings.push(result.listing);
        } else {
          invalid += 1;
        }
      }
    }
  }
  const included = (headerEcho.report as { includedData?: string[] } | undefined)?.includedData;
  const items =
    included && Array.isArray(included)
      ? acceptedListings.map((l) =>
          itemPayload(
            l,
            included.filter((i) => (INCLUDED_DATA as readonly string[]).includes(i)),
          ),
        )
      : null;
  const reportBody: Record<string, unknown> = {
    header: { sellerId: feed.sellerId, version: "2.0", feedId: feed.feedId, ...headerEcho },
    issues,
    summary: {
      errors: issues.filter((i) => i.severity === "ERROR").length,
      warnings: issues.filter((i) => i.severity === "WARNING").length,
      messagesProcessed: processed,
      messagesAccepted: accepted,
      messagesInvalid: invalid,
      ...(items ? { itemSummary: { items: items.length, errors: 0, warnings: 0 } } : {}),
    },
    ...(items ? { items } : {}),
  };
  const text = JSON.stringify(reportBody);
  const gzip = sb.behaviour.gzipReports;
  const result: FeedDocumentRec = {
    feedDocumentId: sb.random.uuid(),
    sellerId: feed.sellerId,
    kind: "result",
    contentType: "application/json",
    createdAt: new Date(),
    uploadedAt: new Date(),
    content: gzip ? gzipSync(text) : Buffer.from(text, "utf8"),
    compressionAlgorithm: gzip ? "GZIP" : null,
  };
  sb.documents.set(result.feedDocumentId, result);
  feed.report = reportBody;
  feed.processingStatus = status;
  feed.processingEndTime = new Date();
  feed.resultFeedDocumentId = result.feedDocumentId;
}

function processMessage(
  sb: AmazonSandbox,
  feed: FeedRec,
  raw: unknown,
  seen: Set<number>,
): { accepted: boolean; issues: ReportIssue[]; listing: ListingRec | null } {
  const bad = (
    messageId?: number,
    sku?: string,
  ): { accepted: false; issues: ReportIssue[]; listing: null } => ({
    accepted: false,
    listing: null,
    issues: [
      {
        ...(messageId === undefined ? {} : { messageId }),
        ...(sku === undefined ? {} : { sku }),
        code: "BAD_REQUEST",
        severity: "ERROR",
        message: "Invalid parameters provided.",
      },
    ],
  });
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return bad();
  const message = raw as Record<string, unknown>;
  const messageId = message.messageId;
  if (
    typeof messageId !== "number" ||
    !Number.isInteger(messageId) ||
    messageId < 1 ||
    seen.has(messageId)
  ) {
    return bad();
  }
  seen.add(messageId);
  const sku = message.sku;
  if (typeof sku !== "string" || sku === "") return bad(messageId);
  const op = message.operationType;
  if (typeof op !== "string" || !OPERATION_TYPES.includes(op)) return bad(messageId, sku);
  const seller = sb.sellers.get(feed.sellerId);
  let listing = seller?.listings.get(sku) ?? null;
  if (listing && !feed.marketplaceIds.includes(listing.marketplaceId)) listing = null;
  let patches: PatchOperation[];
  const productType = typeof message.productType === "string" ? message.productType : null;
  if (op === "DELETE") {
    if (
      message.attributes !== undefined ||
      message.patches !== undefined ||
      message.productType !== undefined
    ) {
      return bad(messageId, sku);
    }
    if (!listing) return withIssues(messageId, sku, validatePatches(sb, null, sku, []));
    const submission = submit(sb, {
      sellerId: feed.sellerId,
      sku,
      productType: null,
      patches: [],
      source: "JSON_LISTINGS_FEED",
      feedId: feed.feedId,
      messageId,
      issues: [],
    });
    if (submission.applyAt) {
      sb.scheduler.after(submission.applyAt.getTime() - Date.now(), () =>
        seller?.listings.delete(sku),
      );
    }
    return { accepted: true, issues: [], listing: null };
  }
  if (op === "PATCH") {
    if (message.attributes !== undefined) return bad(messageId, sku);
    const request = parsePatchBody({ productType: message.productType, patches: message.patches });
    if (isReply(request)) return bad(messageId, sku);
    patches = request.patches;
  } else {
    if (message.patches !== undefined || !productType) return bad(messageId, sku);
    const attributes = message.attributes;
    if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes)) {
      return bad(messageId, sku);
    }
    const entries = Object.entries(attributes as Record<string, unknown>);
    if (entries.length === 0 || entries.some(([, v]) => !Array.isArray(v)))
      return bad(messageId, sku);
    patches = entries.map(([name, value]) => ({
      op: "replace",
      path: `/attributes/${name}`,
      value: value as unknown[],
    }));
    if (op === "UPDATE" && !listing && seller) {
      listing = createListing(sb, seller, {
        sku,
        productType,
        marketplaceId: feed.marketplaceIds[0],
      });
    }
  }
  const issues = validatePatches(sb, listing, sku, patches);
  if (issues.some((i) => i.code === "99022")) return bad(messageId, sku);
  if (issues.some((i) => i.severity === "ERROR")) return withIssues(messageId, sku, issues);
  submit(sb, {
    sellerId: feed.sellerId,
    sku,
    productType,
    patches,
    source: "JSON_LISTINGS_FEED",
    feedId: feed.feedId,
    messageId,
    issues: [],
  });
  return { accepted: true, issues: [], listing };
}

function withIssues(
  messageId: number,
  sku: string,
  issues: IssueRec[],
): { accepted: false; issues: ReportIssue[]; listing: null } {
  return {
    accepted: false,
    listing: null,
    issues: issues.map((i) => ({
      messageId,
      sku,
      code: i.code,
      severity: i.severity,
      message: i.message,
      ...(i.attributeNames?.[0] ? { attributeName: i.attributeNames[0] } : {}),
    })),
  };
}

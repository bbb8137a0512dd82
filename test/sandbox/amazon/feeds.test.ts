/**
 * Feeds API over HTTP: document upload to the pre-signed URL, the feed lifecycle
 * (IN_QUEUE → IN_PROGRESS → DONE/FATAL), the processing report and the quantities it applies.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { MARKETPLACE, SELLER, seed, sellerToken, sp } from "./fixtures";
import { startLocalAmazon } from "./server";

const local = await startLocalAmazon({
  seed: seed(),
  timeScale: 0.001,
  rngSeed: 3,
  behaviour: { feedQueueMs: [100_000, 100_000], feedProcessingMs: [150_000, 150_000] },
});
afterAll(() => local.close());
const sb = local.sandbox;

let token: string;
beforeEach(async () => {
  sb.reset();
  token = await sellerToken(local);
});

const CONTENT_TYPE = "application/json; charset=UTF-8";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function upload(content: string, contentType = CONTENT_TYPE) {
  const created = await sp<{ feedDocumentId: string; url: string }>(
    local,
    token,
    "POST",
    "/feeds/2021-06-30/documents",
    { contentType: CONTENT_TYPE },
  );
  expect(created.status).toBe(201);
  const put = await fetch(created.body.url, {
    method: "PUT",
    headers: { "Content-Type": contentType },
    body: content,
  });
  return { id: created.body.feedDocumentId, url: created.body.url, put };
}

type Feed = { feedId: string; processingStatus: string; resultFeedDocumentId?: string };

const feedBody = {
  header: { sellerId: SELLER, version: "2.0", issueLocale: "en_US" },
  messages: [
    {
      messageId: 1,
      sku: "MUG-BLUE",
      operationType: "PATCH",
      productType: "DRINKING_CUP",
      patches: [
        {
          op: "replace",
          path: "/attributes/fulfillment_availability",
          value: [{ fulfillment_channel_code: "DEFAULT", quantity: 4 }],
        },
      ],
    },
    {
      messageId: 2,
      sku: "MUG-RED",
      operationType: "PATCH",
      productType: "DRINKING_CUP",
      patches: [
        {
          op: "merge",
          path: "/attributes/fulfillment_availability",
          value: [{ fulfillment_channel_code: "DEFAULT", quantity: 9 }],
        },
      ],
    },
    {
      messageId: 3,
      sku: "MUG-RED",
      operationType: "PATCH",
      productType: "DRINKING_CUP",
      patches: [
        { op: "replace", path: "/attributes/fulfillment_availability", value: [{ quantity: 1 }] },
      ],
    },
  ],
};

describe("JSON_LISTINGS_FEED", () => {
  it("runs IN_QUEUE → IN_PROGRESS → DONE and reports per message; accepted messages update quantities", async () => {
    const doc = await upload(JSON.stringify(feedBody));
    expect(doc.put.status).toBe(200);
    const created = await sp<{ feedId: string }>(local, token, "POST", "/feeds/2021-06-30/feeds", {
      feedType: "JSON_LISTINGS_FEED",
      marketplaceIds: [MARKETPLACE],
      inputFeedDocumentId: doc.id,
    });
    expect(created.status).toBe(202);
    expect(created.headers.get("x-amzn-ratelimit-limit")).toBe("0.0083");
    const feedPath = `/feeds/2021-06-30/feeds/${created.body.feedId}`;
    const statuses: string[] = [];
    let feed: Feed | undefined;
    for (let i = 0; i < 40; i++) {
      const answer = await sp<Feed>(local, token, "GET", feedPath);
      expect(answer.status).toBe(200);
      feed = answer.body;
      if (statuses.at(-1) !== feed.processingStatus) statuses.push(feed.processingStatus);
      if (feed.processingStatus === "DONE" || feed.processingStatus === "FATAL") break;
      await sleep(25);
    }
    expect(statuses).toEqual(["IN_QUEUE", "IN_PROGRESS", "DONE"]);
    expect(feed).toMatchObject({ feedType: "JSON_LISTINGS_FEED", marketplaceIds: [MARKETPLACE] });

    const document = await sp<{
      feedDocumentId: string;
      url: string;
      compressionAlgorithm?: string;
    }>(local, token, "GET", `/feeds/2021-06-30/documents/${feed?.resultFeedDocumentId ?? ""}`);
    expect(document.status).toBe(200);
    expect(document.body.compressionAlgorithm).toBeUndefined();
    const report = (await (await fetch(document.body.url)).json()) as Record<string, unknown>;
    expect(report).toEqual({
      header: { sellerId: SELLER, version: "2.0", feedId: created.body.feedId },
      issues: [
        {
          messageId: 3,
          sku: "MUG-RED",
          code: "BAD_REQUEST",
          severity: "ERROR",
          message: "Invalid parameters provided.",
        },
      ],
      summary: {
        errors: 1,
        warnings: 0,
        messagesProcessed: 3,
        messagesAccepted: 2,
        messagesInvalid: 1,
      },
    });

    expect(await sb.waitForIdle(5_000)).toBe(true);
    expect(sb.listing(SELLER, "MUG-BLUE").mfnQuantity).toBe(4);
    expect(sb.listing(SELLER, "MUG-RED").mfnQuantity).toBe(9);
    expect(sb.submissionLog({ sku: "MUG-BLUE" })[0]).toMatchObject({
      source: "JSON_LISTINGS_FEED",
      feedId: created.body.feedId,
      messageId: 1,
    });
  });

  it("ends FATAL with a report when the document cannot be parsed", async () => {
    const doc = await upload("this is not JSON");
    const created = await sp<{ feedId: string }>(local, token, "POST", "/feeds/2021-06-30/feeds", {
      feedType: "JSON_LISTINGS_FEED",
      marketplaceIds: [MARKETPLACE],
      inputFeedDocumentId: doc.id,
    });
    expect(await sb.waitForIdle(5_000)).toBe(true);
    const feed = await sp<Feed>(
      local,
      token,
      "GET",
      `/feeds/2021-06-30/feeds/${created.body.feedId}`,
    );
    expect(feed.body.processingStatus).toBe("FATAL");
    const document = await sp<{ url: string }>(
      local,
      token,
      "GET",
      `/feeds/2021-06-30/documents/${feed.body.resultFeedDocumentId ?? ""}`,
    );
    const report = (await (await fetch(document.body.url)).json()) as { issues: unknown[] };
    expect(report.issues).toEqual([
      { code: "4002001", severity: "ERROR", message: "Item 'Feed' cannot be parsed." },
    ]);
  });

  it("guards the pre-signed URL: content type, expiry, and unknown inputs to createFeed", async () => {
    const wrongType = await upload("{}", "text/plain");
    expect(wrongType.put.status).toBe(403);
    expect(await wrongType.put.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
    const tampered = await fetch(
      wrongType.url.replace(/X-Amz-Signature=[0-9a-f]+/, "X-Amz-Signature=00"),
      {
        method: "PUT",
        headers: { "Content-Type": CONTENT_TYPE },
        body: "{}",
      },
    );
    expect(tampered.status).toBe(403);

    sb.configure({ behaviour: { documentUrlTtlSeconds: 0 } });
    await sleep(5);
    const expired = await upload("{}");
    await sleep(5);
    expect(expired.put.status).toBe(403);
    expect(await expired.put.text()).toContain("Request has expired");

    const badFeed = await sp(local, token, "POST", "/feeds/2021-06-30/feeds", {
      feedType: "JSON_LISTINGS_FEED",
      marketplaceIds: [MARKETPLACE],
      inputFeedDocumentId: "nope",
    });
    expect(badFeed.status).toBe(400);
    expect(badFeed.body).toMatchObject({ errors: [{ code: "InvalidInput" }] });
  });

  it("cancels a feed still IN_QUEUE", async () => {
    const doc = await upload(JSON.stringify(feedBody));
    const created = await sp<{ feedId: string }>(local, token, "POST", "/feeds/2021-06-30/feeds", {
      feedType: "JSON_LISTINGS_FEED",
      marketplaceIds: [MARKETPLACE],
      inputFeedDocumentId: doc.id,
    });
    const cancel = await sp(
      local,
      token,
      "DELETE",
      `/feeds/2021-06-30/feeds/${created.body.feedId}`,
    );
    expect(cancel.status).toBe(200);
    expect(await sb.waitForIdle(5_000)).toBe(true);
    const feed = await sp<Feed>(
      local,
      token,
      "GET",
      `/feeds/2021-06-30/feeds/${created.body.feedId}`,
    );
    expect(feed.body.processingStatus).toBe("CANCELLED");
    expect(sb.listing(SELLER, "MUG-BLUE").mfnQuantity).toBe(10);
    const list = await sp<{ feeds: Feed[] }>(
      local,
      token,
      "GET",
      "/feeds/2021-06-30/feeds?feedTypes=JSON_LISTINGS_FEED",
    );
    expect(list.body.feeds.map((f) => f.processingStatus)).toEqual(["CANCELLED"]);
  });
});

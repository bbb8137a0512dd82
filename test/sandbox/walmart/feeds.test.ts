/** Bulk inventory feeds: upload, asynchronous processing, per-SKU status, the hourly limit. */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { NODE_A, NODE_B, PID, multipart, seedSeller, waitFor } from "./fixtures";
import { startLocalWalmart } from "./server";

// 30 minutes of processing → ~720 ms (±20 %); the hourly feed window → 1.4 s.
const TIME_SCALE = 0.0004;
const local = await startLocalWalmart({
  rngSeed: 3,
  timeScale: TIME_SCALE,
  seed: { sellers: [seedSeller()] },
});
afterAll(() => local.close());
const sb = local.sandbox;
let token = "";

beforeEach(async () => {
  sb.reset();
  sb.timeScale = TIME_SCALE;
  token = await local.token(PID);
});

async function upload(
  content: string,
  query = "feedType=inventory",
  filename = "inventory.json",
  type = "application/json",
) {
  const { body, contentType } = multipart(content, filename, type);
  const response = await fetch(`${local.url}/v3/feeds?${query}`, {
    method: "POST",
    headers: {
      "WM_SEC.ACCESS_TOKEN": token,
      "WM_QOS.CORRELATION_ID": crypto.randomUUID(),
      "WM_SVC.NAME": "Walmart Marketplace",
      Accept: "application/json",
      "Content-Type": contentType,
    },
    body,
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

const feed14 = (records: unknown[]) =>
  JSON.stringify({ InventoryHeader: { version: "1.4" }, Inventory: records });
const rec = (sku: string, amount: unknown) => ({ sku, quantity: { unit: "EACH", amount } });

type FeedStatus = {
  feedId: string;
  feedStatus: string;
  itemsReceived: number;
  itemsSucceeded: number;
  itemsFailed: number;
  itemsProcessing: number;
  ingestionErrors: { ingestionError: { type: string; code: string; description: string }[] } | null;
  itemDetails: {
    itemIngestionStatus: {
      sku: string;
      index: number;
      ingestionStatus: string;
      wpid?: string;
      ingestionErrors: { ingestionError: { type: string; code: string }[] } | null;
    }[];
  };
};

const status = async (feedId: string, query = "includeDetails=true") =>
  (await local.call(PID, "GET", `/v3/feeds/${encodeURIComponent(feedId)}?${query}`, { token }))
    .body as FeedStatus;

describe("POST /v3/feeds?feedType=inventory", () => {
  it("goes RECEIVED → INPROGRESS → PROCESSED and applies the quantities with per-SKU details", async () => {
    const res = await upload(
      feed14([rec("MUG-BLUE", 4), rec("NOPE-1", 2), rec("MUG-RED", -3), rec("TEE-S", 0)]),
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ feedId: expect.stringMatching(/^[0-9A-F]{32}@A[\w-]{6}$/) });
    expect(res.headers.get("x-current-token-count")).toBe("9");
    const feedId = res.body.feedId as string;

    const received = await status(feedId);
    expect(received).toMatchObject({
      feedStatus: "RECEIVED",
      itemsReceived: 0,
      itemDetails: { itemIngestionStatus: [] },
    });
    expect(sb.item(PID, "MUG-BLUE").availToSellQty).toBe(10);

    await waitFor(
      () => sb.seller(PID).feeds.get(feedId)?.status === "INPROGRESS",
      2000,
      "INPROGRESS",
    );
    const inProgress = await status(feedId);
    expect(inProgress).toMatchObject({
      feedStatus: "INPROGRESS",
      itemsReceived: 4,
      itemsProcessing: 4,
    });
    expect(inProgress.itemDetails.itemIngestionStatus.map((i) => i.ingestionStatus)).toEqual([
      "INPROGRESS",
      "INPROGRESS",
      "INPROGRESS",
      "INPROGRESS",
    ]);
    expect(sb.item(PID, "MUG-BLUE").availToSellQty).toBe(10);

    expect(await sb.waitForFeeds(3000)).toBe(true);
    const done = await status(feedId);
    expect(done).toMatchObject({
      feedId,
      feedStatus: "PROCESSED",
      itemsReceived: 4,
      itemsSucceeded: 2,
      itemsFailed: 2,
      itemsProcessing: 0,
      ingestionErrors: null,
    });
    expect(
      done.itemDetails.itemIngestionStatus.map((i) => [
        i.index,
        i.sku,
        i.ingestionStatus,
        i.ingestionErrors?.ingestionError[0]?.code ?? null,
      ]),
    ).toEqual([
      [0, "MUG-BLUE", "SUCCESS", null],
      [1, "NOPE-1", "DATA_ERROR", "ITEM_NOT_FOUND"],
      [2, "MUG-RED", "DATA_ERROR", "INVALID_QUANTITY"],
      [3, "TEE-S", "SUCCESS", null],
    ]);
    expect(done.itemDetails.itemIngestionStatus[0]?.wpid).toBe(sb.item(PID, "MUG-BLUE").wpid);
    expect(sb.item(PID, "MUG-BLUE").availToSellQty).toBe(4);
    expect(sb.item(PID, "MUG-RED").availToSellQty).toBe(3);
    expect(sb.item(PID, "TEE-S").nodes.map((n) => n.inputQty)).toEqual([0, 4]); // default node only
    expect(sb.inventoryWriteLog().map((w) => [w.sku, w.inputQty, w.source, w.feedId])).toEqual([
      ["MUG-BLUE", 4, "feed", feedId],
      ["TEE-S", 0, "feed", feedId],
    ]);
    const paged = await status(feedId, "includeDetails=true&offset=1&limit=2");
    expect(paged.itemDetails.itemIngestionStatus.map((i) => i.sku)).toEqual(["NOPE-1", "MUG-RED"]);
    expect((await status(feedId, "includeDetails=false")).itemDetails.itemIngestionStatus).toEqual(
      [],
    );
  });

  it("fails an unreadable file as a whole (feed status ERROR, nothing applied)", async () => {
    const bad = await upload("{ not json");
    const noList = await upload(JSON.stringify({ InventoryHeader: { version: "1.4" } }));
    expect(bad.status).toBe(200);
    expect(await sb.waitForFeeds(3000)).toBe(true);
    for (const feedId of [bad.body.feedId, noList.body.feedId] as string[]) {
      const s = await status(feedId);
      expect(s).toMatchObject({ feedStatus: "ERROR", itemsReceived: 0, itemsSucceeded: 0 });
      expect(s.ingestionErrors?.ingestionError[0]).toMatchObject({ type: "DATA_ERROR" });
    }
    expect(sb.inventoryWriteLog()).toEqual([]);
  });

  it("reads XML (spec 1.4) with shipNode, and multi-node JSON (spec 1.5, MP_INVENTORY)", async () => {
    const xml = `<InventoryFeed xmlns="http://walmart.com/"><InventoryHeader><version>1.4</version></InventoryHeader>
      <inventory><sku>TEE-S</sku><quantity><unit>EACH</unit><amount>11</amount></quantity></inventory>
      <inventory><sku>MUG-RED</sku><quantity><unit>EACH</unit><amount>2</amount></quantity></inventory></InventoryFeed>`;
    const x = await upload(
      xml,
      `feedType=inventory&shipNode=${NODE_B}`,
      "inventory.xml",
      "application/xml",
    );
    const multi = await upload(
      JSON.stringify({
        inventoryHeader: { version: "1.5" },
        inventory: [
          {
            sku: "MUG-BLUE",
            shipNodes: [
              { shipNode: NODE_A, quantity: { unit: "EACH", amount: 1 } },
              { shipNode: NODE_B, quantity: { unit: "EACH", amount: 5 } },
            ],
          },
          {
            sku: "MUG-RED",
            shipNodes: [{ shipNode: "777", quantity: { unit: "EACH", amount: 5 } }],
          },
        ],
      }),
      "feedType=MP_INVENTORY",
    );
    expect(x.status).toBe(200);
    expect(multi.status).toBe(200);
    sb.completeFeeds(PID);
    expect(sb.item(PID, "TEE-S").nodes.map((n) => n.inputQty)).toEqual([1, 11]);
    expect(sb.item(PID, "MUG-BLUE").nodes.map((n) => n.inputQty)).toEqual([1, 5]);
    const m = await status(multi.body.feedId as string);
    expect(m.itemDetails.itemIngestionStatus.map((i) => [i.sku, i.ingestionStatus])).toEqual([
      ["MUG-BLUE", "SUCCESS"],
      ["MUG-RED", "DATA_ERROR"],
    ]);
    const list = await local.call(PID, "GET", "/v3/feeds", { token });
    const feeds = (
      list.body as { totalResults: number; results: { feed: Record<string, unknown>[] } }
    ).results.feed;
    expect((list.body as { totalResults: number }).totalResults).toBe(2);
    expect(feeds.map((f) => [f.feedType, f.feedStatus, f.itemsSucceeded, f.itemsFailed])).toEqual([
      ["MP_INVENTORY", "PROCESSED", 1, 1],
      ["inventory", "PROCESSED", 2, 0],
    ]);
    expect(feeds[1]).toMatchObject({
      feedSource: "SELLER",
      partnerId: PID,
      fileName: "inventory.xml",
      feedDate: expect.any(Number),
    });
  });

  it("needs multipart/form-data with a file part and a supported feedType", async () => {
    const raw = await local.call(PID, "POST", "/v3/feeds?feedType=inventory", {
      token,
      body: feed14([rec("MUG-BLUE", 1)]),
    });
    expect(raw.status).toBe(415);
    expect(raw.body).toMatchObject({ error: [{ code: "UNSUPPORTED_MEDIA_TYPE.GMP_GATEWAY_API" }] });
    const noType = await upload(feed14([rec("MUG-BLUE", 1)]), "");
    expect(noType.body).toMatchObject({
      error: [{ code: "MISSING_REQUEST_PARAM.GMP_FEED_API", field: "feedType" }],
    });
    const unknown = await local.call(PID, "GET", "/v3/feeds/ABC%40AAAAAAA", { token });
    expect(unknown.status).toBe(404);
    expect(sb.feedList(PID)).toEqual([]);
  });
});

describe("feed throttling", () => {
  it("accepts 10 inventory feeds per hour; the 11th gets 429 with Retry-After", async () => {
    sb.timeScale = 0.1; // the hour lasts 6 min: one new feed every 36 s
    const results: { status: number; tokens: string | null }[] = [];
    for (let i = 0; i < 11; i++) {
      const res = await upload(feed14([rec("MUG-BLUE", i)]));
      results.push({ status: res.status, tokens: res.headers.get("x-current-token-count") });
      if (i === 10) {
        expect(res.body).toMatchObject({
          error: [{ code: "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API" }],
        });
        const retryAfter = Number(res.headers.get("retry-after"));
        expect(retryAfter).toBeGreaterThanOrEqual(30);
        expect(retryAfter).toBeLessThanOrEqual(36);
        expect(Number(res.headers.get("x-next-replenish-time")) - Date.now()).toBeGreaterThan(
          29_000,
        );
      }
    }
    expect(results.map((r) => r.status)).toEqual([...Array(10).fill(200), 429]);
    expect(results.map((r) => r.tokens)).toEqual([
      "9",
      "8",
      "7",
      "6",
      "5",
      "4",
      "3",
      "2",
      "1",
      "0",
      "0",
    ]);
    expect(sb.feedList(PID)).toHaveLength(10);
    expect(sb.throttledCount).toBe(1);
  });
});

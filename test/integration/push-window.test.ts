import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionContext } from "../../app/channels/channel-adapter";
import { adapterFor } from "../../app/channels/registry.server";
import { env } from "../../app/env.server";
import { enqueuePush, openPushWindow } from "../../app/queues/jobs.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { pushConnection } from "../../app/services/push/push-connection.server";
import { connectSalesStore, installSource, startLocalStores } from "../helpers/local-stores";
import type { LocalShopify } from "../sandbox/shopify/server";

/**
 * The push's coalescing window (PUSH_COALESCE_MS) opens when a push starts: a change while it is
 * open waits for its end, the first change after a quiet window is pushed at once (it used to
 * wait a whole window for changes that were not coming — 100–200 ms of every quiet sale's
 * latency). Real Redis (this file's queue prefix) and a real push against the local Shopify.
 */
const push = new Queue("push", {
  connection: { url: env().REDIS_URL },
  prefix: env().QUEUE_PREFIX,
});
let local: LocalShopify;
let other: ConnectionContext;

beforeAll(async () => {
  const SOURCE = "window-source.myshopify.com";
  const OTHER = "window-other.myshopify.com";
  local = await startLocalStores(
    [SOURCE, OTHER].map((domain) => ({
      domain,
      products: [{ title: "Tee", variants: [{ sku: "TEE", inventory: { Warehouse: 4 } }] }],
    })),
  );
  const { shopId } = await installSource(SOURCE, "token-0");
  other = await connectSalesStore(shopId, OTHER, "token-1");
  await importCatalog(other, adapterFor("shopify"));
});
afterAll(async () => {
  await push.close();
  await local?.close();
});

/** The coalesced push job of a connection: its state and the delay it was added with. */
async function pushJob(connectionId: string) {
  const jobs = (await push.getJobs(["delayed", "waiting", "prioritized"])).filter(
    (j) => (j.data as { connectionId: string }).connectionId === connectionId,
  );
  expect(jobs).toHaveLength(1);
  return { state: await jobs[0]!.getState(), delay: jobs[0]!.opts.delay ?? 0 };
}

describe("the push's coalescing window", () => {
  it("pushes the first change after a quiet window at once", async () => {
    const connectionId = randomUUID();
    await enqueuePush(connectionId);
    await enqueuePush(connectionId); // the same job: it reads the state when it runs
    expect(await pushJob(connectionId)).toEqual({ state: "waiting", delay: 0 });
  });

  it("holds changes inside an open window until it ends, in one job", async () => {
    const connectionId = randomUUID();
    const window = env().PUSH_COALESCE_MS;
    expect(window).toBeGreaterThan(0);
    await openPushWindow(connectionId);
    await enqueuePush(connectionId);
    await enqueuePush(connectionId);
    const job = await pushJob(connectionId);
    expect(job.state).toBe("delayed");
    expect(job.delay).toBeGreaterThan(0);
    expect(job.delay).toBeLessThanOrEqual(window);
    // An explicit delay (a push's follow-up round) is not held by the window.
    const followUp = randomUUID();
    await openPushWindow(followUp);
    await enqueuePush(followUp, 0);
    expect(await pushJob(followUp)).toEqual({ state: "waiting", delay: 0 });
  });

  it("is opened by a push of the connection", async () => {
    await pushConnection(other.id);
    await enqueuePush(other.id);
    const job = await pushJob(other.id);
    expect(job.state).toBe("delayed");
    expect(job.delay).toBeGreaterThan(0);
    // Once the window has passed, a change goes at once again.
    await (await push.getJobs(["delayed"])).find((j) => j.data.connectionId === other.id)!.remove();
    await new Promise((r) => setTimeout(r, env().PUSH_COALESCE_MS + 20));
    await enqueuePush(other.id);
    expect(await pushJob(other.id)).toEqual({ state: "waiting", delay: 0 });
  });
});

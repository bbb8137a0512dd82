import { randomUUID } from "node:crypto";
import { Queue, Worker } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { env } from "../../app/env.server";
import { enqueueDeferredPush } from "../../app/queues/jobs.server";

/**
 * Deferred push re-checks (`enqueueDeferredPush`): one job per connection and second, and a
 * second whose job has already run is passed over rather than swallowed (the listing it was
 * for would otherwise wait for the sweeper). Real Redis, this file's own queue prefix.
 */
const push = new Queue("push", {
  connection: { url: env().REDIS_URL },
  prefix: env().QUEUE_PREFIX,
});
afterAll(() => push.close());

const pending = async (connectionId: string) =>
  (await push.getJobs(["delayed", "waiting", "prioritized"]))
    .filter((j) => (j.data as { connectionId: string }).connectionId === connectionId)
    .map((j) => j.id)
    .sort();

describe("deferred push re-checks", () => {
  it("share a second while waiting, and are not lost once that second's job has run", async () => {
    const connectionId = randomUUID();
    const second = Math.ceil(Date.now() / 1000) + 3;
    const dueIn = (s: number) => s * 1000 - 500 - Date.now();

    await enqueueDeferredPush(connectionId, dueIn(second));
    await enqueueDeferredPush(connectionId, dueIn(second));
    expect(await pending(connectionId)).toEqual([`pushd-${connectionId}-${second}`]);

    // That job runs (now, for the test) and completes; BullMQ keeps it, and its id with it.
    const job = (await push.getJob(`pushd-${connectionId}-${second}`))!;
    await job.promote();
    const ran: string[] = [];
    const worker = new Worker(
      "push",
      async (j) => {
        ran.push(j.id!);
      },
      { connection: { url: env().REDIS_URL }, prefix: env().QUEUE_PREFIX },
    );
    for (let i = 0; i < 200 && !ran.includes(job.id!); i++)
      await new Promise((r) => setTimeout(r, 25));
    await worker.close();
    expect(await (await push.getJob(job.id!))!.getState()).toBe("completed");

    // A re-check due in that same second again (a push that defers once more): scheduled for
    // the next second instead of being dropped as a duplicate id.
    await enqueueDeferredPush(connectionId, dueIn(second));
    expect(await pending(connectionId)).toEqual([`pushd-${connectionId}-${second + 1}`]);
  });
});

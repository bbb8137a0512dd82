import { describe, expect, it, vi } from "vitest";
import { closeProducers, producersReady, queueRedis } from "../../app/queues/queues.server";
import { sweepAfterRedisLoss } from "../../workers/main";

describe("queue producers during a Redis outage", () => {
  it("wait for a connection briefly, but fail at once when it has been down longer", async () => {
    await producersReady(5_000);
    const closed = new Promise((resolve) => queueRedis().once("end", resolve));
    queueRedis().disconnect(); // as a Redis restart leaves it until it reconnects
    await closed;
    // A blip is waited for (up to the timeout since the connection was lost)…
    const blip = Date.now();
    await expect(producersReady(300)).rejects.toThrow("Redis not ready");
    expect(Date.now() - blip).toBeGreaterThanOrEqual(200);
    // …an outage longer than that fails at once (without this, the whole 10 s: a connection
    // closed by hand never comes back).
    const started = Date.now();
    await expect(producersReady(250)).rejects.toThrow("Redis not ready");
    expect(Date.now() - started).toBeLessThan(200);
    await closeProducers();
    await producersReady(5_000); // a new process's producers connect as before
    expect(queueRedis().status).toBe("ready");
    await closeProducers();
  });
});

describe("the sweep after Redis came back", () => {
  it("is tried again until the producers' connection is back", async () => {
    const run = vi
      .fn<() => Promise<unknown>>()
      .mockRejectedValueOnce(new Error("Redis not ready"))
      .mockRejectedValueOnce(new Error("Redis not ready"))
      .mockResolvedValue({ receipts: 3 });
    expect(await sweepAfterRedisLoss(run, 1)).toBe(true);
    expect(run).toHaveBeenCalledTimes(3);
  });

  it("gives up after its window and leaves the rest to the regular sweeper", async () => {
    const run = vi.fn<() => Promise<unknown>>().mockRejectedValue(new Error("Redis not ready"));
    expect(await sweepAfterRedisLoss(run, 0)).toBe(false);
    expect(run).toHaveBeenCalledTimes(60);
  });
});

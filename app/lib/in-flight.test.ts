import { describe, expect, it } from "vitest";
import { inFlightSettled, settledWithin, trackInFlight } from "./in-flight.server";

describe("in-flight background work", () => {
  it("waits for tracked work, failed or not, and no longer than the timeout", async () => {
    await inFlightSettled(10); // nothing tracked: at once
    const done: string[] = [];
    const later = (ms: number, name: string, fail = false) =>
      new Promise<void>((resolve, reject) =>
        setTimeout(() => {
          done.push(name);
          if (fail) reject(new Error(name));
          else resolve();
        }, ms),
      );
    trackInFlight(later(20, "a"));
    trackInFlight(later(40, "b", true).catch(() => undefined));
    await inFlightSettled(5_000);
    expect(done).toEqual(["a", "b"]);

    trackInFlight(later(300, "slow"));
    const started = Date.now();
    await inFlightSettled(30);
    expect(Date.now() - started).toBeLessThan(250);
    expect(done).not.toContain("slow");
    await inFlightSettled(5_000);
    expect(done).toContain("slow");
  });

  it("settles one piece of work within a bound, whether it fails or never ends", async () => {
    await expect(settledWithin(Promise.reject(new Error("x")), 1_000)).resolves.toBeUndefined();
    const started = Date.now();
    await settledWithin(new Promise(() => undefined), 30);
    expect(Date.now() - started).toBeLessThan(250);
    let done = false;
    await settledWithin(
      new Promise<void>((resolve) =>
        setTimeout(() => {
          done = true;
          resolve();
        }, 20),
      ),
      5_000,
    );
    expect(done).toBe(true);
  });
});

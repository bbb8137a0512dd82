import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Admission } from "./admission";

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("Admission", () => {
  it("runs at most `limit` tasks at once and starts the rest in arrival order", async () => {
    const gate = new Admission(2);
    const started: number[] = [];
    const gates = [0, 1, 2, 3, 4].map(() => deferred());
    const runs = gates.map((g, i) =>
      gate.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    for (const run of runs) run.catch(() => undefined);
    await tick();
    expect(started).toEqual([0, 1]);
    expect(gate.active).toBe(2);
    expect(gate.waiting).toBe(3);
    gates[1]!.resolve();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.reject(new Error("failed"));
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    gates[2]!.resolve();
    gates[3]!.resolve();
    gates[4]!.resolve();
    const results = await Promise.allSettled(runs);
    expect(results.map((r) => r.status)).toEqual([
      "rejected",
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "fulfilled",
    ]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(gate.active).toBe(0);
    expect(gate.waiting).toBe(0);
  });

  it("never exceeds its limit, starts every task once, in order, and ends empty", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 40 }),
        async (limit, waits) => {
          const gate = new Admission(limit);
          let running = 0;
          let most = 0;
          const started: number[] = [];
          await Promise.all(
            waits.map((w, i) =>
              gate.run(async () => {
                started.push(i);
                running += 1;
                most = Math.max(most, running);
                for (let k = 0; k < w; k++) await tick();
                running -= 1;
              }),
            ),
          );
          expect(most).toBeLessThanOrEqual(limit);
          expect(started).toEqual(waits.map((_, i) => i));
          expect(gate.active).toBe(0);
          expect(gate.waiting).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("starts urgent tasks first, until a waiting normal one has been passed over for maxBypassMs", async () => {
    let clock = 0;
    const gate = new Admission(1, { maxBypassMs: 100, now: () => clock });
    const started: string[] = [];
    const release = new Map<string, () => void>();
    const task = (name: string, urgent: boolean) =>
      gate.run(async () => {
        started.push(name);
        await new Promise<void>((resolve) => release.set(name, resolve));
      }, urgent);
    const runs = [task("first", false)];
    await tick();
    runs.push(task("level-1", false), task("order-1", true), task("order-2", true));
    clock = 50;
    runs.push(task("level-2", false), task("order-3", true));
    await tick();
    release.get("first")!();
    await tick();
    // Nothing has waited 100 ms: urgent first.
    expect(started).toEqual(["first", "order-1"]);
    clock = 120;
    release.get("order-1")!();
    await tick();
    // level-1 has waited 120 ms: it goes before order-2; level-2 (70 ms) does not.
    expect(started).toEqual(["first", "order-1", "level-1"]);
    release.get("level-1")!();
    await tick();
    release.get("order-2")!();
    await tick();
    expect(started).toEqual(["first", "order-1", "level-1", "order-2", "order-3"]);
    clock = 200;
    release.get("order-3")!();
    await tick();
    release.get("level-2")!();
    await Promise.all(runs);
    expect(started).toEqual(["first", "order-1", "level-1", "order-2", "order-3", "level-2"]);
    expect(gate.active).toBe(0);
    expect(gate.waiting).toBe(0);
  });

  it("refuses a limit that is not a positive integer", () => {
    expect(() => new Admission(0)).toThrow(RangeError);
    expect(() => new Admission(1.5)).toThrow(RangeError);
  });
});

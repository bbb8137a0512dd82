/** Tests of late-echo recognition (echoes.ts): our own writes delivered late are never sales. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isLateEcho, rememberWrites, RECENT_WRITES_KEPT, unordered } from "./echoes";

const t0 = new Date("2026-12-01T12:00:00.000Z").getTime();
const at = (ms: number) => new Date(t0 + ms);

describe("late echoes", () => {
  it("every write remembered in the window is recognised when it comes back, in any order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ q: fc.nat(20), dt: fc.integer({ min: 1, max: 900 }) }), {
          minLength: 1,
          maxLength: RECENT_WRITES_KEPT,
        }),
        fc.nat(RECENT_WRITES_KEPT - 1),
        (writes, pick) => {
          let remembered = rememberWrites([], [], at(0));
          let time = 0;
          const times: number[] = [];
          for (const w of writes) {
            time += w.dt;
            times.push(time);
            remembered = rememberWrites(remembered, [w.q], at(time));
          }
          const i = pick % writes.length;
          // Its echo: stamped to the second, so up to 1 s before the write's own time.
          const echo = { quantity: writes[i]!.q, at: at(Math.floor(times[i]! / 1000) * 1000) };
          expect(isLateEcho(echo, remembered, 2_000)).toBe(true);
        },
      ),
    );
  });

  it("a quantity never written, or written long before the update, is not an echo", () => {
    const writes = rememberWrites([], [5, 3], at(10_000));
    expect(isLateEcho({ quantity: 4, at: at(10_000) }, writes, 2_000)).toBe(false);
    expect(isLateEcho({ quantity: 5, at: at(13_000) }, writes, 2_000)).toBe(false);
    expect(isLateEcho({ quantity: 5, at: at(10_000), precise: true }, writes, 0)).toBe(false);
  });

  it("keeps one entry per quantity, the newest, and forgets writes older than the window", () => {
    let writes = rememberWrites([], [1, 2], at(0));
    writes = rememberWrites(writes, [2], at(5_000));
    expect(writes).toEqual([
      { q: 1, at: at(0).toISOString() },
      { q: 2, at: at(5_000).toISOString() },
    ]);
    expect(rememberWrites(writes, [7], at(40_000))).toEqual([
      { q: 7, at: at(40_000).toISOString() },
    ]);
  });

  it("an update stamped within the slack after our last write cannot be ordered against it", () => {
    expect(unordered({ at: at(1_000) }, at(2_500), 2_000)).toBe(true);
    expect(unordered({ at: at(4_000) }, at(2_500), 2_000)).toBe(true);
    expect(unordered({ at: at(4_600) }, at(2_500), 2_000)).toBe(false);
    expect(unordered({ at: at(1_000), precise: true }, at(2_500), 0)).toBe(false);
    expect(unordered({ at: at(1_000) }, null, 2_000)).toBe(false);
  });
});

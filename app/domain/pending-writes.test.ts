import { describe, expect, test } from "vitest";
import { pendingPeaks } from "./pending-writes";

const HOUR = 3_600_000;
const t0 = new Date("2026-11-26T10:00:00.000Z");
const at = (ms: number) => new Date(t0.getTime() + ms);
const hours = [at(0), at(HOUR), at(2 * HOUR)];

describe("pendingPeaks", () => {
  test("the most waiting at once in each hour, not the sum of what waited", () => {
    const { peaks, waitingAtEnd } = pendingPeaks(
      [
        // Two overlap in the first hour, a third starts after both were written.
        { at: at(1_000), delta: 1 },
        { at: at(2_000), delta: 1 },
        { at: at(3_000), delta: -1 },
        { at: at(4_000), delta: -1 },
        { at: at(5_000), delta: 1 },
        { at: at(6_000), delta: -1 },
      ],
      hours,
      HOUR,
    );
    expect(peaks).toEqual([2, 0, 0]);
    expect(waitingAtEnd).toBe(0);
  });

  test("a backlog that lasts shows in every hour it lasts, and at the end", () => {
    const { peaks, waitingAtEnd } = pendingPeaks(
      [
        { at: at(-10_000), delta: 3 }, // already waiting before the first hour
        { at: at(HOUR + 10), delta: -2 },
        { at: at(2 * HOUR + 10), delta: 4 },
      ],
      hours,
      HOUR,
    );
    expect(peaks).toEqual([3, 3, 5]);
    expect(waitingAtEnd).toBe(5);
  });

  test("simultaneous start and end net out; nothing is ever below 0", () => {
    const { peaks } = pendingPeaks(
      [
        { at: at(10), delta: 0 },
        { at: at(20), delta: -1 },
      ],
      hours,
      HOUR,
    );
    expect(peaks).toEqual([0, 0, 0]);
  });
});

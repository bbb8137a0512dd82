/**
 * Writes waiting over time, from the moments they started and stopped waiting: the most that
 * waited at once in each time bucket, and how many wait at the end. A change is +n (n writes
 * started waiting at that moment) or −n (n were written); a bucket's peak counts what was
 * already waiting when it began, so a backlog that lasts hours shows in every one of them.
 */
export type PendingChange = { at: Date; delta: number };

export function pendingPeaks(
  changes: readonly PendingChange[],
  bucketStarts: readonly Date[],
  bucketMs: number,
): { peaks: number[]; waitingAtEnd: number } {
  const sorted = [...changes].sort((a, b) => a.at.getTime() - b.at.getTime());
  let level = 0;
  let next = 0;
  // Changes before the first bucket make the level it starts with.
  const first = bucketStarts[0]?.getTime() ?? Infinity;
  while (next < sorted.length && sorted[next]!.at.getTime() < first) {
    level += sorted[next]!.delta;
    next++;
  }
  const peaks = bucketStarts.map((start) => {
    const end = start.getTime() + bucketMs;
    let peak = Math.max(0, level);
    while (next < sorted.length && sorted[next]!.at.getTime() < end) {
      level += sorted[next]!.delta;
      peak = Math.max(peak, level);
      next++;
    }
    return peak;
  });
  for (; next < sorted.length; next++) level += sorted[next]!.delta;
  return { peaks, waitingAtEnd: Math.max(0, level) };
}

/**
 * The push path's metrics, by channel: time from a listing's first unpushed change to the channel
 * showing it, listings written, failures by kind. Recorded by the sales and the source-store push.
 */
import { metrics } from "../../lib/metrics.server";

export const pushMetrics = {
  observeLatency(channel: string, dirtySince: Date | null, now: Date): void {
    if (dirtySince)
      metrics().pushLatencySeconds.observe(
        { channel },
        Math.max(0, (now.getTime() - dirtySince.getTime()) / 1000),
      );
  },
  writes(channel: string, n: number): void {
    metrics().channelWrites.inc({ channel }, n);
  },
  failure(channel: string, kind: string): void {
    metrics().failures.inc({ channel, kind });
  },
};

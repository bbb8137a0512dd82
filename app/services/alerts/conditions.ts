/**
 * The alert conditions a shop can turn on or off, with their labels. Not `*.server.ts`: the
 * incidents page's settings form needs them in the browser bundle too.
 */
export const ALERT_CONDITIONS = ["oversell", "channel_stale", "drift", "subscription"] as const;
export type AlertConditionName = (typeof ALERT_CONDITIONS)[number];

export const ALERT_CONDITION_LABEL: Record<AlertConditionName, string> = {
  oversell: "A confirmed oversell",
  channel_stale: "A channel not written for N minutes with pending changes",
  drift: "Drift found by reconcile",
  subscription: "A failing webhook subscription",
};

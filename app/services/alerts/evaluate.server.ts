/**
 * Alert conditions, evaluated by the sweeper: a confirmed oversell not yet resolved, a channel
 * not written for N minutes while it has pending changes, drift found by reconcile, a failing
 * webhook subscription. Each open condition is one alert row per (shop, condition, subject)
 * until it clears (no repeat storms); a shop that turned a condition off gets no alert for it.
 * New alerts are then delivered (`deliver.server.ts`).
 */
import * as alerts from "../../repositories/alerts.server";
import { deliverAlerts, type DeliveryOutcome } from "./deliver.server";

export type EvaluateOutcome = { opened: number; cleared: number } & DeliveryOutcome;

const SOURCES: Record<alerts.AlertCondition, () => Promise<alerts.ActiveCondition[]>> = {
  oversell: alerts.activeOversells,
  channel_stale: alerts.activeStaleChannels,
  drift: alerts.activeDrift,
  subscription: alerts.activeSubscriptionFailures,
};

export async function evaluateAlerts(now = new Date()): Promise<EvaluateOutcome> {
  let opened = 0;
  let cleared = 0;
  const enabled = new Map<string, string[] | null>();
  const conditionsOf = async (shopId: string) => {
    if (!enabled.has(shopId))
      enabled.set(shopId, (await alerts.alertSettings(shopId))?.conditions ?? null);
    return enabled.get(shopId) ?? alerts.DEFAULT_CONDITIONS;
  };
  for (const [condition, source] of Object.entries(SOURCES) as [
    alerts.AlertCondition,
    () => Promise<alerts.ActiveCondition[]>,
  ][]) {
    const active: alerts.ActiveCondition[] = [];
    for (const c of await source())
      if ((await conditionsOf(c.shopId)).includes(condition)) active.push(c);
    for (const c of active) if (await alerts.openAlert(c)) opened++;
    cleared += await alerts.clearAlerts(condition, active);
  }
  return { opened, cleared, ...(await deliverAlerts(now)) };
}

/**
 * Low stock across channels: finds items whose units left last no longer than
 * `LOW_STOCK_COVER_DAYS` at their sales rate of the last two weeks, starts one episode per drop
 * (a row in low_stock_state; a second worker finds it started) and fires the Flow trigger
 * "Stock ran low across channels" for it; ends the episode when the item is no longer low.
 * Run by the sweeper at most once a minute per process.
 */
import { lowStockTransitions } from "../domain/low-stock";
import { env } from "../env.server";
import { log } from "../logger.server";
import * as lowStock from "../repositories/low-stock.server";
import { recordStockRanLow } from "./flow/triggers.server";
import { OPENING_ORDER_ID } from "./ingest/read-source-levels.server";

export const LOW_STOCK_WINDOW_DAYS = 14;
const CHECK_EVERY_MS = 60_000;
let lastCheck = 0;

/** The sweeper's entry: at most once a minute in this process. */
export async function checkLowStockThrottled(now = new Date()): Promise<void> {
  if (now.getTime() - lastCheck < CHECK_EVERY_MS) return;
  lastCheck = now.getTime();
  await checkLowStock(now);
}

export async function checkLowStock(
  now = new Date(),
  coverDays = env().LOW_STOCK_COVER_DAYS,
): Promise<{ entered: number; cleared: number }> {
  if (coverDays <= 0) return { entered: 0, cleared: 0 };
  const since = new Date(now.getTime() - LOW_STOCK_WINDOW_DAYS * 86_400_000);
  const rows = await lowStock.lowStockCandidates(since, OPENING_ORDER_ID);
  const { entered, cleared } = lowStockTransitions(rows, {
    windowDays: LOW_STOCK_WINDOW_DAYS,
    coverDays,
  });
  let started = 0;
  for (const item of entered) {
    const row = rows.find((r) => r.itemId === item.itemId)!;
    const episode = now.toISOString();
    if (!(await lowStock.startLowStockEpisode({ itemId: row.itemId, shopId: row.shopId, episode })))
      continue;
    started++;
    await recordStockRanLow({
      shopId: row.shopId,
      itemId: row.itemId,
      sku: row.sku,
      availableToSell: Math.max(0, row.ats),
      daysOfCover: item.daysOfCover,
      episode,
    });
  }
  await lowStock.endLowStockEpisodes(cleared);
  if (started + cleared.length > 0)
    log({ entered: started, cleared: cleared.length }).info("low-stock episodes changed");
  return { entered: started, cleared: cleared.length };
}

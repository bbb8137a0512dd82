/** The admin banner: the shop's open alerts (newest first), for the layout route. */
import * as alerts from "../../repositories/alerts.server";
import { shopByDomain } from "../../repositories/shops.server";

export type BannerAlert = { id: string; condition: string; title: string; openedAt: string };

export async function openAlertsForBanner(shopDomain: string): Promise<BannerAlert[]> {
  const shop = await shopByDomain(shopDomain);
  if (!shop) return [];
  return (await alerts.openAlerts(shop.id, 5)).map((a) => ({
    id: a.id.toString(),
    condition: a.condition,
    title: a.title,
    openedAt: a.openedAt.toISOString(),
  }));
}

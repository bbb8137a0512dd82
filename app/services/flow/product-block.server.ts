/**
 * The data of the admin product block (extensions/stockguard-product-block): per variant of a
 * product, what StockGuard lets every channel sell, what each channel shows now and what
 * StockGuard publishes for it, the buffer rules in force there and their scope (why), the last
 * write, and the open incidents, with the item's page in the app. The product's variants come
 * from the store (Admin API), the rest from StockGuard's ledger.
 */
import { z } from "zod";
import { flowPort } from "../../channels/registry.server";
import { resolvePolicy, ruleSpecificity } from "../../domain/buffers";
import { itemAts } from "../../domain/availability";
import type { BufferKind, BufferRule } from "../../domain/types";
import * as connections from "../../repositories/connections.server";
import * as block from "../../repositories/flow-product-block.server";
import * as flow from "../../repositories/flow.server";
import * as shops from "../../repositories/shops.server";

export const ZProductStockQuery = z.object({
  product: z.string().regex(/^gid:\/\/shopify\/Product\/\d+$/, "must be a product GID"),
});

const SCOPES = [
  "every SKU on every channel",
  "this channel",
  "this SKU",
  "this SKU on this channel",
];

export type ChannelStock = {
  channel: string;
  kind: string;
  status: string;
  /** What StockGuard wants the channel to show (after its buffers). */
  publishes: number;
  /** What the channel last showed (null: not known yet). */
  shows: number | null;
  lastWrite: string | null;
  /** A change StockGuard has not written yet. */
  pending: boolean;
  buffers: { kind: BufferKind; value: number; scope: string }[];
};

export type VariantStock = {
  variantId: string;
  sku: string;
  title: string | null;
  availableToSell: number;
  openIncidents: number;
  appPath: string;
  channels: ChannelStock[];
};

export type ProductStock = {
  product: string;
  variants: VariantStock[];
  /** Variants of the product StockGuard does not track (no SKU, or not imported yet). */
  untracked: string[];
};

export class ProductStockError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function productStock(shopDomain: string, productGid: string): Promise<ProductStock> {
  const shop = await shops.shopByDomain(shopDomain);
  if (!shop || shop.status !== "active")
    throw new ProductStockError(404, "StockGuard is not installed on this store");
  const source = await flow.sourceConnectionOfShop(shop.id);
  const row = source ? await connections.loadConnection(source.connectionId) : null;
  if (!row) throw new ProductStockError(404, "the store is not connected as a source");
  const variantIds = await flowPort().variantsOfProduct(connections.toContext(row), productGid);
  const items = await block.itemsOfSourceVariants(shop.id, variantIds);
  const itemIds = [...new Set(items.map((i) => i.itemId))];
  const [balances, listings, rules, incidents] = await Promise.all([
    block.itemBalances(itemIds),
    block.listingsOfItems(shop.id, itemIds),
    block.rulesForSkus(
      shop.id,
      items.map((i) => i.sku),
    ),
    block.openIncidentCounts(itemIds),
  ]);
  const variants = variantIds.flatMap((variantId): VariantStock[] => {
    const item = items.find((i) => i.variantRef === variantId);
    if (!item) return [];
    return [
      {
        variantId,
        sku: item.sku,
        title: item.title,
        availableToSell: itemAts(balances.filter((b) => b.itemId === item.itemId)),
        openIncidents: incidents.find((i) => i.itemId === item.itemId)?.open ?? 0,
        appPath: `/app/inventory/${item.itemId}`,
        channels: channelsOf(
          listings.filter((l) => l.itemId === item.itemId),
          rules,
        ),
      },
    ];
  });
  return {
    product: productGid,
    variants,
    untracked: variantIds.filter((id) => !items.some((i) => i.variantRef === id)),
  };
}

/** One row per channel (a source store with several locations is summed over them). */
function channelsOf(listings: block.BlockListing[], rules: BufferRule[]): ChannelStock[] {
  const byChannel = new Map<string, block.BlockListing[]>();
  for (const l of listings)
    byChannel.set(l.connectionId, [...(byChannel.get(l.connectionId) ?? []), l]);
  return [...byChannel.entries()].map(([connectionId, rows]) => {
    const first = rows[0]!;
    const writes = rows.map((r) => r.lastPushedAt?.getTime() ?? 0).filter((t) => t > 0);
    const shown = rows.every((r) => r.remote === null)
      ? null
      : rows.reduce((n, r) => n + (r.remote ?? 0), 0);
    const policy = resolvePolicy(rules, { connectionId, sku: first.sku ?? "" });
    const buffers = Object.entries(policy).map(([kind, chosen]) => {
      const rule = rules.find((r) => r.id === chosen.ruleId)!;
      return {
        kind: kind as BufferKind,
        value: chosen.value,
        scope: SCOPES[ruleSpecificity(rule)]!,
      };
    });
    return {
      channel: first.channel,
      kind: first.kind,
      status: first.connectionStatus,
      publishes: rows.reduce((n, r) => n + r.published, 0),
      shows: shown,
      lastWrite: writes.length > 0 ? new Date(Math.max(...writes)).toISOString() : null,
      pending: rows.some((r) => r.pending),
      buffers,
    };
  });
}

import { z } from "zod";
import { ShopifyAdminClient } from "../channels/shopify/client.server";
import { SHOP_INFO } from "../channels/shopify/operations";
import prisma from "../db.server";
import { env } from "../env.server";
import { db } from "../lib/sql.server";
import { enqueuePush, enqueueSafely } from "../queues/jobs.server";
import { loadConnection } from "../repositories/push.server";
import { importCatalog, type ImportSummary } from "./catalog/import-catalog.server";
import { sealCredentials, shopifyAdapter, toContext } from "./channels.server";
import { ZShopDomain } from "./shop-connect.server";

export const ZConnectChannel = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("shopify"),
    shop: ZShopDomain,
    store: ZShopDomain,
    token: z.string().trim().min(1, "token is required"),
    webhookSecret: z.string().trim().min(1).optional(),
    locationId: z
      .string()
      .regex(/^gid:\/\/shopify\/Location\/\d+$/, "must be a Location GID")
      .optional(),
    name: z.string().trim().min(1).max(100).optional(),
  }),
  z.object({ kind: z.enum(["amazon", "ebay", "walmart"]), shop: ZShopDomain }),
]);

/**
 * `channel:connect`: another store or a marketplace account sells the shop's stock. Shopify
 * stores connect with an Admin API token (checked first) and optionally the secret their webhooks
 * are signed with; the catalog is matched by SKU and the first push is queued.
 */
export async function connectChannel(
  input: z.input<typeof ZConnectChannel>,
): Promise<{ connectionId: string; import: ImportSummary }> {
  const data = ZConnectChannel.parse(input);
  if (data.kind !== "shopify") {
    throw new Error(
      `${data.kind} connections are not available yet: only Shopify stores can be connected in this version`,
    );
  }
  const shop = await prisma.shop.findUnique({ where: { domain: data.shop } });
  if (!shop || shop.status !== "active")
    throw new Error(`shop ${data.shop} is not installed (run shop:connect first)`);
  if (data.store === data.shop) throw new Error("a store cannot be a sales channel of itself");
  const client = new ShopifyAdminClient({
    shop: data.store,
    accessToken: data.token,
    origin: env().SHOPIFY_ADMIN_API_ORIGIN,
  });
  const { data: info } = await client.request<{ shop: { name: string } }>(SHOP_INFO);

  const credentials = sealCredentials({
    accessToken: data.token,
    ...(data.webhookSecret ? { webhookSecret: data.webhookSecret } : {}),
  });
  const connection = await prisma.connection.upsert({
    where: { shopId_kind_accountRef: { shopId: shop.id, kind: "shopify", accountRef: data.store } },
    create: {
      shopId: shop.id,
      kind: "shopify",
      role: "sales",
      name: data.name ?? info.shop.name,
      accountRef: data.store,
      credentials,
      settings: data.locationId ? { syncLocationId: data.locationId } : {},
    },
    update: {
      credentials,
      status: "active",
      statusReason: null,
      ...(data.name ? { name: data.name } : {}),
      ...(data.locationId ? { settings: { syncLocationId: data.locationId } } : {}),
    },
  });
  const row = await loadConnection(db(), connection.id);
  const summary = await importCatalog(toContext(row!), shopifyAdapter());
  await enqueueSafely("push", () => enqueuePush(connection.id, 0));
  return { connectionId: connection.id, import: summary };
}

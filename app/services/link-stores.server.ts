/**
 * Linking another Shopify store as a sales channel of a source shop, the normal way: the other
 * store installs StockGuard too; the source's admin shows a one-time link code (15 minutes,
 * single use, only its hash stored) which, entered in the other store's StockGuard admin, links
 * it. Its webhooks then come from `shopify.app.toml` like any installed store, and StockGuard
 * writes to it with that store's own offline session. `channel:connect --kind shopify --store B`
 * without `--token` links an installed store from the CLI.
 */
import { createHash, randomInt } from "node:crypto";
import { adapterFor } from "../channels/registry.server";
import { enqueuePush, enqueueSafely } from "../queues/jobs.server";
import * as connections from "../repositories/connections.server";
import * as linkCodes from "../repositories/link-codes.server";
import { offlineToken } from "../repositories/sessions.server";
import * as shops from "../repositories/shops.server";
import type { ImportSummary } from "./catalog/import-catalog.server";
import { importNow } from "./catalog/import-runs.server";
import { ZShopDomain } from "./shop-connect.server";

export class LinkError extends Error {}

const CODE_TTL_MS = 15 * 60_000;
/** No 0/O or 1/I: codes are read and typed by people. */
const ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

const hash = (code: string) =>
  createHash("sha256").update(code.replace(/[\s-]/g, "").toUpperCase()).digest("hex");

/** A fresh code for the source shop to show (formatted XXXX-XXXX). */
export async function createLinkCode(
  shopDomain: string,
): Promise<{ code: string; expiresAt: Date }> {
  const shop = await shops.shopDetails(shopDomain);
  if (!shop || shop.status !== "active") throw new LinkError(`shop ${shopDomain} is not installed`);
  if (shop.linkedToShopId)
    throw new LinkError(
      "this store is itself a sales channel of another store; create codes there",
    );
  const raw = Array.from({ length: 8 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
  const expiresAt = await linkCodes.createLinkCode({
    shopId: shop.id,
    codeHash: hash(raw),
    ttlMs: CODE_TTL_MS,
  });
  return { code: `${raw.slice(0, 4)}-${raw.slice(4)}`, expiresAt };
}

/** The other store enters the code in its own StockGuard admin. */
export async function linkWithCode(
  storeDomain: string,
  code: string,
): Promise<{ connectionId: string; sourceDomain: string; import: ImportSummary }> {
  if (!/^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}$/.test(code.trim()))
    throw new LinkError("a link code looks like ABCD-2345");
  const codeHash = hash(code.trim());
  const unknown = "this link code is unknown, already used or expired: create a new one";
  // Every refusal comes before the code is used: a refused link leaves the code valid.
  const issuer = await linkCodes.findLinkCode(codeHash);
  if (!issuer) throw new LinkError(unknown);
  await checkLink(issuer, storeDomain);
  const sourceShopId = await linkCodes.consumeLinkCode(codeHash, storeDomain);
  if (!sourceShopId) throw new LinkError(unknown);
  return link(sourceShopId, storeDomain);
}

/** The CLI's link: `channel:connect --shop S --kind shopify --store B` with no token. */
export async function linkInstalledStore(
  sourceDomain: string,
  storeDomain: string,
): Promise<{ connectionId: string; sourceDomain: string; import: ImportSummary }> {
  const source = await shops.shopDetails(ZShopDomain.parse(sourceDomain));
  if (!source || source.status !== "active")
    throw new LinkError(`shop ${sourceDomain} is not installed`);
  return link(source.id, ZShopDomain.parse(storeDomain));
}

/** Every reason the store cannot become the source's sales channel (nothing is changed). */
async function checkLink(sourceShopId: string, storeDomain: string) {
  const source = await shops.shopById(sourceShopId);
  if (!source || source.status !== "active")
    throw new LinkError("the store that issued this link code no longer has StockGuard installed");
  if (source.domain === storeDomain)
    throw new LinkError("a store cannot be a sales channel of itself");
  const store = await shops.shopDetails(storeDomain);
  if (!store || store.status !== "active" || !(await offlineToken(storeDomain)))
    throw new LinkError(`${storeDomain} has not installed StockGuard: install it there first`);
  if (store.linkedToShopId && store.linkedToShopId !== sourceShopId)
    throw new LinkError(`${storeDomain} is already a sales channel of another store`);
  const elsewhere = await connections.otherShopsConnection("shopify", storeDomain, sourceShopId);
  if (elsewhere) throw new LinkError(`${storeDomain} already sells for ${elsewhere.shopDomain}`);
  // A hub with channels of its own would leave them without a source.
  const own = (await connections.shopConnections(store.id)).filter(
    (c) => c.role === "sales" && c.status !== "disconnected",
  );
  if (own.length > 0)
    throw new LinkError(
      `${storeDomain} has sales channels of its own (${own.map((c) => c.name).join(", ")}): disconnect them before linking it to another store`,
    );
  return { source, store };
}

async function link(sourceShopId: string, storeDomain: string) {
  const { source, store } = await checkLink(sourceShopId, storeDomain);
  const adapter = adapterFor("shopify");
  const connection = await connections.upsertSalesConnection({
    shopId: sourceShopId,
    kind: "shopify",
    accountRef: storeDomain,
    name: storeDomain.replace(/\.myshopify\.com$/, ""),
    credentials: null,
  });
  await shops.markLinked(store.id, sourceShopId);
  adapter.forgetCredentials(connection.id);
  const summary = await importNow(connection.id, "link");
  await enqueueSafely("push", () => enqueuePush(connection.id, 0));
  return { connectionId: connection.id, sourceDomain: source.domain, import: summary };
}

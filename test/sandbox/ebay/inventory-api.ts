/**
 * Sell Inventory API v1 (`/sell/inventory/v1`, sell_inventory_v1_oas3.json v1.18.0):
 * getInventoryItems, getInventoryItem, createOrReplaceInventoryItem, getOffers, getOffer,
 * bulkUpdatePriceQuantity. User tokens only; reads need `sell.inventory` or
 * `sell.inventory.readonly`, writes `sell.inventory`.
 */
import { intParam, type ApiModule, type ApiRequest } from "./api";
import { ACCESS, ApiError, INVENTORY } from "./errors";
import type { EbayResult } from "./http";
import { SCOPES, type OfferRec } from "./model";
import { inventoryItemPayload, offerPayload } from "./payloads";

const READ = [SCOPES.inventory, SCOPES.inventoryReadonly];
const WRITE = [SCOPES.inventory];
const PREFIX = "/sell/inventory/v1";
const SKU_RE = /^[A-Za-z0-9._\- ]{1,50}$/;

const bad = (error: ReturnType<typeof INVENTORY.notFound>, status = 400) =>
  new ApiError(status, [error]);

function sellerId(req: ApiRequest): string {
  if (!req.seller) throw ACCESS.insufficientScope();
  return req.seller.userId;
}

function paging(req: ApiRequest, defaultLimit: number, maxLimit: number) {
  const limit =
    intParam(req.query, "limit", () => bad(INVENTORY.invalidField("limit"))) ?? defaultLimit;
  if (limit < 1 || limit > maxLimit)
    throw bad(INVENTORY.invalidField("limit", `The limit must be between 1 and ${maxLimit}.`));
  const offset = intParam(req.query, "offset", () => bad(INVENTORY.invalidField("offset"))) ?? 0;
  const pageMode = req.sb.settings.inventoryItemsOffset === "page";
  const start = pageMode ? offset * limit : offset;
  const nextOffset = pageMode ? offset + 1 : offset + limit;
  const prevOffset = pageMode ? offset - 1 : Math.max(0, offset - limit);
  return { limit, offset, start, nextOffset, prevOffset };
}

function pageLinks(
  base: string,
  extra: string,
  p: ReturnType<typeof paging>,
  total: number,
): { href: string; next?: string; prev?: string } {
  const url = (offset: number) => `${base}?${extra}offset=${offset}&limit=${p.limit}`;
  return {
    href: url(p.offset),
    ...(p.start + p.limit < total ? { next: url(p.nextOffset) } : {}),
    ...(p.offset > 0 ? { prev: url(p.prevOffset) } : {}),
  };
}

function getInventoryItems(req: ApiRequest): EbayResult {
  const items = req.sb.itemsOf(sellerId(req));
  const p = paging(req, 25, 200);
  const page = items.slice(p.start, p.start + p.limit);
  const total = items.length;
  return {
    status: 200,
    body: {
      ...pageLinks(`${req.baseUrl}${PREFIX}/inventory_item`, "", p, total),
      limit: p.limit,
      // InventoryItems.size: "the total number of pages of results that are available".
      size: Math.ceil(total / p.limit),
      total,
      inventoryItems: page.map(inventoryItemPayload),
    },
  };
}

function skuParam(raw: string | undefined): string {
  if (raw === undefined || !SKU_RE.test(raw)) throw bad(INVENTORY.invalidSku());
  return raw;
}

function getInventoryItem(req: ApiRequest): EbayResult {
  const sku = skuParam(req.params[0]);
  const item = req.sb.item(sellerId(req), sku);
  if (!item) throw bad(INVENTORY.notFound(), 404);
  return { status: 200, body: inventoryItemPayload(item) };
}

async function createOrReplaceInventoryItem(req: ApiRequest): Promise<EbayResult> {
  const sku = skuParam(req.params[0]);
  const language = req.headers["content-language"];
  if (typeof language !== "string" || !/^[a-z]{2}-[A-Z]{2}$/.test(language)) {
    throw bad(INVENTORY.invalidHeader("Content-Language"));
  }
  const body = await req.json();
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw ACCESS.invalidRequest();
  const availability = (
    body as { availability?: { shipToLocationAvailability?: { quantity?: unknown } } }
  ).availability;
  const quantity = availability?.shipToLocationAvailability?.quantity;
  if (
    quantity !== undefined &&
    (typeof quantity !== "number" || !Number.isInteger(quantity) || quantity < 0)
  ) {
    throw bad(INVENTORY.invalidField("availability.shipToLocationAvailability.quantity"));
  }
  const result = req.sb.createOrReplaceInventoryItem(
    sellerId(req),
    sku,
    language.replace("-", "_"),
    body as Record<string, unknown>,
  );
  if (result.errors.length > 0) return { status: 400, body: { errors: result.errors } };
  return { status: 204 };
}

function getOffers(req: ApiRequest): EbayResult {
  const sku = skuParam(req.query.get("sku") ?? undefined);
  const marketplace = req.query.get("marketplace_id");
  const format = req.query.get("format");
  const offers = req.sb
    .offersOf(sellerId(req), sku)
    .filter(
      (o) =>
        (marketplace === null || o.marketplaceId === marketplace) &&
        (format === null || o.format === format),
    );
  if (offers.length === 0) throw bad(INVENTORY.notFound(), 404);
  const p = paging(req, 100, 200);
  const page = offers.slice(p.start, p.start + p.limit);
  return {
    status: 200,
    body: {
      ...pageLinks(
        `${req.baseUrl}${PREFIX}/offer`,
        `sku=${encodeURIComponent(sku)}&`,
        p,
        offers.length,
      ),
      limit: p.limit,
      // Offers.size: "the number of offers being displayed on the current page".
      size: page.length,
      total: offers.length,
      offers: page.map((o: OfferRec) => offerPayload(o)),
    },
  };
}

function getOffer(req: ApiRequest): EbayResult {
  const offerId = req.params[0] ?? "";
  const offer = req.sb.offers.get(offerId);
  if (!offer || offer.sellerId !== sellerId(req))
    throw bad(INVENTORY.offerNotAvailable(offerId), 404);
  return { status: 200, body: offerPayload(offer) };
}

async function bulkUpdatePriceQuantity(req: ApiRequest): Promise<EbayResult> {
  const result = req.sb.bulkUpdatePriceQuantity(sellerId(req), await req.json());
  return { status: result.status, body: result.body };
}

export const inventoryApi: ApiModule = {
  name: "sell.inventory",
  prefix: PREFIX,
  invalidJson: () => ACCESS.invalidRequest(),
  routes: [
    {
      method: "GET",
      pattern: /^\/inventory_item$/,
      operation: "getInventoryItems",
      auth: "user",
      scopes: READ,
      handler: getInventoryItems,
    },
    {
      method: "GET",
      pattern: /^\/inventory_item\/([^/]+)$/,
      operation: "getInventoryItem",
      auth: "user",
      scopes: READ,
      handler: getInventoryItem,
    },
    {
      method: "PUT",
      pattern: /^\/inventory_item\/([^/]+)$/,
      operation: "createOrReplaceInventoryItem",
      auth: "user",
      scopes: WRITE,
      handler: createOrReplaceInventoryItem,
    },
    {
      method: "GET",
      pattern: /^\/offer$/,
      operation: "getOffers",
      auth: "user",
      scopes: READ,
      handler: getOffers,
    },
    {
      method: "GET",
      pattern: /^\/offer\/([^/]+)$/,
      operation: "getOffer",
      auth: "user",
      scopes: READ,
      handler: getOffer,
    },
    {
      method: "POST",
      pattern: /^\/bulk_update_price_quantity$/,
      operation: "bulkUpdatePriceQuantity",
      auth: "user",
      scopes: WRITE,
      handler: bulkUpdatePriceQuantity,
    },
  ],
};

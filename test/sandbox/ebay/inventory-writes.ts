/**
 * Quantity and price writes of the Sell Inventory API: createOrReplaceInventoryItem and
 * bulkUpdatePriceQuantity, with the 250-revisions-per-listing-per-calendar-day rule. A call that
 * changes a published offer (or the item behind it) revises that listing once; the 251st
 * revision of a listing on one calendar day is refused with nothing applied to that listing.
 */
import { INVENTORY, revisionLimitError, type EbayError } from "./errors";
import type { InventoryItemRec, OfferRec } from "./model";
import { itemKey, type EbaySandbox } from "./sandbox";

/** A bulkUpdatePriceQuantity answer: HTTP status and body. */
export type BulkResult = { status: number; body: unknown };

type PriceQuantityResponse = {
  offerId?: string;
  sku?: string;
  statusCode: number;
  errors?: EbayError[];
};

/**
 * Sell Inventory `createOrReplaceInventoryItem`: replaces the whole record. Published offers of
 * the SKU are revised with it (one revision per listing); refused when one is at its limit.
 */
export function createOrReplaceInventoryItem(
  sb: EbaySandbox,
  sellerId: string,
  sku: string,
  locale: string,
  body: Record<string, unknown>,
): { created: boolean; errors: EbayError[] } {
  const key = itemKey(sellerId, sku);
  const existing = sb.items.get(key);
  const offers = existing ? sb.publishedOffers(sellerId, sku) : [];
  const blocked = sb.blockedListing(offers);
  if (blocked) {
    for (const o of offers) {
      const q = sb.offerListingQuantity(o);
      sb.recordRevision(o, "createOrReplaceInventoryItem", q, q, true);
    }
    return {
      created: false,
      errors: [revisionLimitError(sb.settings.revisionLimit, blocked.listingId ?? "")],
    };
  }
  const before = new Map(offers.map((o) => [o.offerId, sb.offerListingQuantity(o)]));
  const now = sb.clock.iso();
  const { sku: _sku, locale: _locale, ...rest } = body;
  const rec: InventoryItemRec = {
    sellerId,
    sku,
    locale,
    body: structuredClone(rest),
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  sb.items.set(key, rec);
  for (const o of offers) {
    const after = sb.offerListingQuantity(o);
    const prev = before.get(o.offerId) ?? after;
    if (sb.settings.countNoopRevisions || prev !== after) {
      sb.recordRevision(o, "createOrReplaceInventoryItem", prev, after, false);
    }
    sb.refreshListingStatus(o);
  }
  return { created: !existing, errors: [] };
}

/**
 * Sell Inventory `bulkUpdatePriceQuantity` for one seller. Validates the whole call, then
 * answers per entry: `{sku, statusCode}` for the item quantity, `{offerId, sku, statusCode}`
 * per offer; HTTP 200 when every entry is 200, else 207.
 */
export function bulkUpdatePriceQuantity(
  sb: EbaySandbox,
  sellerId: string,
  input: unknown,
): BulkResult {
  const topError = (error: EbayError): BulkResult => ({ status: 400, body: { errors: [error] } });
  if (
    typeof input !== "object" ||
    input === null ||
    !Array.isArray((input as { requests?: unknown }).requests)
  ) {
    return topError(INVENTORY.invalidField("requests", "The requests array is required."));
  }
  const requests = (input as { requests: unknown[] }).requests;
  if (requests.length === 0)
    return topError(INVENTORY.invalidField("requests", "At least one request is required."));
  if (requests.length > sb.settings.bulkUpdateMaxRequests) {
    return topError(
      INVENTORY.userError(
        `Only ${sb.settings.bulkUpdateMaxRequests} SKU(s) can be updated per bulkUpdatePriceQuantity call; ${requests.length} were given.`,
      ),
    );
  }
  const responses: PriceQuantityResponse[] = [];
  for (const raw of requests) {
    responses.push(...priceQuantityRequest(sb, sellerId, raw));
  }
  const allOk = responses.every((r) => r.statusCode === 200);
  return { status: allOk ? 200 : 207, body: { responses } };
}

function priceQuantityRequest(
  sb: EbaySandbox,
  sellerId: string,
  raw: unknown,
): PriceQuantityResponse[] {
  const fail = (
    statusCode: number,
    error: EbayError,
    extra: Partial<PriceQuantityResponse> = {},
  ) => ({
    ...extra,
    statusCode,
    errors: [error],
  });
  if (typeof raw !== "object" || raw === null) {
    return [fail(400, INVENTORY.invalidField("requests", "Each request must be an object."))];
  }
  const request = raw as {
    sku?: unknown;
    shipToLocationAvailability?: { quantity?: unknown };
    offers?: unknown;
  };
  const offersInput = request.offers === undefined ? [] : request.offers;
  if (!Array.isArray(offersInput)) {
    return [fail(400, INVENTORY.invalidField("offers", "offers must be an array."))];
  }
  if (offersInput.length > sb.settings.bulkUpdateMaxOffers) {
    return [
      fail(
        400,
        INVENTORY.userError(
          `Up to ${sb.settings.bulkUpdateMaxOffers} offers of one inventory item can be updated per call.`,
        ),
        typeof request.sku === "string" ? { sku: request.sku } : {},
      ),
    ];
  }
  const hasItemUpdate = request.shipToLocationAvailability !== undefined;
  if (!hasItemUpdate && offersInput.length === 0) {
    return [
      fail(400, INVENTORY.userError("Either shipToLocationAvailability or offers is required.")),
    ];
  }
  let sku = typeof request.sku === "string" ? request.sku : undefined;
  if (hasItemUpdate && sku === undefined) {
    return [fail(400, INVENTORY.invalidSku())];
  }
  // Resolve offers; they must be distinct and all belong to one SKU.
  const out: PriceQuantityResponse[] = [];
  const seen = new Set<string>();
  type OfferUpdate = {
    offer: OfferRec;
    quantity?: number;
    price?: { value: string; currency: string };
  };
  const updates: OfferUpdate[] = [];
  for (const entry of offersInput) {
    const e = (typeof entry === "object" && entry !== null ? entry : {}) as {
      offerId?: unknown;
      availableQuantity?: unknown;
      price?: { value?: unknown; currency?: unknown };
    };
    const offerId = typeof e.offerId === "string" ? e.offerId : "";
    if (seen.has(offerId)) {
      out.push(
        fail(400, INVENTORY.userError(`Duplicate offerId ${offerId} in the offers container.`), {
          offerId,
        }),
      );
      continue;
    }
    seen.add(offerId);
    const offer = sb.offers.get(offerId);
    if (!offer || offer.sellerId !== sellerId) {
      out.push(fail(404, INVENTORY.offerNotAvailable(offerId), { offerId }));
      continue;
    }
    if (sku === undefined) sku = offer.sku;
    if (offer.sku !== sku) {
      out.push(
        fail(
          400,
          INVENTORY.userError(`Offer ${offerId} is associated with SKU ${offer.sku}, not ${sku}.`),
          { offerId, sku: offer.sku },
        ),
      );
      continue;
    }
    if (offer.status !== "PUBLISHED") {
      out.push(
        fail(
          400,
          INVENTORY.userError(
            `Offer ${offerId} is not published; use updateOffer for unpublished offers.`,
          ),
          { offerId, sku: offer.sku },
        ),
      );
      continue;
    }
    if (e.availableQuantity === undefined && e.price === undefined) {
      out.push(
        fail(400, INVENTORY.userError("Either availableQuantity or price is required."), {
          offerId,
          sku,
        }),
      );
      continue;
    }
    const update: OfferUpdate = { offer };
    if (e.availableQuantity !== undefined) {
      if (
        typeof e.availableQuantity !== "number" ||
        !Number.isInteger(e.availableQuantity) ||
        e.availableQuantity < 0
      ) {
        out.push(fail(400, INVENTORY.invalidField("availableQuantity"), { offerId, sku }));
        continue;
      }
      update.quantity = e.availableQuantity;
    }
    if (e.price !== undefined) {
      const value = e.price?.value;
      if (typeof value !== "string" || !/^\d+(\.\d{1,2})?$/.test(value) || Number(value) <= 0) {
        out.push(fail(400, INVENTORY.invalidField("price"), { offerId, sku }));
        continue;
      }
      update.price = {
        value,
        currency: typeof e.price.currency === "string" ? e.price.currency : offer.price.currency,
      };
    }
    updates.push(update);
  }
  let itemQuantityUpdate: number | undefined;
  let itemResponse: PriceQuantityResponse | undefined;
  const item = sku === undefined ? undefined : sb.item(sellerId, sku);
  if (hasItemUpdate) {
    const quantity = request.shipToLocationAvailability?.quantity;
    if (!item) {
      itemResponse = fail(404, INVENTORY.notFound(), { sku });
    } else if (typeof quantity !== "number" || !Number.isInteger(quantity) || quantity < 0) {
      itemResponse = fail(400, INVENTORY.invalidField("shipToLocationAvailability.quantity"), {
        sku,
      });
    } else {
      itemQuantityUpdate = quantity;
    }
  }
  // Revision limit: an item-level change revises every published listing of the SKU.
  const itemListings =
    item && itemQuantityUpdate !== undefined ? sb.publishedOffers(sellerId, item.sku) : [];
  if (itemQuantityUpdate !== undefined) {
    const blocked = sb.blockedListing(itemListings);
    if (blocked) {
      itemResponse = fail(
        400,
        revisionLimitError(sb.settings.revisionLimit, blocked.listingId ?? ""),
        { sku },
      );
      for (const o of itemListings) {
        const q = sb.offerListingQuantity(o);
        sb.recordRevision(o, "bulkUpdatePriceQuantity", q, q, true);
      }
      itemQuantityUpdate = undefined;
    }
  }
  const acceptedUpdates: OfferUpdate[] = [];
  const offerResponses: PriceQuantityResponse[] = [];
  for (const u of updates) {
    if (sb.blockedListing([u.offer])) {
      const q = sb.offerListingQuantity(u.offer);
      sb.recordRevision(u.offer, "bulkUpdatePriceQuantity", q, q, true);
      offerResponses.push(
        fail(400, revisionLimitError(sb.settings.revisionLimit, u.offer.listingId ?? ""), {
          offerId: u.offer.offerId,
          sku: u.offer.sku,
        }),
      );
    } else {
      acceptedUpdates.push(u);
      offerResponses.push({ offerId: u.offer.offerId, sku: u.offer.sku, statusCode: 200 });
    }
  }
  // Apply, then count one revision per touched listing.
  const touched = new Map<string, { offer: OfferRec; before: number; priceChanged: boolean }>();
  const touch = (offer: OfferRec, priceChanged = false) => {
    const current = touched.get(offer.offerId);
    if (current) current.priceChanged ||= priceChanged;
    else
      touched.set(offer.offerId, { offer, before: sb.offerListingQuantity(offer), priceChanged });
  };
  for (const o of itemQuantityUpdate !== undefined ? itemListings : []) touch(o);
  for (const u of acceptedUpdates) {
    touch(u.offer, u.price !== undefined && u.price.value !== u.offer.price.value);
  }
  if (item && itemQuantityUpdate !== undefined) {
    const availability = (item.body.availability ?? {}) as Record<string, unknown>;
    const shipTo = (availability.shipToLocationAvailability ?? {}) as Record<string, unknown>;
    item.body.availability = {
      ...availability,
      shipToLocationAvailability: { ...shipTo, quantity: itemQuantityUpdate },
    };
    item.updatedAt = sb.clock.iso();
    itemResponse = { sku: item.sku, statusCode: 200 };
  }
  for (const u of acceptedUpdates) {
    if (u.quantity !== undefined) u.offer.availableQuantity = u.quantity;
    if (u.price) u.offer.price = u.price;
  }
  for (const { offer, before, priceChanged } of touched.values()) {
    const after = sb.offerListingQuantity(offer);
    if (sb.settings.countNoopRevisions || before !== after || priceChanged) {
      sb.recordRevision(offer, "bulkUpdatePriceQuantity", before, after, false);
    }
    sb.refreshListingStatus(offer);
  }
  return [...(itemResponse ? [itemResponse] : []), ...offerResponses, ...out];
}

/**
 * Listings Items API 2021-08-01: getListingsItem, patchListingsItem (ACCEPTED now, applied after
 * a delay; VALIDATION_PREVIEW; INVALID with issues), putListingsItem, deleteListingsItem,
 * searchListingsItems (SKU/ASIN identifiers, pageToken paging). Also listing quantities: the live
 * `fulfillmentAvailability` (decremented by purchases) versus the submitted
 * `attributes.fulfillment_availability`, and the MFN quantity-change notifications.
 */
import { badRequest, notFound } from "../shopify/errors";
import { parseJson } from "../shopify/http-util";
import { json, spErrors, type Reply } from "./http";
import * as ids from "./ids";
import {
  MFN_CHANNEL,
  type IssueRec,
  type ListingRec,
  type PatchOperation,
  type SellerRec,
  type SubmissionRec,
} from "./model";
import { emitMfnQuantityChange } from "./notifications";
import type { AmazonSandbox, ListingSeed } from "./sandbox";
import {
  invalidInput,
  isReply,
  listParam,
  marketplaces,
  otherSeller,
  type SpContext,
} from "./sp-util";

export const INCLUDED_DATA = [
  "summaries",
  "attributes",
  "issues",
  "offers",
  "fulfillmentAvailability",
  "procurement",
  "relationships",
  "productTypes",
] as const;

const PATCH_OPS = ["add", "replace", "merge", "delete"];
const ATTRIBUTE_PATH = /^\/attributes\/([a-z][a-z0-9_]*)$/;

export function isFbaChannel(code: string): boolean {
  return code.startsWith("AMAZON_");
}

// --- records -----------------------------------------------------------------------------------

export function createListing(sb: AmazonSandbox, seller: SellerRec, seed: ListingSeed): ListingRec {
  if (typeof seed.sku !== "string" || seed.sku === "") throw badRequest("a listing needs a sku");
  if (seller.listings.has(seed.sku)) throw badRequest(`listing ${seed.sku} already exists`);
  const checkQty = (value: unknown, name: string): number | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw badRequest(`${name} must be an integer >= 0`);
    }
    return value;
  };
  const mfn = checkQty(seed.quantity, "quantity");
  const fba = checkQty(seed.fbaQuantity, "fbaQuantity");
  const marketplaceId = seed.marketplaceId ?? seller.marketplaceIds[0] ?? "ATVPDKIKX0DER";
  const createdAt = seed.createdAt ? new Date(seed.createdAt) : new Date();
  const fbaCode = seed.fbaChannelCode ?? "AMAZON_NA";
  const available: Record<string, number> = {};
  const fulfillment: Record<string, unknown>[] = [];
  if (mfn !== undefined || fba === undefined) {
    available[MFN_CHANNEL] = mfn ?? 0;
    fulfillment.push({
      fulfillment_channel_code: MFN_CHANNEL,
      quantity: mfn ?? 0,
      ...(seed.leadTimeToShipMaxDays === undefined
        ? {}
        : { lead_time_to_ship_max_days: seed.leadTimeToShipMaxDays }),
      marketplace_id: marketplaceId,
    });
  }
  if (fba !== undefined) {
    available[fbaCode] = fba;
    fulfillment.push({ fulfillment_channel_code: fbaCode, marketplace_id: marketplaceId });
  }
  const itemName = seed.itemName ?? `Sandbox item ${seed.sku}`;
  const conditionType = seed.conditionType ?? "new_new";
  const price = seed.price ?? "19.99";
  const currency = seed.currency ?? "USD";
  const listing: ListingRec = {
    sellerId: seller.sellerId,
    sku: seed.sku,
    asin: seed.asin ?? ids.asin(sb.random),
    productType: seed.productType ?? "PRODUCT",
    itemName,
    conditionType,
    marketplaceId,
    createdAt,
    updatedAt: createdAt,
    attributes: {
      item_name: [{ value: itemName, language_tag: "en_US", marketplace_id: marketplaceId }],
      condition_type: [{ value: conditionType, marketplace_id: marketplaceId }],
      purchasable_offer: [
        {
          marketplace_id: marketplaceId,
          currency,
          our_price: [{ schedule: [{ value_with_tax: Number(price) }] }],
        },
      ],
      fulfillment_availability: fulfillment,
    },
    available,
    price: { currencyCode: currency, amount: price },
    issues: structuredClone(seed.issues ?? []),
  };
  seller.listings.set(listing.sku, listing);
  return listing;
}

export function requireListing(sb: AmazonSandbox, sellerId: string, sku: string): ListingRec {
  const listing = sb.seller(sellerId).listings.get(sku);
  if (!listing) throw notFound(`listing ${sku}`);
  return listing;
}

export function mfnQuantity(listing: ListingRec): number | null {
  return listing.available[MFN_CHANNEL] ?? null;
}

/**
 * Sets a channel's live quantity (a seller-side or applied change): the submitted attribute value
 * follows for DEFAULT. Emits LISTINGS_ITEM_MFN_QUANTITY_CHANGE when the MFN quantity changed.
 */
export function setQuantity(
  sb: AmazonSandbox,
  listing: ListingRec,
  channel: string,
  quantity: number,
  touchAttributes: boolean,
): void {
  const before = listing.available[channel];
  listing.available[channel] = quantity;
  if (touchAttributes && !isFbaChannel(channel)) {
    const entries = listing.attributes.fulfillment_availability ?? [];
    const entry = entries.find((e) => e.fulfillment_channel_code === channel);
    if (entry) entry.quantity = quantity;
    else {
      entries.push({
        fulfillment_channel_code: channel,
        quantity,
        marketplace_id: listing.marketplaceId,
      });
    }
    listing.attributes.fulfillment_availability = entries;
  }
  listing.updatedAt = new Date();
  if (channel === MFN_CHANNEL && before !== quantity) emitMfnQuantityChange(sb, listing);
}

/** Buyer-side changes (orders reserve, cancellations give back): the live quantity only. */
export function adjustAvailable(
  sb: AmazonSandbox,
  listing: ListingRec,
  channel: string,
  delta: number,
): void {
  if (delta === 0) return;
  listing.available[channel] = (listing.available[channel] ?? 0) + delta;
  if (channel === MFN_CHANNEL) emitMfnQuantityChange(sb, listing);
}

export function listingSnapshot(sb: AmazonSandbox, listing: ListingRec) {
  return {
    sellerId: listing.sellerId,
    sku: listing.sku,
    asin: listing.asin,
    productType: listing.productType,
    itemName: listing.itemName,
    marketplaceId: listing.marketplaceId,
    mfnQuantity: mfnQuantity(listing),
    available: { ...listing.available },
    attributes: structuredClone(listing.attributes),
    createdAt: listing.createdAt.toISOString(),
    updatedAt: listing.updatedAt.toISOString(),
    submissions: sb.submissions
      .filter((s) => s.sellerId === listing.sellerId && s.sku === listing.sku)
      .map(submissionSnapshot),
  };
}

export function submissionSnapshot(s: SubmissionRec) {
  return {
    submissionId: s.submissionId,
    sellerId: s.sellerId,
    sku: s.sku,
    source: s.source,
    feedId: s.feedId,
    messageId: s.messageId,
    mode: s.mode,
    status: s.status,
    productType: s.productType,
    patches: s.patches,
    issues: s.issues,
    receivedAt: s.receivedAt.toISOString(),
    applyAt: s.applyAt?.toISOString() ?? null,
    appliedAt: s.appliedAt?.toISOString() ?? null,
    quantityBefore: s.quantityBefore,
    quantityAfter: s.quantityAfter,
  };
}

// --- payloads ----------------------------------------------------------------------------------

export function itemPayload(listing: ListingRec, includedData: readonly string[]) {
  const out: Record<string, unknown> = { sku: listing.sku };
  const mfn = mfnQuantity(listing);
  const buyable =
    (mfn !== null && mfn > 0) ||
    Object.entries(listing.available).some(([code, q]) => isFbaChannel(code) && q > 0);
  for (const part of includedData) {
    switch (part) {
      case "summaries":
        out.summaries = [
          {
            marketplaceId: listing.marketplaceId,
            asin: listing.asin,
            productType: listing.productType,
            conditionType: listing.conditionType,
            status: buyable ? ["BUYABLE", "DISCOVERABLE"] : ["DISCOVERABLE"],
            itemName: listing.itemName,
            createdDate: listing.createdAt.toISOString(),
            lastUpdatedDate: listing.updatedAt.toISOString(),
          },
        ];
        break;
      case "attributes":
        out.attributes = structuredClone(listing.attributes);
        break;
      case "issues":
        out.issues = structuredClone(listing.issues);
        break;
      case "offers":
        out.offers = listing.price
          ? [
              {
                marketplaceId: listing.marketplaceId,
                offerType: "B2C",
                price: { currencyCode: listing.price.currencyCode, amount: listing.price.amount },
                audience: { value: "ALL", displayName: "Sell on Amazon" },
              },
            ]
          : [];
        break;
      case "fulfillmentAvailability":
        // FBA entries carry no quantity here (as in the processing-report example).
        out.fulfillmentAvailability = Object.entries(listing.available).map(([code, quantity]) =>
          isFbaChannel(code)
            ? { fulfillmentChannelCode: code }
            : { fulfillmentChannelCode: code, quantity },
        );
        break;
      case "procurement":
        out.procurement = [];
        break;
      case "relationships":
        out.relationships = [{ marketplaceId: listing.marketplaceId, relationships: [] }];
        break;
      case "productTypes":
        out.productTypes = [
          { marketplaceId: listing.marketplaceId, productType: listing.productType },
        ];
        break;
    }
  }
  return out;
}

function includedDataParam(
  query: URLSearchParams,
  allowed: readonly string[],
  fallback: string[],
): string[] | Reply {
  const values = listParam(query, "includedData");
  if (!values) return fallback;
  const bad = values.filter((v) => !allowed.includes(v));
  if (bad.length > 0) return invalidInput(`Invalid 'includedData' provided: ${bad.join(", ")}.`);
  return values;
}

const skuNotFound = (sku: string, marketplaceId: string): Reply =>
  json(404, spErrors("NOT_FOUND", `SKU '${sku}' not found in marketplace ${marketplaceId}`));

function findListing(ctx: SpContext, sku: string, marketplaceIds: string[]): ListingRec | null {
  const listing = ctx.sb.sellers.get(ctx.sellerId ?? "")?.listings.get(sku);
  return listing && marketplaceIds.includes(listing.marketplaceId) ? listing : null;
}

// --- patch validation and application ----------------------------------------------------------

const invalidAttributes = (name: string, message = "The attributes are invalid."): IssueRec => ({
  code: "90000900",
  message,
  severity: "ERROR",
  attributeNames: [name],
  categories: ["INVALID_ATTRIBUTE"],
});

/** Checks the body shape (HTTP 400 when unparseable) and returns the request. */
export function parsePatchBody(
  body: unknown,
): { productType: string; patches: PatchOperation[] } | Reply {
  const generic = "Request has missing or invalid parameters and cannot be parsed.";
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return invalidInput(generic);
  const { productType, patches } = body as Record<string, unknown>;
  if (typeof productType !== "string" || productType === "") return invalidInput(generic);
  if (!Array.isArray(patches) || patches.length === 0) return invalidInput(generic);
  const out: PatchOperation[] = [];
  for (const [index, raw] of patches.entries()) {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return invalidInput(generic);
    const patch = raw as Record<string, unknown>;
    if (typeof patch.op !== "string" || !PATCH_OPS.includes(patch.op)) return invalidInput(generic);
    if (typeof patch.path !== "string") return invalidInput(generic);
    if (patch.value === undefined && patch.op !== "delete") {
      return invalidInput(`Value is missing for patch at index of ${index}.`);
    }
    if (
      patch.value !== undefined &&
      (!Array.isArray(patch.value) ||
        patch.value.some((v) => typeof v !== "object" || v === null || Array.isArray(v)))
    ) {
      return invalidInput(generic);
    }
    out.push({
      op: patch.op,
      path: patch.path,
      ...(patch.value === undefined ? {} : { value: patch.value as Record<string, unknown>[] }),
    });
  }
  return { productType, patches: out };
}

/** Semantic checks; any ERROR issue makes the submission INVALID. */
export function validatePatches(
  sb: AmazonSandbox,
  listing: ListingRec | null,
  sku: string,
  patches: PatchOperation[],
): IssueRec[] {
  const issues: IssueRec[] = [];
  if (!listing) {
    issues.push({
      code: "4000004",
      message: `The listings item for SKU '${sku}' does not exist. Use putListingsItem to create it.`,
      severity: "ERROR",
      categories: [],
    });
    return issues;
  }
  for (const patch of patches) {
    const match = ATTRIBUTE_PATH.exec(patch.path);
    if (!match) {
      // Only top-level attributes can be patched (model description).
      issues.push(invalidAttributes(patch.path.replace(/^\/attributes\//, "")));
      continue;
    }
    const name = match[1] ?? "";
    if (name !== "fulfillment_availability") continue;
    for (const entry of (patch.value ?? []) as Record<string, unknown>[]) {
      const code = entry.fulfillment_channel_code;
      if (typeof code !== "string" || code === "") {
        issues.push({
          code: "99022",
          message:
            "The field 'fulfillment_channel_code' for the attribute 'fulfillment_availability' does not have enough values. The required minimum is '1' value(s).",
          severity: "ERROR",
          attributeNames: ["fulfillment_availability"],
          categories: ["INVALID_ATTRIBUTE"],
        });
        continue;
      }
      const quantity = entry.quantity;
      if (
        quantity !== undefined &&
        (typeof quantity !== "number" || !Number.isInteger(quantity) || quantity < 0)
      ) {
        issues.push({
          code: "99010",
          message: `The value '${String(quantity)}' provided for 'quantity' in the attribute 'fulfillment_availability' is invalid. The value must be an integer of at least '0'.`,
          severity: "ERROR",
          attributeNames: ["fulfillment_availability"],
          categories: ["INVALID_ATTRIBUTE"],
        });
      }
      if (
        isFbaChannel(code) &&
        sb.behaviour.fbaWrites === "reject" &&
        (quantity !== undefined || patch.op === "delete")
      ) {
        issues.push(
          invalidAttributes(
            "fulfillment_availability",
            `The quantity for fulfillment channel '${code}' is managed by Amazon (FBA) and cannot be set by the seller.`,
          ),
        );
      }
    }
  }
  return issues;
}

function sameSelector(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return a.marketplace_id === b.marketplace_id && a.language_tag === b.language_tag;
}

/** Applies one accepted submission to the listing (called when its delay is over). */
export function applySubmission(sb: AmazonSandbox, submission: SubmissionRec): void {
  const listing = sb.sellers.get(submission.sellerId)?.listings.get(submission.sku);
  submission.appliedAt = new Date();
  if (!listing) {
    submission.issues.push({
      code: "4000004",
      message: `The listings item for SKU '${submission.sku}' no longer exists.`,
      severity: "ERROR",
      categories: [],
    });
    return;
  }
  const before = mfnQuantity(listing);
  let mfnTarget: number | null | undefined;
  for (const patch of submission.patches) {
    const name = ATTRIBUTE_PATH.exec(patch.path)?.[1];
    if (!name) continue;
    const value = ((patch.value ?? []) as Record<string, unknown>[]).map((v) => structuredClone(v));
    if (name === "fulfillment_availability") {
      const entries = listing.attributes.fulfillment_availability ?? [];
      for (const raw of value) {
        const code = String(raw.fulfillment_channel_code);
        const fba = isFbaChannel(code);
        const entry: Record<string, unknown> = { ...raw, marketplace_id: listing.marketplaceId };
        if (fba) delete entry.quantity;
        const index = entries.findIndex((e) => e.fulfillment_channel_code === code);
        if (patch.op === "delete") {
          if (index >= 0 && !fba) entries.splice(index, 1);
          if (code === MFN_CHANNEL) mfnTarget = null;
          continue;
        }
        if (patch.op === "merge" && index >= 0) {
          entries[index] = { ...entries[index], ...entry };
        } else if (index >= 0) {
          entries[index] = entry;
        } else {
          entries.push(entry);
        }
        if (!fba && code === MFN_CHANNEL) {
          const merged = entries.find((e) => e.fulfillment_channel_code === code);
          const quantity = merged?.quantity;
          if (typeof quantity === "number") mfnTarget = quantity;
          else if (patch.op !== "merge") mfnTarget = 0;
        } else if (!fba && typeof entry.quantity === "number") {
          listing.available[code] = entry.quantity;
        }
      }
      if (patch.op === "delete" && value.length === 0) {
        listing.attributes.fulfillment_availability = entries.filter((e) =>
          isFbaChannel(String(e.fulfillment_channel_code)),
        );
        mfnTarget = null;
      } else {
        listing.attributes.fulfillment_availability = entries;
      }
      continue;
    }
    const current = listing.attributes[name] ?? [];
    if (patch.op === "delete") {
      if (value.length === 0) delete listing.attributes[name];
      else listing.attributes[name] = current.filter((c) => !value.some((v) => sameSelector(c, v)));
    } else if (patch.op === "merge") {
      const merged = [...current];
      for (const v of value) {
        const index = merged.findIndex((c) => sameSelector(c, v));
        if (index >= 0) merged[index] = { ...merged[index], ...v };
        else merged.push(v);
      }
      listing.attributes[name] = merged;
    } else {
      listing.attributes[name] = value;
    }
    if (name === "item_name" && typeof listing.attributes.item_name?.[0]?.value === "string") {
      listing.itemName = listing.attributes.item_name[0].value;
    }
  }
  listing.updatedAt = new Date();
  if (mfnTarget === null) {
    delete listing.available[MFN_CHANNEL];
  } else if (mfnTarget !== undefined) {
    listing.available[MFN_CHANNEL] = mfnTarget;
  }
  const after = mfnQuantity(listing);
  submission.quantityBefore = before;
  submission.quantityAfter = after;
  if (before !== after && (before !== null || after !== null)) emitMfnQuantityChange(sb, listing);
}

/**
 * Records a submission; ACCEPTED ones are applied after the (scaled) patch delay, in arrival
 * order per SKU unless `patchReorder`.
 */
export function submit(
  sb: AmazonSandbox,
  input: {
    sellerId: string;
    sku: string;
    productType: string | null;
    patches: PatchOperation[];
    source: SubmissionRec["source"];
    feedId?: string;
    messageId?: number;
    mode?: "VALIDATION_PREVIEW" | null;
    issues: IssueRec[];
  },
): SubmissionRec {
  const invalid = input.issues.some((i) => i.severity === "ERROR");
  const preview = input.mode === "VALIDATION_PREVIEW";
  const submission: SubmissionRec = {
    submissionId: ids.submissionId(sb.random),
    sellerId: input.sellerId,
    sku: input.sku,
    source: input.source,
    feedId: input.feedId ?? null,
    messageId: input.messageId ?? null,
    productType: input.productType,
    patches: structuredClone(input.patches),
    mode: input.mode ?? null,
    status: invalid ? "INVALID" : preview ? "VALID" : "ACCEPTED",
    issues: input.issues,
    receivedAt: new Date(),
    applyAt: null,
    appliedAt: null,
    quantityBefore: null,
    quantityAfter: null,
  };
  sb.submissions.push(submission);
  if (submission.status !== "ACCEPTED") return submission;
  const now = Date.now();
  let due = now + sb.scaledBetween(sb.behaviour.patchDelayMs);
  const apply = (): void => applySubmission(sb, submission);
  if (sb.behaviour.patchReorder) sb.scheduler.after(due - now, apply);
  else due = sb.applyLanes.add(sb.scheduler, `${input.sellerId}|${input.sku}`, due, apply);
  submission.applyAt = new Date(due);
  return submission;
}

// --- handlers ----------------------------------------------------------------------------------

export function getListingsItem(ctx: SpContext): Reply {
  const [sellerId = "", sku = ""] = ctx.params;
  const denied = otherSeller(ctx, sellerId);
  if (denied) return denied;
  const ids = marketplaces(ctx);
  if (isReply(ids)) return ids;
  const included = includedDataParam(ctx.query, INCLUDED_DATA, ["summaries"]);
  if (isReply(included)) return included;
  const listing = findListing(ctx, sku, ids);
  if (!listing) return skuNotFound(sku, ids.join(","));
  return json(200, itemPayload(listing, included));
}

export function patchListingsItem(ctx: SpContext): Reply {
  const [sellerId = "", sku = ""] = ctx.params;
  const denied = otherSeller(ctx, sellerId);
  if (denied) return denied;
  const ids = marketplaces(ctx);
  if (isReply(ids)) return ids;
  const included = includedDataParam(ctx.query, ["identifiers", "issues"], ["issues"]);
  if (isReply(included)) return included;
  const mode = ctx.query.get("mode");
  if (mode !== null && mode !== "VALIDATION_PREVIEW") {
    return invalidInput(`Invalid 'mode' provided: ${mode}.`);
  }
  const parsed = parseJson(ctx.body.toString("utf8"));
  if (!parsed.ok)
    return invalidInput("Request has missing or invalid parameters and cannot be parsed.");
  const request = parsePatchBody(parsed.value);
  if (isReply(request)) return request;
  const listing = findListing(ctx, sku, ids);
  const issues = validatePatches(ctx.sb, listing, sku, request.patches);
  const submission = submit(ctx.sb, {
    sellerId,
    sku,
    productType: request.productType,
    patches: request.patches,
    source: "patchListingsItem",
    mode: mode === "VALIDATION_PREVIEW" ? "VALIDATION_PREVIEW" : null,
    issues,
  });
  return json(200, submissionResponse(submission, listing, included));
}

function submissionResponse(
  submission: SubmissionRec,
  listing: ListingRec | null,
  included: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    sku: submission.sku,
    status: submission.status,
    submissionId: submission.submissionId,
  };
  if (included.includes("issues")) out.issues = submission.issues;
  if (included.includes("identifiers")) {
    out.identifiers = listing ? [{ marketplaceId: listing.marketplaceId, asin: listing.asin }] : [];
  }
  return out;
}

/** putListingsItem: creates the listing or replaces its attributes (applied after the delay). */
export function putListingsItem(ctx: SpContext): Reply {
  const [sellerId = "", sku = ""] = ctx.params;
  const denied = otherSeller(ctx, sellerId);
  if (denied) return denied;
  const ids = marketplaces(ctx);
  if (isReply(ids)) return ids;
  const included = includedDataParam(ctx.query, ["identifiers", "issues"], ["issues"]);
  if (isReply(included)) return included;
  const parsed = parseJson(ctx.body.toString("utf8"));
  const body = parsed.ok ? (parsed.value as Record<string, unknown>) : null;
  if (
    !body ||
    typeof body.productType !== "string" ||
    typeof body.attributes !== "object" ||
    body.attributes === null ||
    Array.isArray(body.attributes)
  ) {
    return invalidInput("Request has missing or invalid parameters and cannot be parsed.");
  }
  const seller = ctx.sb.seller(sellerId);
  let listing = findListing(ctx, sku, ids);
  const attributes = body.attributes as Record<string, unknown>;
  const patches: PatchOperation[] = Object.entries(attributes)
    .filter(([, v]) => Array.isArray(v))
    .map(([name, value]) => ({
      op: "replace",
      path: `/attributes/${name}`,
      value: value as unknown[],
    }));
  const mode = ctx.query.get("mode") === "VALIDATION_PREVIEW" ? "VALIDATION_PREVIEW" : null;
  if (!listing && mode === null) {
    listing = createListing(ctx.sb, seller, {
      sku,
      productType: body.productType,
      marketplaceId: ids[0],
    });
  }
  const issues = validatePatches(ctx.sb, listing ?? null, sku, patches).filter(
    (i) => listing || i.code !== "4000004",
  );
  const submission = submit(ctx.sb, {
    sellerId,
    sku,
    productType: body.productType,
    patches,
    source: "patchListingsItem",
    mode,
    issues,
  });
  return json(200, submissionResponse(submission, listing ?? null, included));
}

export function deleteListingsItem(ctx: SpContext): Reply {
  const [sellerId = "", sku = ""] = ctx.params;
  const denied = otherSeller(ctx, sellerId);
  if (denied) return denied;
  const ids = marketplaces(ctx);
  if (isReply(ids)) return ids;
  const listing = findListing(ctx, sku, ids);
  const submission = submit(ctx.sb, {
    sellerId,
    sku,
    productType: null,
    patches: [],
    source: "patchListingsItem",
    issues: listing ? [] : validatePatches(ctx.sb, null, sku, []),
  });
  if (submission.status === "ACCEPTED" && submission.applyAt) {
    ctx.sb.scheduler.after(submission.applyAt.getTime() - Date.now(), () => {
      ctx.sb.sellers.get(sellerId)?.listings.delete(sku);
    });
  }
  return json(200, {
    sku,
    status: submission.status,
    submissionId: submission.submissionId,
    issues: submission.issues,
  });
}

type PageToken = { o: number };

export function searchListingsItems(ctx: SpContext): Reply {
  const [sellerId = ""] = ctx.params;
  const denied = otherSeller(ctx, sellerId);
  if (denied) return denied;
  const ids = marketplaces(ctx);
  if (isReply(ids)) return ids;
  const included = includedDataParam(ctx.query, INCLUDED_DATA, ["summaries"]);
  if (isReply(included)) return included;
  const identifiers = listParam(ctx.query, "identifiers");
  const identifiersType = ctx.query.get("identifiersType");
  if ((identifiers && !identifiersType) || (identifiersType && !identifiers)) {
    return invalidInput("'identifiers' and 'identifiersType' must be provided together.");
  }
  if (identifiers && identifiers.length > 20) {
    return invalidInput("'identifiers' accepts at most 20 values.");
  }
  const types = ["ASIN", "EAN", "FNSKU", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC"];
  if (identifiersType && !types.includes(identifiersType)) {
    return invalidInput(`Invalid 'identifiersType' provided: ${identifiersType}.`);
  }
  const pageSizeRaw = ctx.query.get("pageSize");
  const pageSize = pageSizeRaw === null ? 10 : Number(pageSizeRaw);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 20) {
    return invalidInput("'pageSize' must be between 1 and 20.");
  }
  const sortBy = ctx.query.get("sortBy") ?? "lastUpdatedDate";
  const sortOrder = ctx.query.get("sortOrder") ?? "DESC";
  if (
    !["sku", "createdDate", "lastUpdatedDate"].includes(sortBy) ||
    !["ASC", "DESC"].includes(sortOrder)
  ) {
    return invalidInput("Invalid 'sortBy' or 'sortOrder' provided.");
  }
  const dateParam = (name: string): number | null | Reply => {
    const value = ctx.query.get(name);
    if (value === null) return null;
    const t = Date.parse(value);
    return Number.isNaN(t) ? invalidInput(`Invalid '${name}' provided.`) : t;
  };
  const createdAfter = dateParam("createdAfter");
  const createdBefore = dateParam("createdBefore");
  const updatedAfter = dateParam("lastUpdatedAfter");
  const updatedBefore = dateParam("lastUpdatedBefore");
  for (const d of [createdAfter, createdBefore, updatedAfter, updatedBefore])
    if (isReply(d)) return d;
  const withStatus = listParam(ctx.query, "withStatus");
  const withoutStatus = listParam(ctx.query, "withoutStatus");
  let offset = 0;
  const pageToken = ctx.query.get("pageToken");
  if (pageToken !== null) {
    try {
      const token = JSON.parse(Buffer.from(pageToken, "base64url").toString("utf8")) as PageToken;
      if (!Number.isInteger(token.o) || token.o < 0) throw new Error("bad");
      offset = token.o;
    } catch {
      return invalidInput("Invalid 'pageToken' provided.");
    }
  }
  const seller = ctx.sb.seller(sellerId);
  const statusOf = (l: ListingRec): string[] =>
    (itemPayload(l, ["summaries"]).summaries as { status: string[] }[])[0]?.status ?? [];
  let matches = [...seller.listings.values()].filter((l) => ids.includes(l.marketplaceId));
  if (identifiers && identifiersType) {
    matches = matches.filter((l) =>
      identifiersType === "SKU"
        ? identifiers.includes(l.sku)
        : identifiersType === "ASIN"
          ? identifiers.includes(l.asin)
          : false,
    );
  }
  matches = matches.filter(
    (l) =>
      (createdAfter === null || l.createdAt.getTime() >= (createdAfter as number)) &&
      (createdBefore === null || l.createdAt.getTime() <= (createdBefore as number)) &&
      (updatedAfter === null || l.updatedAt.getTime() >= (updatedAfter as number)) &&
      (updatedBefore === null || l.updatedAt.getTime() <= (updatedBefore as number)) &&
      (!withStatus || withStatus.some((s) => statusOf(l).includes(s))) &&
      (!withoutStatus || !withoutStatus.some((s) => statusOf(l).includes(s))),
  );
  const key = (l: ListingRec): string | number =>
    sortBy === "sku"
      ? l.sku
      : sortBy === "createdDate"
        ? l.createdAt.getTime()
        : l.updatedAt.getTime();
  matches.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    const cmp = ka < kb ? -1 : ka > kb ? 1 : a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0;
    return sortOrder === "ASC" ? cmp : -cmp;
  });
  const page = matches.slice(offset, offset + pageSize);
  const token = (o: number): string => Buffer.from(JSON.stringify({ o })).toString("base64url");
  const pagination: Record<string, string> = {};
  if (offset + pageSize < matches.length) pagination.nextToken = token(offset + pageSize);
  if (offset > 0) pagination.previousToken = token(Math.max(0, offset - pageSize));
  return json(200, {
    numberOfResults: matches.length,
    ...(Object.keys(pagination).length > 0 ? { pagination } : {}),
    items: page.map((l) => itemPayload(l, included)),
  });
}

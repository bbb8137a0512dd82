/**
 * The Unmatched lines page: order lines no listing or SKU matched, and "Map to item" — the
 * merchant picks a stock item (searched by SKU or title) and `mapUnmatchedLine` applies the
 * line, exactly once; the line then leaves the list. Reads through
 * `repositories/admin/unmatched.server.ts`.
 */
import { z } from "zod";
import {
  countOpenUnmatched,
  findItem,
  listOpenUnmatched,
  searchItems,
  type ItemChoiceRow,
} from "../../repositories/admin/unmatched.server";
import { mapUnmatchedLine, MappingError } from "../unmatched.server";
import { refusal, STALE_PAGE, storable, type FormFailure } from "./forms.server";
import { requireShop } from "./shop.server";

export const UNMATCHED_LIMIT = 200;
const CHOICES = 10;

export type UnmatchedLineView = {
  id: string;
  connectionName: string;
  kind: string;
  orderId: string;
  lineId: string;
  sku: string | null;
  remoteRef: string | null;
  quantity: number;
  firstSeenAt: string;
  lastSeenAt: string;
};

export type UnmatchedPage = {
  now: string;
  lines: UnmatchedLineView[];
  total: number;
  /** Items matching `q` (the item picker), when asked for. */
  choices: ItemChoiceRow[] | null;
};

export const ZUnmatchedQuery = z.object({
  q: z
    .string()
    .refine(storable, "The search contains a character that is not allowed")
    .trim()
    .transform((q) => q.slice(0, 200))
    .optional(),
});
export const UNMATCHED_QUERY_NAMES = ["q"] as const;

/** `pick`: the picker is open (then `q`, possibly empty, filters the items). */
export async function getUnmatchedPage(
  shopDomain: string,
  picker: { pick: boolean; q?: string },
): Promise<UnmatchedPage> {
  const shop = await requireShop(shopDomain);
  const [lines, total, choices] = await Promise.all([
    listOpenUnmatched({ shopId: shop.id, limit: UNMATCHED_LIMIT }),
    countOpenUnmatched({ shopId: shop.id }),
    picker.pick
      ? searchItems({ shopId: shop.id, query: picker.q ?? "", limit: CHOICES })
      : Promise.resolve(null),
  ]);
  return {
    now: new Date().toISOString(),
    lines: lines.map((l) => ({
      id: l.id.toString(),
      connectionName: l.connectionName,
      kind: l.kind,
      orderId: l.orderId,
      lineId: l.lineId,
      sku: l.sku,
      remoteRef: l.remoteRef,
      quantity: l.quantity,
      firstSeenAt: l.firstSeenAt.toISOString(),
      lastSeenAt: l.lastSeenAt.toISOString(),
    })),
    total,
    choices,
  };
}

export const ZMapAction = z.object({
  intent: z.literal("map", STALE_PAGE),
  unmatchedId: z.string().regex(/^\d{1,18}$/, STALE_PAGE),
  itemId: z.uuid("Choose the stock item this line sells"),
});
export type MapAction = z.infer<typeof ZMapAction>;

export async function mapLine(input: {
  shopDomain: string;
  action: MapAction;
}): Promise<{ ok: true; message: string } | FormFailure> {
  const shop = await requireShop(input.shopDomain);
  const item = await findItem({ shopId: shop.id, itemId: input.action.itemId });
  if (!item) {
    return {
      ok: false,
      intent: "map",
      fieldErrors: { itemId: "That stock item no longer exists" },
      status: 404,
    };
  }
  try {
    const { applied } = await mapUnmatchedLine({
      shopDomain: input.shopDomain,
      unmatchedId: BigInt(input.action.unmatchedId),
      itemId: item.id,
      actor: "admin",
    });
    return {
      ok: true,
      message: `Line mapped to ${item.sku}: ${applied} change${applied === 1 ? "" : "s"} applied`,
    };
  } catch (error) {
    return refusal(error, "map", [MappingError]);
  }
}

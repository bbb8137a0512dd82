/**
 * The Bundles page: listings that sell several items or several units of one (a gift set, a
 * 6-pack), with their components and the quantity they publish — complete sets, the minimum
 * over components of floor(ATS / units per set) — and the form that defines or edits one
 * (`defineBundle`, which republishes the listing under the item locks). Reads through
 * `repositories/admin/bundles.server.ts`.
 */
import { z } from "zod";
import {
  listBundleChannels,
  listBundles,
  listingPublished,
  type BundleRow,
} from "../../repositories/admin/bundles.server";
import { BundleError, defineBundle } from "../bundles.server";
import { refusal, STALE_PAGE, type FormFailure } from "./forms.server";
import { requireShop } from "./shop.server";

export const BUNDLE_LIMIT = 200;
/** Component rows the form offers (a bundle may have up to 50; the form grows as needed). */
export const MAX_COMPONENTS = 50;

export type BundlesPage = {
  channels: { id: string; name: string; kind: string }[];
  bundles: (Omit<BundleRow, "components"> & {
    components: {
      sku: string;
      title: string | null;
      quantity: number;
      ats: number;
      sets: number;
    }[];
  })[];
};

export async function getBundlesPage(shopDomain: string): Promise<BundlesPage> {
  const shop = await requireShop(shopDomain);
  const [channels, bundles] = await Promise.all([
    listBundleChannels({ shopId: shop.id }),
    listBundles({ shopId: shop.id, limit: BUNDLE_LIMIT }),
  ]);
  return {
    channels,
    bundles: bundles.map((b) => ({
      ...b,
      components: (b.components ?? []).map((c) => ({
        ...c,
        ats: Number(c.ats),
        sets: Math.max(0, Math.floor(Number(c.ats) / c.quantity)),
      })),
    })),
  };
}

const COMPONENT_FIELD = /^components\.(\d+)\.(sku|units)$/;

/**
 * The form: the listing (channel + its SKU) and component rows `components.N.sku` /
 * `components.N.units`; rows without a SKU are ignored, a SKU without valid units is refused.
 */
export const ZBundleForm = z
  .object({
    intent: z.literal("save", STALE_PAGE),
    connectionId: z.uuid("Choose the channel the listing is on"),
    sku: z
      .string({ error: "Enter the listing's SKU on that channel" })
      .trim()
      .min(1, "Enter the listing's SKU on that channel")
      .max(255, "SKU is too long"),
  })
  .catchall(z.string())
  .transform((form, ctx) => {
    const rows = new Map<number, { sku: string; units: string }>();
    for (const [name, value] of Object.entries(form)) {
      const match = COMPONENT_FIELD.exec(name);
      if (!match) continue;
      const index = Number(match[1]);
      if (index >= MAX_COMPONENTS) continue;
      const row = rows.get(index) ?? { sku: "", units: "" };
      row[match[2] as "sku" | "units"] = String(value).trim();
      rows.set(index, row);
    }
    const components: { sku: string; quantity: number }[] = [];
    for (const [index, row] of [...rows.entries()].sort((a, b) => a[0] - b[0])) {
      // A row without a SKU is an unused row (the form pre-fills units with 1).
      if (!row.sku) continue;
      if (row.sku.length > 255) {
        ctx.addIssue({
          code: "custom",
          path: ["components", index, "sku"],
          message: "SKU is too long",
        });
        continue;
      }
      if (!/^\d+$/.test(row.units) || Number(row.units) < 1 || Number(row.units) > 10_000) {
        ctx.addIssue({
          code: "custom",
          path: ["components", index, "units"],
          message: "Units per set: a whole number from 1 to 10,000",
        });
        continue;
      }
      components.push({ sku: row.sku, quantity: Number(row.units) });
    }
    if (components.length === 0 && ctx.issues.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["components", 0, "sku"],
        message: "A bundle has at least one component",
      });
    }
    return { connectionId: form.connectionId, sku: form.sku, components };
  });
export type BundleForm = z.infer<typeof ZBundleForm>;

export async function saveBundle(input: {
  shopDomain: string;
  form: BundleForm;
}): Promise<{ ok: true; message: string; listingId: string; published: number } | FormFailure> {
  const shop = await requireShop(input.shopDomain);
  const { form } = input;
  try {
    const saved = await defineBundle({
      shopDomain: input.shopDomain,
      connectionId: form.connectionId,
      sku: form.sku,
      components: form.components,
    });
    const listing = await listingPublished({ shopId: shop.id, listingId: saved.listingId });
    const published = listing?.publishedQuantity ?? 0;
    return {
      ok: true,
      listingId: saved.listingId,
      published,
      message: `${listing?.sku ?? form.sku} saved: publishes ${published}`,
    };
  } catch (error) {
    if (error instanceof BundleError && error.message === "no single listing matches") {
      return {
        ok: false,
        intent: "save",
        fieldErrors: { sku: "No listing with this SKU on that channel" },
        status: 422,
      };
    }
    return refusal(error, "save", [BundleError]);
  }
}

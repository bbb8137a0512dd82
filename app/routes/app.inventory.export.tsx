/**
 * `/app/inventory/export`: the Inventory list's current selection (search, filter, order; every
 * page) as a CSV download. Fetched by the page with the session token (App Bridge's fetch), so
 * it works inside the admin's iframe; unreadable parameters are a 400 with the message.
 */
import type { LoaderFunctionArgs } from "@remix-run/node";
import { parseSearch } from "../services/admin/forms.server";
import {
  exportInventoryCsv,
  INVENTORY_QUERY_NAMES,
  ZInventoryQuery,
} from "../services/admin/inventory.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = parseSearch(
    ZInventoryQuery,
    new URL(request.url).searchParams,
    INVENTORY_QUERY_NAMES,
  );
  if (!parsed.ok) {
    return new Response([...new Set(Object.values(parsed.fieldErrors))].join("\n"), {
      status: 400,
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  }
  const { q, filter, sort } = parsed.data;
  const result = await exportInventoryCsv({ shopDomain: session.shop, query: q, filter, sort });
  const day = new Date().toISOString().slice(0, 10);
  return new Response(`\uFEFF${result.csv}`, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="stockguard-inventory-${day}.csv"`,
      "Cache-Control": "no-store",
      "X-StockGuard-Rows": String(result.rows),
      ...(result.truncated ? { "X-StockGuard-Truncated": "true" } : {}),
    },
  });
};

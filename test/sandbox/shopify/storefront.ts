/** `/{shop}/storefront/…`: a buyer-facing checkout that never sells below zero. */
import { ControlError } from "./errors";
import { gid } from "./ids";
import type { HttpResult } from "./http-util";
import type { Sandbox } from "./sandbox";

export function handleStorefront(
  sb: Sandbox,
  domain: string,
  subPath: string,
  method: string,
  body: unknown,
): HttpResult {
  const shop = sb.shops.get(domain);
  if (!shop)
    return { status: 404, body: { error: "not_found", message: `shop ${domain} not found` } };
  if (subPath === "checkout" && method === "POST") {
    return { status: 201, body: { order: sb.checkout(domain, body) } };
  }
  if (subPath === "products" && method === "GET") {
    const products = [...shop.products.values()]
      .filter((p) => p.status === "ACTIVE")
      .map((p) => ({
        id: gid("Product", p.id),
        title: p.title,
        handle: p.handle,
        variants: p.variantIds.flatMap((variantId) => {
          const v = shop.variants.get(variantId);
          if (!v) return [];
          const item = shop.itemOfVariant(v);
          const sellable = shop
            .orderedLocations()
            .filter((l) => l.isActive && l.fulfillsOnlineOrders)
            .reduce(
              (sum, l) => sum + Math.max(0, item.levels.get(l.id)?.quantities.available ?? 0),
              0,
            );
          return [
            {
              id: gid("ProductVariant", v.id),
              sku: v.sku,
              title: v.title,
              price: v.price,
              inventoryPolicy: v.inventoryPolicy,
              tracked: item.tracked,
              available: sellable,
              availableForSale: !item.tracked || v.inventoryPolicy === "CONTINUE" || sellable > 0,
            },
          ];
        }),
      }));
    return { status: 200, body: { products } };
  }
  throw new ControlError(404, "not_found", `no storefront route ${method} ${subPath}`);
}

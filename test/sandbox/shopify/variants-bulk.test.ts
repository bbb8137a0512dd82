/** The local Shopify's productVariantsBulkUpdate (variants-bulk.ts), run with StockGuard's document. */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  CATALOG,
  VARIANTS_DENY,
  type CatalogData,
  type VariantsDenyData,
} from "../../../app/channels/shopify/operations";
import { SHOP, seedShop } from "./fixtures";
import { startLocalShopify } from "./server";
import { DEFAULT_ACCESS_SCOPES } from "./state";

const local = await startLocalShopify();
afterAll(() => local.close());

const variants = () => [...local.sandbox.shop(SHOP).variants.values()];

beforeEach(() => {
  local.sandbox.reset();
  local.sandbox.createShop(
    seedShop({
      accessScopes: [...DEFAULT_ACCESS_SCOPES, "write_products"],
      products: [
        {
          title: "Shirt",
          variants: [
            { sku: "S", inventoryPolicy: "CONTINUE", barcode: "0123" },
            { sku: "M", inventoryPolicy: "CONTINUE" },
          ],
        },
        { title: "Cap", variants: [{ sku: "CAP" }] },
      ],
    }),
  );
});

describe("productVariantsBulkUpdate", () => {
  it("sets DENY on variants of the product and sends products/update", async () => {
    const [s, m] = variants();
    const before = local.sandbox.shop(SHOP).events.length;
    const { body } = await local.graphql<VariantsDenyData>(SHOP, VARIANTS_DENY, {
      productId: `gid://shopify/Product/${s!.productId}`,
      variants: [{ id: `gid://shopify/ProductVariant/${s!.id}`, inventoryPolicy: "DENY" }],
    });
    expect(body.errors).toBeUndefined();
    expect(body.data?.productVariantsBulkUpdate).toEqual({
      productVariants: [{ id: `gid://shopify/ProductVariant/${s!.id}`, inventoryPolicy: "DENY" }],
      userErrors: [],
    });
    expect(s!.inventoryPolicy).toBe("DENY");
    expect(m!.inventoryPolicy).toBe("CONTINUE");
    expect(
      local.sandbox
        .shop(SHOP)
        .events.slice(before)
        .map((e) => e.topic),
    ).toContain("products/update");
  });

  it("a variant of another product is a userError and nothing changes", async () => {
    const [s, , cap] = variants();
    const { body } = await local.graphql<VariantsDenyData>(SHOP, VARIANTS_DENY, {
      productId: `gid://shopify/Product/${cap!.productId}`,
      variants: [{ id: `gid://shopify/ProductVariant/${s!.id}`, inventoryPolicy: "DENY" }],
    });
    expect(body.data?.productVariantsBulkUpdate?.userErrors[0]).toMatchObject({
      code: "PRODUCT_VARIANT_DOES_NOT_EXIST",
      field: ["variants", "0", "id"],
    });
    expect(s!.inventoryPolicy).toBe("CONTINUE");
  });

  it("needs write_products", async () => {
    local.sandbox.reset();
    local.sandbox.createShop(
      seedShop({
        products: [{ title: "Cap", variants: [{ sku: "CAP", inventoryPolicy: "CONTINUE" }] }],
      }),
    );
    const [cap] = variants();
    const { body } = await local.graphql<VariantsDenyData>(SHOP, VARIANTS_DENY, {
      productId: `gid://shopify/Product/${cap!.productId}`,
      variants: [{ id: `gid://shopify/ProductVariant/${cap!.id}`, inventoryPolicy: "DENY" }],
    });
    expect(body.errors?.[0]?.extensions?.code).toBe("ACCESS_DENIED");
    expect(cap!.inventoryPolicy).toBe("CONTINUE");
  });

  it("the catalog walk reads barcode and price", async () => {
    const { body } = await local.graphql<CatalogData>(SHOP, CATALOG, { first: 10 });
    expect(body.data?.productVariants.nodes.find((v) => v.sku === "S")).toMatchObject({
      barcode: "0123",
      price: "10.00",
      inventoryPolicy: "CONTINUE",
    });
  });
});

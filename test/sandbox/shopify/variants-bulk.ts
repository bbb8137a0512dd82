/**
 * `productVariantsBulkUpdate(productId, variants)` in the local Shopify, the subset StockGuard's
 * risk checks use: set `inventoryPolicy` (and `price` / `barcode`) on variants of one product.
 * Like Shopify it needs the `write_products` scope (a top-level ACCESS_DENIED otherwise), answers
 * a variant of another product or an unknown id with userErrors (nothing applied), and a change
 * sends `products/update` as the merchant's own edit would. `ProductVariant.barcode` is added too.
 *
 * Facts (shopify.dev Admin GraphQL reference, productVariantsBulkUpdate, 2026-10): arguments
 * `productId: ID!`, `variants: [ProductVariantsBulkInput!]!`, `allowPartialUpdates: Boolean`;
 * payload `{ product, productVariants, userErrors { code field message } }`; requires
 * `write_products`. UNCERTAIN: exact userError codes and texts (this server uses
 * `PRODUCT_VARIANT_DOES_NOT_EXIST` and `PRODUCT_DOES_NOT_EXIST`).
 */
import { GraphQLError, type GraphQLResolveInfo } from "graphql";
import type { Caller } from "./apps";
import { idOf } from "./ids";
import { updateVariant } from "./merchant";
import type { Sandbox } from "./sandbox";
import type { ShopState } from "./state";

export const VARIANTS_BULK_SDL = /* GraphQL */ `
  extend type ProductVariant {
    barcode: String
  }

  input ProductVariantsBulkInput {
    id: ID
    inventoryPolicy: ProductVariantInventoryPolicy
    price: Money
    barcode: String
  }

  type ProductVariantsBulkUpdateUserError {
    code: String
    field: [String!]
    message: String!
  }

  type ProductVariantsBulkUpdatePayload {
    product: Product
    productVariants: [ProductVariant!]
    userErrors: [ProductVariantsBulkUpdateUserError!]!
  }

  extend type Mutation {
    productVariantsBulkUpdate(
      productId: ID!
      variants: [ProductVariantsBulkInput!]!
      allowPartialUpdates: Boolean
    ): ProductVariantsBulkUpdatePayload
  }
`;

type Ctx = { sandbox: Sandbox; shop: ShopState; caller: Caller };
type BulkInput = { id?: string; inventoryPolicy?: string; price?: string; barcode?: string | null };

function bulkUpdate(
  _source: unknown,
  args: Record<string, unknown>,
  ctx: Ctx,
  _info: GraphQLResolveInfo,
): unknown {
  if (!ctx.caller.scopes.includes("write_products")) {
    throw new GraphQLError(
      "Access denied for productVariantsBulkUpdate field. Required access: `write_products` access scope.",
      { extensions: { code: "ACCESS_DENIED" } },
    );
  }
  const { shop, sandbox } = ctx;
  const productId = idOf(args.productId, "Product");
  const product = productId === null ? undefined : shop.products.get(productId);
  if (!product) {
    return {
      product: null,
      productVariants: null,
      userErrors: [
        { code: "PRODUCT_DOES_NOT_EXIST", field: ["productId"], message: "Product does not exist" },
      ],
    };
  }
  const inputs = args.variants as BulkInput[];
  const userErrors: { code: string; field: string[]; message: string }[] = [];
  inputs.forEach((input, index) => {
    const id = idOf(input.id, "ProductVariant");
    const variant = id === null ? undefined : shop.variants.get(id);
    if (!variant || variant.productId !== product.id) {
      userErrors.push({
        code: "PRODUCT_VARIANT_DOES_NOT_EXIST",
        field: ["variants", String(index), "id"],
        message: "Product variant does not exist",
      });
    }
  });
  if (userErrors.length > 0) return { product, productVariants: null, userErrors };
  const updated = inputs.map((input) => {
    const variant = shop.variants.get(idOf(input.id, "ProductVariant")!)!;
    if (input.barcode !== undefined) variant.barcode = input.barcode;
    updateVariant(sandbox, shop, input.id!, {
      ...(input.inventoryPolicy !== undefined ? { inventoryPolicy: input.inventoryPolicy } : {}),
      ...(input.price !== undefined ? { price: input.price } : {}),
    });
    return variant;
  });
  return { product, productVariants: updated, userErrors: [] };
}

export const variantsBulkMutationResolvers = { productVariantsBulkUpdate: bulkUpdate };

/**
 * Shopify Flow over the Admin API of the store that installed StockGuard: `flowTriggerReceive`
 * (fires a trigger declared in extensions/<handle>/shopify.extension.toml) and the two lookups the
 * Flow use cases need (a variant's product for a product_reference field, a product's variants for
 * an action naming a product). Failures are the closed channel error set: a trigger Shopify
 * refuses (userErrors) is permanent, throttling and 5xx are retryable.
 */
import { env } from "../../env.server";
import type { ConnectionContext } from "../channel-adapter";
import { ChannelPermanentError } from "../errors";
import { ShopifyAdminClient } from "./client.server";
import { shopifyToken } from "./tokens.server";

/** What the Flow use cases ask of the store (services reach it through the registry). */
export type FlowPort = {
  fireTrigger(
    conn: ConnectionContext,
    handle: string,
    payload: Record<string, unknown>,
  ): Promise<void>;
  /** The numeric id of a variant's product (product_reference payloads carry `product_id`). */
  productIdOfVariant(conn: ConnectionContext, variantGid: string): Promise<number | null>;
  /** The variant ids of a product (an action naming a product acts on every variant). */
  variantsOfProduct(conn: ConnectionContext, productGid: string): Promise<string[]>;
};

const FLOW_TRIGGER_RECEIVE = /* GraphQL */ `
  mutation StockGuardFlowTrigger($handle: String!, $payload: JSON!) {
    flowTriggerReceive(handle: $handle, payload: $payload) {
      userErrors {
        field
        message
      }
    }
  }
`;

const VARIANT_PRODUCT = /* GraphQL */ `
  query StockGuardVariantProduct($id: ID!) {
    productVariant(id: $id) {
      id
      product {
        id
      }
    }
  }
`;

const PRODUCT_VARIANTS = /* GraphQL */ `
  query StockGuardProductVariants($id: ID!) {
    product(id: $id) {
      id
      variants(first: 100) {
        nodes {
          id
        }
      }
    }
  }
`;

async function client(conn: ConnectionContext): Promise<ShopifyAdminClient> {
  return new ShopifyAdminClient({
    shop: conn.accountRef,
    accessToken: await shopifyToken(conn),
    origin: conn.apiBaseUrl ?? env().SHOPIFY_ADMIN_API_ORIGIN,
  });
}

function numericId(gid: string): number | null {
  const match = /\/(\d+)$/.exec(gid);
  return match ? Number(match[1]) : null;
}

export const shopifyFlow: FlowPort = {
  async fireTrigger(conn, handle, payload) {
    const { data } = await (
      await client(conn)
    ).request<{
      flowTriggerReceive: { userErrors: { field: string[] | null; message: string }[] } | null;
    }>(FLOW_TRIGGER_RECEIVE, { handle, payload });
    const errors = data.flowTriggerReceive?.userErrors ?? [];
    if (errors.length > 0) {
      throw new ChannelPermanentError(
        `flowTriggerReceive refused ${handle}: ${errors.map((e) => e.message).join("; ")}`,
      );
    }
  },

  async productIdOfVariant(conn, variantGid) {
    const { data } = await (
      await client(conn)
    ).request<{ productVariant: { product: { id: string } } | null }>(VARIANT_PRODUCT, {
      id: variantGid,
    });
    const product = data.productVariant?.product.id;
    return product ? numericId(product) : null;
  },

  async variantsOfProduct(conn, productGid) {
    const { data } = await (
      await client(conn)
    ).request<{ product: { variants: { nodes: { id: string }[] } } | null }>(PRODUCT_VARIANTS, {
      id: productGid,
    });
    return data.product?.variants.nodes.map((v) => v.id) ?? [];
  },
};

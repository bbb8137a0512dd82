/**
 * Every Admin GraphQL operation StockGuard sends (API 2026-10). The local Shopify server's tests
 * run these exact documents, so the sandbox and the adapter cannot drift apart.
 *
 * Cost budget: Shopify rejects a single query above 1,000 points. Page sizes below keep each
 * requested cost under that ceiling (see `test/sandbox/shopify` for the cost model).
 */

/** Quantity states we read; `on_hand` is the sum of the physical states. */
export const QUANTITY_NAMES = [
  "available",
  "on_hand",
  "committed",
  "reserved",
  "safety_stock",
  "quality_control",
  "damaged",
  "incoming",
] as const;
export type QuantityName = (typeof QUANTITY_NAMES)[number];

const QUANTITY_NAMES_LITERAL = `[${QUANTITY_NAMES.map((n) => `"${n}"`).join(", ")}]`;

export const SHOP_INFO = `#graphql
  query StockGuardShopInfo {
    shop { id name myshopifyDomain }
    currentAppInstallation { accessScopes { handle } }
  }`;

export type ShopInfoData = {
  shop: { id: string; name: string; myshopifyDomain: string };
  currentAppInstallation: { accessScopes: { handle: string }[] } | null;
};

export const LOCATIONS = `#graphql
  query StockGuardLocations($first: Int!, $after: String) {
    locations(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id name isActive fulfillsOnlineOrders }
    }
  }`;

/**
 * The catalog walk: 250 variants × 3 objects + 2 ≈ 752 points per page. Quantities are read
 * separately per location with LEVELS_AT_LOCATION (≈ 750 points per 250 items), which costs far
 * less than nesting every level of every variant in the walk.
 */
export const CATALOG_PAGE_SIZE = 250;
export const CATALOG = `#graphql
  query StockGuardCatalog($first: Int!, $after: String) {
    productVariants(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id
        sku
        title
        displayName
        inventoryPolicy
        barcode
        price
        product { id title status }
        inventoryItem { id tracked }
      }
    }
  }`;

/** Up to 250 items at one location: 250 × 3 ≈ 750 points. */
export const LEVELS_BATCH_SIZE = 250;
export const LEVELS_AT_LOCATION = `#graphql
  query StockGuardLevelsAt($ids: [ID!]!, $locationId: ID!) {
    nodes(ids: $ids) {
      ... on InventoryItem {
        id
        inventoryLevel(locationId: $locationId) {
          updatedAt
          quantities(names: ${QUANTITY_NAMES_LITERAL}) { name quantity }
        }
      }
    }
  }`;

const PAYLOAD_SELECTION = `
    inventoryAdjustmentGroup {
      id
      changes { name delta quantityAfterChange item { id } location { id } }
    }
    userErrors { code field message }`;

/**
 * Mutations carry `@idempotent(key:)` (mandatory since 2026-04). Until a variable key is proven
 * to work on the pinned version, the key is written into the document; `assertIdempotencyKey`
 * restricts it to UUID characters so nothing else can be injected.
 */
export function assertIdempotencyKey(key: string): string {
  if (!/^[0-9a-f-]{36}$/.test(key)) throw new Error(`idempotency key must be a UUID, got ${key}`);
  return key;
}

export function setQuantitiesMutation(key: string): string {
  return `#graphql
  mutation StockGuardSetQuantities($input: InventorySetQuantitiesInput!) {
    inventorySetQuantities(input: $input) @idempotent(key: "${assertIdempotencyKey(key)}") {${PAYLOAD_SELECTION}
    }
  }`;
}

export function moveQuantitiesMutation(key: string): string {
  return `#graphql
  mutation StockGuardMoveQuantities($input: InventoryMoveQuantitiesInput!) {
    inventoryMoveQuantities(input: $input) @idempotent(key: "${assertIdempotencyKey(key)}") {${PAYLOAD_SELECTION}
    }
  }`;
}

export function adjustQuantitiesMutation(key: string): string {
  return `#graphql
  mutation StockGuardAdjustQuantities($input: InventoryAdjustQuantitiesInput!) {
    inventoryAdjustQuantities(input: $input) @idempotent(key: "${assertIdempotencyKey(key)}") {${PAYLOAD_SELECTION}
    }
  }`;
}

/** Shapes of the answers, as the adapter reads them. */
export type PageInfo = { hasNextPage: boolean; endCursor: string | null };
export type QuantityRow = { name: string; quantity: number };

export type LocationsData = {
  locations: {
    pageInfo: PageInfo;
    nodes: { id: string; name: string; isActive: boolean; fulfillsOnlineOrders: boolean }[];
  };
};

export type CatalogData = {
  productVariants: {
    pageInfo: PageInfo;
    nodes: {
      id: string;
      sku: string | null;
      title: string;
      displayName: string;
      inventoryPolicy: "DENY" | "CONTINUE";
      barcode: string | null;
      /** Money: a decimal string. */
      price: string | null;
      product: { id: string; title: string; status: string };
      inventoryItem: { id: string; tracked: boolean };
    }[];
  };
};

export type LevelsAtData = {
  nodes: ({
    id: string;
    inventoryLevel: { updatedAt: string; quantities: QuantityRow[] } | null;
  } | null)[];
};

export type MutationPayload = {
  inventoryAdjustmentGroup: {
    id: string;
    changes: {
      name: string;
      delta: number;
      quantityAfterChange: number | null;
      item: { id: string };
      location: { id: string };
    }[];
  } | null;
  userErrors: { code: string | null; field: string[] | null; message: string }[];
};

/** The app's own webhook subscriptions on a store (stores connected with a token). */
export const WEBHOOK_SUBSCRIPTIONS = `#graphql
  query StockGuardWebhookSubscriptions($first: Int!, $after: String) {
    webhookSubscriptions(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id topic uri }
    }
  }`;

export type WebhookSubscriptionsData = {
  webhookSubscriptions: {
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    nodes: { id: string; topic: string; uri: string }[];
  };
};

export const WEBHOOK_SUBSCRIPTION_DELETE = `#graphql
  mutation StockGuardWebhookSubscriptionDelete($id: ID!) {
    webhookSubscriptionDelete(id: $id) {
      deletedWebhookSubscriptionId
      userErrors { field message }
    }
  }`;

export type WebhookSubscriptionDeleteData = {
  webhookSubscriptionDelete: {
    deletedWebhookSubscriptionId: string | null;
    userErrors: { field: string[] | null; message: string }[];
  };
};

export const WEBHOOK_SUBSCRIPTION_CREATE = `#graphql
  mutation StockGuardWebhookSubscriptionCreate(
    $topic: WebhookSubscriptionTopic!
    $webhookSubscription: WebhookSubscriptionInput!
  ) {
    webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
      webhookSubscription { id topic uri }
      userErrors { field message }
    }
  }`;

export type WebhookSubscriptionCreateData = {
  webhookSubscriptionCreate: {
    webhookSubscription: { id: string; topic: string; uri: string } | null;
    userErrors: { field: string[] | null; message: string }[];
  };
};

/** Stops variants of one product selling at zero (risk checks' one-click fix; write_products). */
export const VARIANTS_DENY = `#graphql
  mutation StockGuardVariantsDeny($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
    productVariantsBulkUpdate(productId: $productId, variants: $variants) {
      productVariants { id inventoryPolicy }
      userErrors { code field message }
    }
  }`;

export type VariantsDenyData = {
  productVariantsBulkUpdate: {
    productVariants: { id: string; inventoryPolicy: "DENY" | "CONTINUE" }[] | null;
    userErrors: { code: string | null; field: string[] | null; message: string }[];
  } | null;
};

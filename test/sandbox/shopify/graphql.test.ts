import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  CATALOG,
  CATALOG_PAGE_SIZE,
  LEVELS_AT_LOCATION,
  LEVELS_BATCH_SIZE,
  LOCATIONS,
  QUANTITY_NAMES,
  SHOP_INFO,
  type CatalogData,
  type LevelsAtData,
  type LocationsData,
} from "../../../app/channels/shopify/operations";
import { SHOP, TOKEN, manyProducts, seedShop } from "./fixtures";
import { startLocalShopify } from "./server";

const local = await startLocalShopify();
afterAll(() => local.close());

beforeEach(() => {
  local.sandbox.reset();
  local.sandbox.createShop(
    seedShop({
      locations: [{ name: "WH" }, { name: "Store" }, { name: "Old", isActive: false }],
    }),
  );
});

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${local.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body,
  });
}

describe("operations.ts documents", () => {
  it("SHOP_INFO returns the shop and the granted scopes", async () => {
    const { status, body } = await local.graphql<{
      shop: { id: string; name: string; myshopifyDomain: string };
      currentAppInstallation: { accessScopes: { handle: string }[] };
    }>(SHOP, SHOP_INFO);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data?.shop).toEqual({
      id: expect.stringMatching(/^gid:\/\/shopify\/Shop\/\d+$/),
      name: "Sandbox Test",
      myshopifyDomain: SHOP,
    });
    expect(body.data?.currentAppInstallation.accessScopes.map((s) => s.handle)).toContain(
      "write_inventory",
    );
  });

  it("LOCATIONS lists active locations in location order", async () => {
    const { body } = await local.graphql<LocationsData>(SHOP, LOCATIONS, { first: 50 });
    expect(body.data?.locations.nodes.map((l) => l.name)).toEqual(["WH", "Store"]);
    expect(body.data?.locations.nodes[0]).toEqual({
      id: expect.stringMatching(/^gid:\/\/shopify\/Location\/\d+$/),
      name: "WH",
      isActive: true,
      fulfillsOnlineOrders: true,
    });
    expect(body.data?.locations.pageInfo).toEqual({
      hasNextPage: false,
      endCursor: expect.any(String),
    });
    const all = await local.graphql<LocationsData>(
      SHOP,
      `{ locations(first: 10, includeInactive: true) { nodes { name isActive } } }`,
    );
    expect(all.body.data?.locations.nodes).toEqual([
      { name: "WH", isActive: true },
      { name: "Store", isActive: true },
      { name: "Old", isActive: false },
    ]);
  });

  it("CATALOG returns every variant with its product and inventory item", async () => {
    const { body } = await local.graphql<CatalogData>(SHOP, CATALOG, { first: CATALOG_PAGE_SIZE });
    expect(body.errors).toBeUndefined();
    const page = body.data?.productVariants;
    expect(page?.pageInfo).toEqual({ hasNextPage: false, endCursor: expect.any(String) });
    expect(page?.nodes).toEqual([
      {
        id: expect.stringMatching(/^gid:\/\/shopify\/ProductVariant\/\d+$/),
        sku: "SHIRT-S",
        title: "S",
        displayName: "Shirt - S",
        inventoryPolicy: "DENY",
        barcode: null,
        price: "20.00",
        product: {
          id: expect.stringMatching(/^gid:\/\/shopify\/Product\/\d+$/),
          title: "Shirt",
          status: "ACTIVE",
        },
        inventoryItem: {
          id: expect.stringMatching(/^gid:\/\/shopify\/InventoryItem\/\d+$/),
          tracked: true,
        },
      },
      expect.objectContaining({ sku: "SHIRT-M", displayName: "Shirt - M" }),
    ]);
  });

  it("LEVELS_AT_LOCATION reads up to 250 items at one location, null for unknown items", async () => {
    const catalog = await local.graphql<CatalogData>(SHOP, CATALOG, { first: CATALOG_PAGE_SIZE });
    const itemIds = catalog.body.data?.productVariants.nodes.map((n) => n.inventoryItem.id) ?? [];
    const locations = await local.graphql<LocationsData>(SHOP, LOCATIONS, { first: 10 });
    const store = locations.body.data?.locations.nodes[1]?.id ?? "";
    const ids = [...itemIds, "gid://shopify/InventoryItem/1"];
    const { body } = await local.graphql<LevelsAtData>(SHOP, LEVELS_AT_LOCATION, {
      ids,
      locationId: store,
    });
    expect(body.errors).toBeUndefined();
    const nodes = body.data?.nodes ?? [];
    expect(nodes).toHaveLength(3);
    expect(nodes[0]?.id).toBe(itemIds[0]);
    expect(nodes[0]?.inventoryLevel?.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(nodes[0]?.inventoryLevel?.quantities).toEqual(
      QUANTITY_NAMES.map((name) => ({
        name,
        quantity: { available: 4, on_hand: 5, damaged: 1 }[name as string] ?? 0,
      })),
    );
    expect(nodes[1]).toEqual({ id: itemIds[1], inventoryLevel: null }); // not stocked at Store
    expect(nodes[2]).toBeNull();

    const full = Array.from({ length: LEVELS_BATCH_SIZE }, (_, i) => itemIds[i % 2] ?? "");
    const big = await local.graphql<LevelsAtData>(SHOP, LEVELS_AT_LOCATION, {
      ids: full,
      locationId: store,
    });
    expect(big.body.data?.nodes).toHaveLength(250);
  });
});

describe("pagination", () => {
  it("walks every variant exactly once with the adapter's page size", async () => {
    const total = Math.floor(CATALOG_PAGE_SIZE * 2.5);
    local.sandbox.reset();
    local.sandbox.createShop(seedShop({ products: manyProducts(total) }));
    // Delete one in the middle so ids have a gap.
    const shop = local.sandbox.shop(SHOP);
    // Three full pages cost 3 × 752 points, more than the default bucket holds: lift it here
    // (throttling has its own tests).
    shop.bucket.configure({ maximumAvailable: 1_000_000, restoreRate: 1_000_000 });
    shop.bucket.force(1_000_000);
    const victim = [...shop.products.values()][40];
    local.sandbox.deleteProduct(SHOP, String(victim?.id));
    for (const pageSize of [CATALOG_PAGE_SIZE, 7]) {
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const response: { body: { data?: CatalogData; errors?: unknown } } =
          await local.graphql<CatalogData>(SHOP, CATALOG, { first: pageSize, after });
        expect(response.body.errors).toBeUndefined();
        const page: CatalogData["productVariants"] | undefined =
          response.body.data?.productVariants;
        if (!page) throw new Error("no data");
        seen.push(...page.nodes.map((n) => n.sku ?? ""));
        pages += 1;
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      const variants = total - 1; // minus the deleted product
      expect(pages).toBe(Math.ceil(variants / pageSize));
      expect(seen).toHaveLength(variants);
      expect(new Set(seen).size).toBe(variants);
      expect(seen).not.toContain("SKU-0041");
    }
  });

  it("supports edges, cursors and backwards pages", async () => {
    local.sandbox.reset();
    local.sandbox.createShop(seedShop({ products: manyProducts(5) }));
    const query = `query($first: Int, $last: Int, $after: String, $before: String) {
      productVariants(first: $first, last: $last, after: $after, before: $before) {
        edges { cursor node { sku } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }`;
    type Data = {
      productVariants: {
        edges: { cursor: string; node: { sku: string } }[];
        pageInfo: {
          hasNextPage: boolean;
          hasPreviousPage: boolean;
          startCursor: string;
          endCursor: string;
        };
      };
    };
    const first = await local.graphql<Data>(SHOP, query, { first: 2 });
    const page1 = first.body.data?.productVariants;
    expect(page1?.edges.map((e) => e.node.sku)).toEqual(["SKU-0001", "SKU-0002"]);
    expect(page1?.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(page1?.pageInfo.endCursor).toBe(page1?.edges[1]?.cursor);
    expect(page1?.pageInfo.endCursor).not.toContain("SKU");
    const second = await local.graphql<Data>(SHOP, query, {
      first: 2,
      after: page1?.pageInfo.endCursor,
    });
    expect(second.body.data?.productVariants.edges.map((e) => e.node.sku)).toEqual([
      "SKU-0003",
      "SKU-0004",
    ]);
    expect(second.body.data?.productVariants.pageInfo.hasPreviousPage).toBe(true);
    const last = await local.graphql<Data>(SHOP, query, { last: 2 });
    expect(last.body.data?.productVariants.edges.map((e) => e.node.sku)).toEqual([
      "SKU-0004",
      "SKU-0005",
    ]);
    const bad = await local.graphql(SHOP, query, { first: 2, after: "not-a-cursor" });
    expect(bad.body.errors?.[0]?.message).toMatch(/cursor/i);
  });

  it("rejects first above 250 and a missing first/last", async () => {
    const over = await local.graphql(SHOP, `{ locations(first: 251) { nodes { id } } }`);
    expect(over.body.errors?.[0]?.message).toMatch(/250/);
    const none = await local.graphql(SHOP, `{ locations { nodes { id } } }`);
    expect(none.body.errors?.[0]?.message).toBe("you must provide one of first or last");
  });

  it("filters productVariants by the search query", async () => {
    const { body } = await local.graphql<{ productVariants: { nodes: { sku: string }[] } }>(
      SHOP,
      `{ productVariants(first: 10, query: "sku:SHIRT-M") { nodes { sku } } }`,
    );
    expect(body.data?.productVariants.nodes).toEqual([{ sku: "SHIRT-M" }]);
  });
});

describe("nodes, quantities and lookups", () => {
  it("resolves fragments on several node types and reports invalid ids", async () => {
    const shop = local.sandbox.shop(SHOP);
    const variant = [...shop.variants.values()][0];
    const location = shop.orderedLocations()[0];
    const { body } = await local.graphql<{ nodes: unknown[] }>(
      SHOP,
      `query($ids: [ID!]!) { nodes(ids: $ids) {
        __typename
        ... on ProductVariant { sku }
        ... on Location { name }
      } }`,
      {
        ids: [
          `gid://shopify/ProductVariant/${variant?.id}`,
          `gid://shopify/Location/${location?.id}`,
        ],
      },
    );
    expect(body.data?.nodes).toEqual([
      { __typename: "ProductVariant", sku: "SHIRT-S" },
      { __typename: "Location", name: "WH" },
    ]);
    const invalid = await local.graphql(SHOP, `{ node(id: "nope") { id } }`);
    expect(invalid.body.errors?.[0]?.message).toBe("Invalid global id 'nope'");
  });

  it("returns the requested quantity names in order and rejects unknown names", async () => {
    const shop = local.sandbox.shop(SHOP);
    const item = [...shop.items.values()][0];
    const location = shop.orderedLocations()[1];
    const query = `query($item: ID!, $location: ID!) {
      inventoryItem(id: $item) { inventoryLevel(locationId: $location) {
        id quantities(names: ["damaged", "on_hand", "available"]) { name quantity }
      } }
    }`;
    const vars = {
      item: `gid://shopify/InventoryItem/${item?.id}`,
      location: `gid://shopify/Location/${location?.id}`,
    };
    const { body } = await local.graphql<{
      inventoryItem: { inventoryLevel: { id: string; quantities: unknown[] } };
    }>(SHOP, query, vars);
    expect(body.data?.inventoryItem.inventoryLevel).toEqual({
      id: `gid://shopify/InventoryLevel/${location?.id}?inventory_item_id=${item?.id}`,
      quantities: [
        { name: "damaged", quantity: 1 },
        { name: "on_hand", quantity: 5 },
        { name: "available", quantity: 4 },
      ],
    });
    const bad = await local.graphql(SHOP, query.replace('"damaged"', '"bogus"'), vars);
    expect(bad.body.errors?.[0]?.message).toMatch(/bogus/);
  });

  it("rejects more than 250 ids", async () => {
    const ids = Array.from({ length: 251 }, (_, i) => `gid://shopify/InventoryItem/${i + 1}`);
    const { body } = await local.graphql(SHOP, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, {
      ids,
    });
    expect(body.errors?.[0]?.extensions?.code).toBe("MAX_INPUT_SIZE_EXCEEDED");
    expect(body.data).toBeUndefined();
  });

  it("reports GraphQL validation errors with a cost extension", async () => {
    const { status, body } = await local.graphql(SHOP, `{ shop { nope } }`);
    expect(status).toBe(200);
    expect(body.errors?.[0]?.message).toMatch(/nope/);
    expect(body.extensions?.cost.throttleStatus.maximumAvailable).toBe(2000);
  });
});

describe("HTTP surface", () => {
  const path = `/${SHOP}/admin/api/2026-10/graphql.json`;
  const query = JSON.stringify({ query: "{ shop { name } }" });

  it("rejects a wrong token with 401 and Shopify's message", async () => {
    const response = await post(path, query, { "X-Shopify-Access-Token": "wrong" });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      errors: "[API] Invalid API key or access token (unrecognized login or wrong password)",
    });
    const missing = await post(path, query);
    expect(missing.status).toBe(401);
  });

  it("answers 404 for unknown shops and other API versions", async () => {
    const unknown = await post(`/nope.myshopify.com/admin/api/2026-10/graphql.json`, query, {
      "X-Shopify-Access-Token": TOKEN,
    });
    expect(unknown.status).toBe(404);
    const version = await post(`/${SHOP}/admin/api/2025-10/graphql.json`, query, {
      "X-Shopify-Access-Token": TOKEN,
    });
    expect(version.status).toBe(404);
    expect(await version.json()).toEqual({ errors: "Not Found" });
  });

  it("answers 400 for a malformed body", async () => {
    const response = await post(path, "{not json", { "X-Shopify-Access-Token": TOKEN });
    expect(response.status).toBe(400);
  });

  it("accepts operationName and variables", async () => {
    const response = await post(
      path,
      JSON.stringify({
        query:
          "query A { shop { name } } query B($n: Int!) { locations(first: $n) { nodes { name } } }",
        operationName: "B",
        variables: { n: 1 },
      }),
      { "X-Shopify-Access-Token": TOKEN },
    );
    const body = (await response.json()) as { data: unknown };
    expect(body.data).toEqual({ locations: { nodes: [{ name: "WH" }] } });
  });
});

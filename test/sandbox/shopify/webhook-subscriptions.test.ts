import { createHmac } from "node:crypto";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { SHOP, TOKEN, seedShop, startReceiver, type Receiver } from "./fixtures";
import { startLocalShopify } from "./server";

const CUSTOM_SECRET = "custom-app-secret";
const SECOND_TOKEN = "shpat_second_custom_app";
const SECOND_SECRET = "second-custom-app-secret";

const local = await startLocalShopify({ timeScale: 0.0002, rngSeed: 99 });
afterAll(() => local.close());
const sb = local.sandbox;

let receiver: Receiver;

beforeEach(async () => {
  sb.reset();
  sb.timeScale = 0.0002;
  sb.createShop(
    seedShop({
      apiSecret: CUSTOM_SECRET,
      customApps: [
        {
          accessToken: SECOND_TOKEN,
          apiSecret: SECOND_SECRET,
          title: "Second",
          accessScopes: ["read_orders", "read_products"],
        },
      ],
    }),
  );
  receiver = await startReceiver();
});
afterEach(() => receiver.close());

type Sub = { id: string; topic: string; uri: string; includeFields: string[]; name: string | null };
type Payload = {
  webhookSubscription: Sub | null;
  userErrors: { field: string[]; message: string }[];
};

const FIELDS = "id topic uri includeFields name format filter createdAt updatedAt";

async function create(
  topic: string,
  input: Record<string, unknown>,
  token = TOKEN,
): Promise<Payload> {
  const { body } = await local.graphql<{ webhookSubscriptionCreate: Payload }>(
    SHOP,
    `mutation Create($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
      webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
        webhookSubscription { ${FIELDS} }
        userErrors { field message }
      }
    }`,
    { topic, sub: input },
    { token },
  );
  expect(body.errors).toBeUndefined();
  return body.data!.webhookSubscriptionCreate;
}

type Page = {
  nodes: Sub[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
};

async function list(args: Record<string, unknown>, token = TOKEN): Promise<Page> {
  const { body } = await local.graphql<{ webhookSubscriptions: Page }>(
    SHOP,
    `query List($first: Int, $after: String, $topics: [WebhookSubscriptionTopic!], $uri: String, $reverse: Boolean) {
      webhookSubscriptions(first: $first, after: $after, topics: $topics, uri: $uri, reverse: $reverse) {
        nodes { ${FIELDS} }
        pageInfo { hasNextPage endCursor }
      }
    }`,
    args,
    { token },
  );
  expect(body.errors).toBeUndefined();
  return body.data!.webhookSubscriptions;
}

function signedBy(secret: string, body: string, header: unknown): boolean {
  return createHmac("sha256", secret).update(body, "utf8").digest("base64") === header;
}

describe("webhookSubscriptionCreate", () => {
  it("subscribes a custom-app store; deliveries carry the REST topic and that app's signature", async () => {
    const orders = await create("ORDERS_CREATE", {
      uri: `${receiver.url}/orders`,
      name: "stockguard-orders",
    });
    expect(orders.userErrors).toEqual([]);
    expect(orders.webhookSubscription).toMatchObject({
      id: expect.stringMatching(/^gid:\/\/shopify\/WebhookSubscription\/\d+$/),
      topic: "ORDERS_CREATE",
      uri: `${receiver.url}/orders`,
      format: "JSON",
      includeFields: [],
      name: "stockguard-orders",
    });
    const levels = await create("INVENTORY_LEVELS_UPDATE", {
      uri: `${receiver.url}/levels`,
      includeFields: ["inventory_item_id", "available"],
    });
    expect(levels.userErrors).toEqual([]);

    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    const byPath = new Map(receiver.requests.map((r) => [r.path, r]));
    expect([...byPath.keys()].sort()).toEqual(["/levels", "/orders"]);
    const order = byPath.get("/orders")!;
    expect(order.headers["x-shopify-topic"]).toBe("orders/create");
    expect(order.headers["x-shopify-name"]).toBe("stockguard-orders");
    expect(order.headers["x-shopify-shop-domain"]).toBe(SHOP);
    expect(signedBy(CUSTOM_SECRET, order.body, order.headers["x-shopify-hmac-sha256"])).toBe(true);
    const level = byPath.get("/levels")!;
    expect(level.headers["x-shopify-topic"]).toBe("inventory_levels/update");
    expect(Object.keys(JSON.parse(level.body) as object).sort()).toEqual([
      "available",
      "inventory_item_id",
    ]);
    expect(
      sb
        .deliveries(SHOP)
        .map((d) => d.subscriptionId)
        .sort(),
    ).toEqual([orders.webhookSubscription?.id, levels.webhookSubscription?.id].sort());
  });

  it("delivers through the same machinery: duplicates and retries", async () => {
    await create("ORDERS_CREATE", { uri: `${receiver.url}/orders` });
    sb.configureDelivery({ duplicateProbability: 1 }, SHOP);
    receiver.respond = (n) => (n === 0 ? 500 : 200);
    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    const deliveries = sb.deliveries(SHOP);
    expect(deliveries.map((d) => d.duplicate).sort()).toEqual([false, true]);
    expect(new Set(deliveries.map((d) => d.eventId)).size).toBe(1);
    expect(deliveries.every((d) => d.state === "delivered")).toBe(true);
    expect(deliveries.map((d) => d.attempts.length).sort()).toEqual([1, 2]);
  });

  it("answers userErrors for a bad uri, a duplicate, a topic without scope, a format it lacks", async () => {
    const uri = `${receiver.url}/orders`;
    expect((await create("ORDERS_CREATE", { uri })).userErrors).toEqual([]);
    const cases: [string, Record<string, unknown>, string[], RegExp][] = [
      ["ORDERS_CREATE", { uri }, ["webhookSubscription", "uri"], /already been taken/],
      ["ORDERS_CREATE", { uri: "not a url" }, ["webhookSubscription", "uri"], /invalid/],
      ["ORDERS_CREATE", { uri: "ftp://example.com/x" }, ["webhookSubscription", "uri"], /invalid/],
      ["ORDERS_CREATE", {}, ["webhookSubscription", "uri"], /blank/],
      [
        "ORDERS_CREATE",
        { uri: "pubsub://project:topic" },
        ["webhookSubscription", "uri"],
        /not supported/,
      ],
      ["ORDERS_UPDATED", { uri, format: "XML" }, ["webhookSubscription", "format"], /JSON/],
    ];
    for (const [topic, input, field, message] of cases) {
      const { webhookSubscription, userErrors } = await create(topic, input);
      expect(webhookSubscription).toBeNull();
      expect(userErrors).toHaveLength(1);
      expect(userErrors[0]?.field).toEqual(field);
      expect(userErrors[0]?.message).toMatch(message);
    }
    // The second custom app lacks read_inventory: levels are refused; inventory items need
    // read_inventory or read_products; app/uninstalled needs nothing.
    const denied = await create("INVENTORY_LEVELS_UPDATE", { uri }, SECOND_TOKEN);
    expect(denied.userErrors).toEqual([
      {
        field: ["topic"],
        message: expect.stringMatching(
          /permission .* inventory_levels\/update .*`read_inventory`/,
        ) as unknown,
      },
    ]);
    expect((await create("INVENTORY_ITEMS_CREATE", { uri }, SECOND_TOKEN)).userErrors).toEqual([]);
    expect((await create("APP_UNINSTALLED", { uri }, SECOND_TOKEN)).userErrors).toEqual([]);
    // The same topic and uri by another app is not a duplicate.
    expect((await create("ORDERS_CREATE", { uri }, SECOND_TOKEN)).userErrors).toEqual([]);
    expect(sb.webhookSubscriptions(SHOP)).toHaveLength(4);
  });

  it("refuses an unknown topic the way GraphQL refuses any value outside the enum", async () => {
    const { status, body } = await local.graphql(
      SHOP,
      `mutation { webhookSubscriptionCreate(topic: ORDERS_CREATED, webhookSubscription: { uri: "https://example.com" }) { userErrors { message } } }`,
    );
    expect(status).toBe(200);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.message).toMatch(/ORDERS_CREATED/);
    const viaVariable = await local.graphql(
      SHOP,
      `mutation M($t: WebhookSubscriptionTopic!) { webhookSubscriptionCreate(topic: $t, webhookSubscription: { uri: "https://example.com" }) { userErrors { message } } }`,
      { t: "orders/create" },
    );
    expect(viaVariable.body.errors?.[0]?.message).toMatch(/WebhookSubscriptionTopic/);
    expect(sb.webhookSubscriptions(SHOP)).toEqual([]);
  });

  it("costs 10 points and is throttled like any mutation", async () => {
    const uri = `${receiver.url}/orders`;
    const created = await local.graphql(
      SHOP,
      `mutation { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: { uri: "${uri}" }) { webhookSubscription { id } userErrors { message } } }`,
    );
    expect(created.body.extensions?.cost).toMatchObject({
      requestedQueryCost: 10,
      actualQueryCost: 10,
    });
    sb.shop(SHOP).bucket.force(5);
    const throttled = await local.graphql(
      SHOP,
      `mutation { webhookSubscriptionCreate(topic: ORDERS_UPDATED, webhookSubscription: { uri: "${uri}" }) { webhookSubscription { id } userErrors { message } } }`,
    );
    expect(throttled.body.errors?.[0]?.extensions?.code).toBe("THROTTLED");
    expect(sb.webhookSubscriptions(SHOP).map((s) => s.topic)).toEqual(["orders/create"]);
  });
});

describe("webhookSubscriptions", () => {
  it("pages with first/after, filters by topics and uri, and shows each app only its own", async () => {
    const topics = ["ORDERS_CREATE", "ORDERS_UPDATED", "REFUNDS_CREATE", "PRODUCTS_UPDATE"];
    for (const topic of topics) {
      expect((await create(topic, { uri: `${receiver.url}/${topic}` })).userErrors).toEqual([]);
    }
    await create("ORDERS_CREATE", { uri: `${receiver.url}/second` }, SECOND_TOKEN);

    const first = await list({ first: 3 });
    expect(first.nodes.map((n) => n.topic)).toEqual(topics.slice(0, 3));
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await list({ first: 3, after: first.pageInfo.endCursor });
    expect(second.nodes.map((n) => n.topic)).toEqual(["PRODUCTS_UPDATE"]);
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect((await list({ first: 10, reverse: true })).nodes.map((n) => n.topic)).toEqual(
      [...topics].reverse(),
    );

    const orders = await list({ first: 10, topics: ["ORDERS_CREATE", "ORDERS_UPDATED"] });
    expect(orders.nodes.map((n) => n.topic)).toEqual(["ORDERS_CREATE", "ORDERS_UPDATED"]);
    const byUri = await list({ first: 10, uri: `${receiver.url}/REFUNDS_CREATE` });
    expect(byUri.nodes.map((n) => n.topic)).toEqual(["REFUNDS_CREATE"]);
    expect((await list({ first: 10 }, SECOND_TOKEN)).nodes.map((n) => n.uri)).toEqual([
      `${receiver.url}/second`,
    ]);
  });

  it("reads the documents @shopify/shopify-api's registerWebhooks sends (callbackUrl, endpoint)", async () => {
    // TEMPLATE_MUTATION and TEMPLATE_GET_HANDLERS of lib/webhooks/register.ts, filled in.
    const created = await local.graphql(
      SHOP,
      `mutation shopifyApiCreateWebhookSubscription {
        webhookSubscriptionCreate(topic: APP_UNINSTALLED, webhookSubscription: {callbackUrl: "${receiver.url}/uninstalled", includeFields: ["id"]}) {
          userErrors { field message }
        }
      }`,
    );
    expect(created.body).toMatchObject({ data: { webhookSubscriptionCreate: { userErrors: [] } } });
    const read = await local.graphql<{ webhookSubscriptions: { edges: { node: unknown }[] } }>(
      SHOP,
      `query shopifyApiReadWebhookSubscriptions {
        webhookSubscriptions(first: 250, after: null) {
          edges { node { id topic includeFields metafieldNamespaces
            endpoint { __typename
              ... on WebhookHttpEndpoint { callbackUrl }
              ... on WebhookEventBridgeEndpoint { arn }
              ... on WebhookPubSubEndpoint { pubSubProject pubSubTopic } } } }
          pageInfo { endCursor hasNextPage }
        }
      }`,
    );
    expect(read.body.errors).toBeUndefined();
    expect(read.body.data?.webhookSubscriptions.edges).toEqual([
      {
        node: {
          id: expect.any(String),
          topic: "APP_UNINSTALLED",
          includeFields: ["id"],
          metafieldNamespaces: [],
          endpoint: {
            __typename: "WebhookHttpEndpoint",
            callbackUrl: `${receiver.url}/uninstalled`,
          },
        },
      },
    ]);
    expect(read.body.extensions?.cost.requestedQueryCost).toBe(2 + 250 * 2);
  });
});

describe("webhookSubscriptionUpdate / webhookSubscriptionDelete", () => {
  it("updates and deletes the caller's own subscriptions only", async () => {
    const a = (await create("ORDERS_CREATE", { uri: `${receiver.url}/a` })).webhookSubscription!;
    await create("ORDERS_CREATE", { uri: `${receiver.url}/b` });
    const update = (id: string, sub: Record<string, unknown>, token = TOKEN) =>
      local.graphql<{ webhookSubscriptionUpdate: Payload }>(
        SHOP,
        `mutation U($id: ID!, $sub: WebhookSubscriptionInput!) {
          webhookSubscriptionUpdate(id: $id, webhookSubscription: $sub) {
            webhookSubscription { ${FIELDS} } userErrors { field message } } }`,
        { id, sub },
        { token },
      );
    const remove = (id: string, token = TOKEN) =>
      local.graphql<{
        webhookSubscriptionDelete: {
          deletedWebhookSubscriptionId: string | null;
          userErrors: unknown[];
        };
      }>(
        SHOP,
        `mutation D($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } } }`,
        { id },
        { token },
      );

    const moved = await update(a.id, { uri: `${receiver.url}/a2`, includeFields: ["id"] });
    expect(moved.body.data?.webhookSubscriptionUpdate).toMatchObject({
      userErrors: [],
      webhookSubscription: { uri: `${receiver.url}/a2`, includeFields: ["id"] },
    });
    const clash = await update(a.id, { uri: `${receiver.url}/b` });
    expect(clash.body.data?.webhookSubscriptionUpdate.userErrors[0]?.message).toMatch(/taken/);
    const foreign = await update(a.id, { uri: `${receiver.url}/c` }, SECOND_TOKEN);
    expect(foreign.body.data?.webhookSubscriptionUpdate.userErrors).toEqual([
      { field: ["id"], message: "Webhook subscription does not exist" },
    ]);

    expect((await remove(a.id, SECOND_TOKEN)).body.data?.webhookSubscriptionDelete).toMatchObject({
      deletedWebhookSubscriptionId: null,
      userErrors: [{ field: ["id"] }],
    });
    expect((await remove(a.id)).body.data?.webhookSubscriptionDelete).toEqual({
      deletedWebhookSubscriptionId: a.id,
      userErrors: [],
    });
    expect((await remove(a.id)).body.data?.webhookSubscriptionDelete.userErrors).toHaveLength(1);

    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(receiver.requests.map((r) => r.path)).toEqual(["/b"]);
  });

  it("lets the merchant delete one through the control API, so an app can find it missing", async () => {
    const created = (await create("ORDERS_CREATE", { uri: `${receiver.url}/orders` }))
      .webhookSubscription!;
    const listed = await fetch(
      `${local.url}/_control/shops/${SHOP}/webhook-subscriptions?topic=ORDERS_CREATE`,
    );
    expect(await listed.json()).toEqual({
      subscriptions: [
        {
          id: created.id,
          topic: "orders/create",
          graphqlTopic: "ORDERS_CREATE",
          uri: `${receiver.url}/orders`,
          app: expect.stringMatching(/^custom:\d+$/),
          appTitle: "Custom app",
          format: "JSON",
          filter: null,
          includeFields: [],
          name: null,
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        },
      ],
    });
    const deleted = await fetch(
      `${local.url}/_control/shops/${SHOP}/webhook-subscriptions/${encodeURIComponent(created.id)}`,
      { method: "DELETE" },
    );
    expect(await deleted.json()).toEqual({ deletedWebhookSubscriptionId: created.id });
    const again = await fetch(
      `${local.url}/_control/shops/${SHOP}/webhook-subscriptions/${encodeURIComponent(created.id)}`,
      { method: "DELETE" },
    );
    expect(again.status).toBe(404);

    // The app's "verify and recreate": the subscription is gone, nothing is delivered…
    expect((await list({ first: 10, topics: ["ORDERS_CREATE"] })).nodes).toEqual([]);
    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(receiver.requests).toEqual([]);
    // …until it creates it again.
    expect((await create("ORDERS_CREATE", { uri: `${receiver.url}/orders` })).userErrors).toEqual(
      [],
    );
    sb.checkout(SHOP, { lines: [{ sku: "SHIRT-S", quantity: 1 }] });
    expect(await sb.waitForWebhooksIdle(5_000)).toBe(true);
    expect(receiver.requests.map((r) => r.path)).toEqual(["/orders"]);
  });
});

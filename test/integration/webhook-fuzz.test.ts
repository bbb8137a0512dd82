import fc from "fast-check";
import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { DomainError } from "../../app/domain/errors";
import { ingestReceipt } from "../../app/services/ingest/ingest-receipt.server";
import { addSalesConnection, seedShop } from "../factories/shop";
import { shopifyWebhookRequest } from "../helpers/webhooks";

/**
 * Fuzz of the webhook edge (issue 9): whatever arrives — any topic, any shop header, any JSON
 * shaped like an order with hostile values (huge, negative, fractional, NUL, lone surrogates,
 * far-future dates, ids past 2^53), signed or not — the answer is never a 5xx, and anything
 * stored either applies or fails for good: no input can make a job retry forever.
 */
type Action = (args: {
  request: Request;
  params: Record<string, string>;
  context: object;
}) => Promise<Response>;

const routes = import.meta.glob<{ action: Action }>("../../app/routes/webhooks.*.tsx");
const ROUTES = ["orders", "refunds", "fulfillments", "inventory_levels.update", "catalog"];
const TOPICS = [
  "orders/create",
  "orders/updated",
  "orders/cancelled",
  "refunds/create",
  "fulfillments/create",
  "inventory_levels/update",
  "products/update",
];

async function post(route: string, request: Request): Promise<Response> {
  const file = Object.keys(routes).find((f) => f.endsWith(`/webhooks.${route}.tsx`))!;
  const { action } = await routes[file]!();
  try {
    return await action({ request, params: {}, context: {} });
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

const hostile = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(
    3_000_000_000,
    2 ** 53 + 2,
    -1,
    1.5,
    1e300,
    "",
    "\u0000",
    "a\ud800b",
    "9".repeat(30),
    "+275760-09-13T00:00:00Z",
    "2026-13-45T99:99:99Z",
    null,
    true,
  ),
  fc.string({ maxLength: 40 }),
  fc.array(fc.integer(), { maxLength: 3 }),
);

const dates = fc.constantFrom(
  "2026-11-26T10:00:00Z",
  "2026-11-26T10:00:01-05:00",
  "2026-11-27T09:00:00.123Z",
);
const validLine = fc.record({
  id: fc.integer({ min: 1, max: 50 }),
  variant_id: fc.integer({ min: 1, max: 5 }),
  sku: fc.constantFrom("FZ-1", "FZ-2", "MISSING"),
  quantity: fc.integer({ min: 0, max: 5 }),
});
/** A valid payload of each route's topics, then a few fields replaced by hostile values. */
const valid: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  orders: fc.record({
    id: fc.integer({ min: 1, max: 200 }),
    created_at: dates,
    updated_at: dates,
    cancelled_at: fc.oneof(fc.constant(null), dates),
    line_items: fc.array(validLine, { minLength: 1, maxLength: 3 }),
    refunds: fc.constant([]),
    fulfillments: fc.constant([]),
  }),
  refunds: fc.record({
    id: fc.integer({ min: 1, max: 200 }),
    order_id: fc.integer({ min: 1, max: 200 }),
    created_at: dates,
    refund_line_items: fc.array(
      fc.record({
        line_item_id: fc.integer({ min: 1, max: 50 }),
        quantity: fc.integer({ min: 0, max: 3 }),
        restock_type: fc.constantFrom("return", "cancel", "no_restock"),
      }),
      { maxLength: 2 },
    ),
  }),
  fulfillments: fc.record({
    id: fc.integer({ min: 1, max: 200 }),
    order_id: fc.integer({ min: 1, max: 200 }),
    status: fc.constantFrom("success", "cancelled"),
    line_items: fc.array(validLine, { maxLength: 2 }),
  }),
  "inventory_levels.update": fc.record({
    inventory_item_id: fc.integer({ min: 1, max: 3 }),
    location_id: fc.constant(1),
    available: fc.integer({ min: -3, max: 20 }),
    updated_at: dates,
  }),
  catalog: fc.record({ id: fc.integer({ min: 1, max: 50 }), title: fc.string({ maxLength: 20 }) }),
};
const ROUTE_TOPICS: Record<string, string[]> = {
  orders: ["orders/create", "orders/updated", "orders/cancelled"],
  refunds: ["refunds/create"],
  fulfillments: ["fulfillments/create", "fulfillments/update"],
  "inventory_levels.update": ["inventory_levels/update"],
  catalog: ["products/update"],
};
const PATHS = [
  "id",
  "order_id",
  "updated_at",
  "created_at",
  "cancelled_at",
  "status",
  "available",
  "inventory_item_id",
  "line_items",
  "line_items.0.id",
  "line_items.0.quantity",
  "line_items.0.sku",
  "line_items.0.variant_id",
  "refund_line_items.0.quantity",
  "refund_line_items.0.restock_type",
];

function mutate(body: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let target: unknown = body;
  for (const key of keys.slice(0, -1)) {
    target = (target as Record<string, unknown> | undefined)?.[key];
    if (typeof target !== "object" || target === null) return;
  }
  (target as Record<string, unknown>)[keys[keys.length - 1]!] = value;
}

const delivery = fc.constantFrom(...ROUTES).chain((route) =>
  fc.record({
    route: fc.constant(route),
    topic: fc.oneof(
      { arbitrary: fc.constantFrom(...ROUTE_TOPICS[route]!), weight: 9 },
      { arbitrary: fc.oneof(fc.constantFrom(...TOPICS), fc.string({ maxLength: 30 })), weight: 1 },
    ),
    body: fc
      .tuple(
        valid[route]!,
        fc.array(fc.tuple(fc.constantFrom(...PATHS), hostile), { maxLength: 2 }),
      )
      .map(([base, mutations]) => {
        const body = structuredClone(base);
        for (const [path, value] of mutations) mutate(body, path, value);
        return body;
      }),
  }),
);

describe("webhook edge fuzz", () => {
  it("never answers 5xx, and whatever it stores applies or fails for good", async () => {
    const shop = await seedShop(prisma, {
      items: [
        { sku: "FZ-1", onHand: 5 },
        { sku: "FZ-2", onHand: 5 },
      ],
    });
    const sales = await addSalesConnection(prisma, shop, { name: "fuzz" });
    const salesDomain = (
      await prisma.connection.findUniqueOrThrow({ where: { id: sales.connectionId } })
    ).accountRef;
    let stored = 0;
    await fc.assert(
      fc.asyncProperty(
        delivery,
        fc.constantFrom(shop.domain, salesDomain, salesDomain, "stranger.myshopify.com", ""),
        fc.constantFrom("signed", "signed", "signed", "signed", "unsigned", "wrong"),
        fc.oneof(
          { arbitrary: fc.constant(null), weight: 9 },
          { arbitrary: fc.constantFrom("not json", '{"id":', "[]", "null", "1e999"), weight: 1 },
        ),
        async ({ route, topic, body }, domain, signing, rawBody) => {
          const before = await prisma.receipt.findMany({
            where: { shopId: shop.shopId },
            select: { id: true },
          });
          const response = await post(
            route,
            shopifyWebhookRequest({
              topic,
              shop: domain,
              body,
              rawBody: rawBody ?? undefined,
              unsigned: signing === "unsigned",
              signWith: signing === "wrong" ? "another-secret" : undefined,
              url: `https://stockguard.test/webhooks/${route}`,
            }),
          );
          expect([200, 400, 401, 405, 413]).toContain(response.status);
          if (process.env.FUZZ_DEBUG)
            console.log(
              route,
              topic,
              domain,
              signing,
              response.status,
              await response.clone().text(),
            );
          const known = new Set(before.map((r) => r.id));
          const fresh = await prisma.receipt.findMany({
            where: { shopId: shop.shopId, status: "pending" },
            select: { id: true },
          });
          for (const { id } of fresh.filter((r) => !known.has(r.id))) {
            stored++;
            // Applies, or fails permanently (DomainError → no retry). Anything else would be
            // retried by the queue and revived by the sweeper.
            try {
              await ingestReceipt(id);
            } catch (error) {
              expect(error).toBeInstanceOf(DomainError);
            }
            const after = await prisma.receipt.findUniqueOrThrow({ where: { id } });
            expect(after.status).not.toBe("pending");
          }
        },
      ),
      { numRuns: 250, seed: Number(process.env.FUZZ_SEED ?? 20261201) },
    );
    // The generator reaches the ledger, not just the 400 path.
    expect(stored).toBeGreaterThan(5);
  }, 120_000);
});

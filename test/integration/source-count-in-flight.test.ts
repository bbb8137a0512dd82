import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ConnectionContext } from "../../app/channels/channel-adapter";
import { adapterFor } from "../../app/channels/registry.server";
import prisma from "../../app/db.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { readSourceLevels } from "../../app/services/ingest/read-source-levels.server";
import { pushSourceConnection } from "../../app/services/push/push-source.server";
import { sourceTarget, storeOrder, type LineRefs } from "../factories/deliveries";
import { installSource, startLocalStores } from "../helpers/local-stores";
import type { LocalShopify } from "../sandbox/shopify/server";

/**
 * Issue 11: a count at the source waits while the source's own order events are stored but not
 * applied (counting then could count a shipment twice). It waited for *any* of them: a source
 * that keeps selling always has one in flight, so in the chaos world every receipt of the storm
 * was counted at its end, 6–7 s late, and every channel showed the new units that much later.
 * A count now waits only for the events that touch its own item — resolved to items as the
 * ledger will resolve them — and for all of them when one cannot be placed.
 */
const SOURCE = "in-flight-source.myshopify.com";
let local: LocalShopify;
let shopId: string;
let source: ConnectionContext;
let events = 0;

const variantId = (sku: string) =>
  [...local.sandbox.shop(SOURCE).variants.values()].find((v) => v.sku === sku)!.id;

/** A source order delivered (stored, as the web stores it) but not applied yet. */
const orderInFlight = (refs: LineRefs) =>
  storeOrder(
    sourceTarget({ shopId, sourceConnectionId: source.id }),
    9_000 + ++events,
    "TEE",
    refs,
  );

const onHand = async (sku: string) =>
  (
    await prisma.stockLevel.findFirstOrThrow({
      where: { shopId, item: { sku } },
    })
  ).onHand;

beforeAll(async () => {
  local = await startLocalStores([
    {
      domain: SOURCE,
      products: [
        { title: "Tee", variants: [{ sku: "TEE", inventory: { Warehouse: 10 } }] },
        { title: "Cap", variants: [{ sku: "CAP", inventory: { Warehouse: 10 } }] },
      ],
    },
  ]);
  ({ shopId, source } = await installSource(SOURCE, "token-0"));
  await importCatalog(source, adapterFor("shopify"));
  await pushSourceConnection(source, adapterFor("shopify"), {});
});

afterAll(async () => {
  await local?.close();
});

beforeEach(async () => {
  await prisma.receipt.deleteMany({ where: { connectionId: source.id } });
});

async function flagBoth() {
  await prisma.listing.updateMany({
    where: { connectionId: source.id },
    data: { remoteSource: "webhook" },
  });
}

describe("a count at the source while its own orders are in flight", () => {
  it("counts an item no event in flight touches, and waits for the one an order does", async () => {
    const caps = await onHand("CAP");
    const tees = await onHand("TEE");
    // The merchant receives 4 caps; a tee just sold at the source, its order not applied yet.
    local.sandbox.adjustInventory(SOURCE, { sku: "CAP", name: "available", delta: 4 });
    local.sandbox.adjustInventory(SOURCE, { sku: "TEE", name: "available", delta: 2 });
    await orderInFlight({ sku: "TEE", variant_id: variantId("TEE") });
    await flagBoth();
    expect(await readSourceLevels(source.id, 0)).toMatchObject({ counted: 1, postponed: 1 });
    expect(await onHand("CAP")).toBe(caps + 4);
    expect(await onHand("TEE")).toBe(tees);
    // Once the order is applied, the tee's count goes through too.
    await prisma.receipt.updateMany({
      where: { connectionId: source.id },
      data: { status: "applied" },
    });
    expect(await readSourceLevels(source.id, 1)).toMatchObject({ counted: 1, postponed: 0 });
    expect(await onHand("TEE")).toBe(tees + 2);
  });

  it("places an order line by its variant when it carries no SKU", async () => {
    const caps = await onHand("CAP");
    local.sandbox.adjustInventory(SOURCE, { sku: "CAP", name: "available", delta: 1 });
    await orderInFlight({ sku: null, variant_id: variantId("CAP") });
    await flagBoth();
    expect(await readSourceLevels(source.id, 0)).toMatchObject({ counted: 0, postponed: 1 });
    expect(await onHand("CAP")).toBe(caps);
  });

  it("waits with every item when an event in flight cannot be placed, and records nothing for it", async () => {
    const caps = await onHand("CAP");
    local.sandbox.adjustInventory(SOURCE, { sku: "CAP", name: "available", delta: 3 });
    await orderInFlight({ sku: "NOT-LISTED", variant_id: null });
    await flagBoth();
    expect(await readSourceLevels(source.id, 0)).toMatchObject({ counted: 0, postponed: 2 });
    expect(await onHand("CAP")).toBe(caps);
    // Looking ahead is not ingesting: the line is not reported unmatched before it is applied.
    expect(await prisma.unmatchedLine.count({ where: { shopId } })).toBe(0);
  });
});

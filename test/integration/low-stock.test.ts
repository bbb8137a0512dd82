/**
 * Low stock across channels, from the ledger to Shopify Flow: an item whose units left last a
 * week or less at its recent sales rate fires "Stock ran low across channels" once per episode
 * (checking again fires nothing), the episode ends when the item is no longer low, and the next
 * drop is a new episode with its own trigger. The local Shopify checks each payload against the
 * trigger's TOML fields.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionContext } from "../../app/channels/channel-adapter";
import { adapterFor } from "../../app/channels/registry.server";
import { flowTriggersOfShop } from "../../app/repositories/flow.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { deliverFlowTriggers } from "../../app/services/flow/triggers.server";
import { applyLedgerEvent } from "../../app/services/ledger/apply-event.server";
import { checkLowStock } from "../../app/services/low-stock.server";
import { installSource, startLocalStores } from "../helpers/local-stores";
import { receivedFlowTriggers, rejectedFlowTriggers } from "../sandbox/shopify/flow";
import type { LocalShopify } from "../sandbox/shopify/server";

const SOURCE = "low-stock-source.myshopify.com";
let local: LocalShopify;
let shopId: string;
let source: ConnectionContext;

beforeAll(async () => {
  local = await startLocalStores([
    {
      domain: SOURCE,
      products: [
        { title: "Tee", variants: [{ sku: "TEE", inventory: { Warehouse: 10 } }] },
        { title: "Mug", variants: [{ sku: "MUG", inventory: { Warehouse: 40 } }] },
      ],
    },
  ]);
  ({ shopId, source } = await installSource(SOURCE, "token-0"));
  await importCatalog(source, adapterFor("shopify"));
});

afterAll(async () => {
  await local?.close();
});

async function line(orderId: string, sku: string, command: object): Promise<void> {
  await applyLedgerEvent({
    shopId,
    actor: "test",
    operations: [
      {
        type: "line",
        key: `${source.id}/${orderId}/${JSON.stringify(command)}`,
        connectionId: source.id,
        orderId,
        lineId: "l1",
        sku,
        command: command as never,
      },
    ],
  });
}

const lowTriggers = async () =>
  (await flowTriggersOfShop(shopId)).filter((t) => t.handle === "stock-ran-low");

describe("Stock ran low across channels", () => {
  it("fires once when an item's cover falls to a week, and again only after it recovered", async () => {
    // 8 of 10 tees sold (about 0.6 a day over two weeks): 2 left last 3.5 days. 1 mug of 40.
    await line("o-1", "TEE", { kind: "placed", quantity: 8, version: "2026-12-01T00:00:00.000Z" });
    await line("o-2", "MUG", { kind: "placed", quantity: 1, version: "2026-12-01T00:00:00.000Z" });
    expect(await checkLowStock(new Date(), 7)).toEqual({ entered: 1, cleared: 0 });
    expect(await checkLowStock(new Date(), 7)).toEqual({ entered: 0, cleared: 0 });
    expect(await lowTriggers()).toHaveLength(1);

    await deliverFlowTriggers(source.id);
    const variant = [...local.sandbox.shop(SOURCE).variants.values()].find((v) => v.sku === "TEE")!;
    expect(receivedFlowTriggers(local.sandbox.shop(SOURCE)).map((t) => t.payload)).toEqual([
      {
        product_id: variant.productId,
        "variant id": `gid://shopify/ProductVariant/${variant.id}`,
        sku: "TEE",
        "available to sell": 2,
        "days of cover": 3.5,
      },
    ]);
    expect(rejectedFlowTriggers(local.sandbox.shop(SOURCE))).toEqual([]);

    // Six cancelled: 8 left at 2 sold in two weeks is eight weeks of cover — the episode ends.
    await line("o-1", "TEE", { kind: "cancelled", quantity: 6 });
    expect(await checkLowStock(new Date(), 7)).toEqual({ entered: 0, cleared: 1 });

    // Sold down again: a new episode, a second trigger.
    await line("o-3", "TEE", { kind: "placed", quantity: 7, version: "2026-12-01T00:00:00.000Z" });
    expect(await checkLowStock(new Date(), 7)).toEqual({ entered: 1, cleared: 0 });
    expect(await lowTriggers()).toHaveLength(2);
  });

  it("never fires with cover switched off", async () => {
    expect(await checkLowStock(new Date(), 0)).toEqual({ entered: 0, cleared: 0 });
  });
});

/**
 * Shopify Flow triggers end to end against the local Shopify: each event StockGuard fires a
 * trigger for reaches Flow exactly once, with a payload the local Shopify checks against the
 * extension's TOML fields (product_id names a real product of the store). Retried events record
 * nothing new; a delivery that fails, runs twice at once, or dies holding its claim never sends a
 * trigger twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionContext } from "../../app/channels/channel-adapter";
import { ChannelRetryableError } from "../../app/channels/errors";
import { flowPort } from "../../app/channels/registry.server";
import prisma from "../../app/db.server";
import { claimFlowTriggers, flowTriggersOfShop } from "../../app/repositories/flow.server";
import { transaction } from "../../app/repositories/tx.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import { adapterFor } from "../../app/channels/registry.server";
import {
  deliverFlowTriggers,
  FLOW_LEASE_MS,
  FLOW_MAX_ATTEMPTS,
  recordChannelSyncFailed,
  recordCycleCountVarianceApproved,
  recordDriftTrigger,
  recordOversellTrigger,
  recordStockRanLow,
  sweepFlowTriggers,
} from "../../app/services/flow/triggers.server";
import { ZMaintenanceJob } from "../../app/queues/definitions";
import { runMaintenance } from "../../app/services/maintenance.server";
import {
  performCountAction,
  startCount,
  type CountAction,
} from "../../app/services/counts/counts.server";
import { settleIncidents } from "../../app/services/incidents/settle.server";
import { applyLedgerEvent } from "../../app/services/ledger/apply-event.server";
import { pushConnection } from "../../app/services/push/push-connection.server";
import { createRule } from "../../app/services/rules.server";
import { reconcileConnection } from "../../app/services/reconcile/reconcile-connection.server";
import { connectSalesStore, installSource, startLocalStores } from "../helpers/local-stores";
import { receivedFlowTriggers, rejectedFlowTriggers } from "../sandbox/shopify/flow";
import type { LocalShopify } from "../sandbox/shopify/server";

const SOURCE = "flow-source.myshopify.com";
const OTHER = "flow-other.myshopify.com";
let local: LocalShopify;
let shopId: string;
let source: ConnectionContext;
let other: ConnectionContext;

const received = (handle?: string) =>
  receivedFlowTriggers(local.sandbox.shop(SOURCE)).filter((t) => !handle || t.handle === handle);

function productIdOf(domain: string, sku: string): number {
  const shop = local.sandbox.shop(domain);
  return [...shop.variants.values()].find((v) => v.sku === sku)!.productId;
}

function variantGidOf(domain: string, sku: string): string {
  const shop = local.sandbox.shop(domain);
  const variant = [...shop.variants.values()].find((v) => v.sku === sku)!;
  return `gid://shopify/ProductVariant/${variant.id}`;
}

beforeAll(async () => {
  local = await startLocalStores(
    [SOURCE, OTHER].map((domain) => ({
      domain,
      products: [
        {
          title: "Tee",
          variants: [
            { sku: "TEE-S", inventory: { Warehouse: 10 } },
            { sku: "TEE-M", inventory: { Warehouse: 10 } },
          ],
        },
        { title: "Mug", variants: [{ sku: "MUG", inventory: { Warehouse: 5 } }] },
      ],
    })),
  );
  ({ shopId, source } = await installSource(SOURCE, "token-0"));
  other = await connectSalesStore(shopId, OTHER, "token-1");
  await importCatalog(source, adapterFor("shopify"));
  await importCatalog(other, adapterFor("shopify"));
  // StockGuard holds one unit back from the other store: it writes every listing there.
  await createRule(shopId, { connectionId: other.id, kind: "reserve_units", value: 1 });
  await pushConnection(other.id);
});

afterAll(async () => {
  await local?.close();
});

describe("Stock drift found (reconciliation)", () => {
  it("fires once per drift record, with the source product and what the channel showed", async () => {
    const published = (await prisma.listing.findFirstOrThrow({
      where: { connectionId: other.id, sku: "TEE-M" },
    }))!.publishedQuantity;
    // Someone edits the other store by hand: reconciliation finds it.
    local.sandbox.setInventory(OTHER, { sku: "TEE-M", location: "Warehouse", quantity: 42 });
    const summary = await reconcileConnection(other.id, "manual");
    expect(summary.drift).toBe(1);
    const rows = (await flowTriggersOfShop(shopId)).filter((r) => r.handle === "stock-drift-found");
    expect(rows).toHaveLength(1);

    expect(await deliverFlowTriggers(source.id)).toEqual({ sent: 1, failed: 0 });
    expect(received("stock-drift-found")).toEqual([
      expect.objectContaining({
        payload: {
          product_id: productIdOf(SOURCE, "TEE-M"),
          "variant id": variantGidOf(SOURCE, "TEE-M"),
          sku: "TEE-M",
          channel: "Other",
          expected: published,
          found: 42,
          cause: "changed_on_channel",
        },
      }),
    ]);
    expect(rejectedFlowTriggers(local.sandbox.shop(SOURCE))).toEqual([]);

    // The same drift record again (a retried job) records nothing; delivering again sends nothing.
    const drift = await prisma.driftRecord.findFirstOrThrow({ where: { connectionId: other.id } });
    expect(
      await recordDriftTrigger({
        driftId: drift.id,
        shopId,
        connectionId: other.id,
        listingId: drift.listingId,
        expected: drift.expected,
        observed: drift.observed,
        cause: drift.cause,
      }),
    ).toBeNull();
    expect(await deliverFlowTriggers(source.id)).toEqual({ sent: 0, failed: 0 });
    expect(received("stock-drift-found")).toHaveLength(1);
  });

  it("does not fire for drift StockGuard explains itself (a listing never written)", async () => {
    const before = (await flowTriggersOfShop(shopId)).length;
    await prisma.listing.updateMany({
      where: { connectionId: other.id, sku: "MUG" },
      data: { pushedQuantity: null, publishedQuantity: 3 },
    });
    const mug = await prisma.listing.findFirstOrThrow({
      where: { connectionId: other.id, sku: "MUG" },
    });
    const summary = await reconcileConnection(other.id, "manual");
    expect(summary.drift).toBeGreaterThanOrEqual(1);
    expect(
      await prisma.driftRecord.count({ where: { listingId: mug.id, cause: "never_written" } }),
    ).toBe(1);
    expect((await flowTriggersOfShop(shopId)).length).toBe(before);
  });
});

describe("Channel sync failed (push refused)", () => {
  it("fires once per failing episode when the channel refuses StockGuard's credentials", async () => {
    await pushConnection(other.id);
    // The other store's owner rotates the token StockGuard writes with; then a rule changes
    // what the store must show, and the push is refused.
    local.sandbox.shop(OTHER).accessToken = "rotated";
    await createRule(
      shopId,
      { connectionId: other.id, kind: "reserve_units", value: 2 },
      { replace: true },
    );
    await expect(pushConnection(other.id)).rejects.toThrow();
    expect((await prisma.connection.findUniqueOrThrow({ where: { id: other.id } })).status).toBe(
      "error",
    );
    // The same episode again (another job hitting the same refusal) records nothing.
    expect(
      await recordChannelSyncFailed({ shopId, connectionId: other.id, reason: "again" }),
    ).toBeNull();
    await deliverFlowTriggers(source.id);
    const fired = received("channel-sync-failed");
    expect(fired).toHaveLength(1);
    expect(fired[0]!.payload).toEqual({
      channel: "Other",
      "channel kind": "shopify",
      since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      reason: expect.stringMatching(/401|token|rejected/i),
    });
  });
});

describe("Oversell incident confirmed", () => {
  it("fires once when the settler confirms an incident, in the confirming transaction", async () => {
    // The other store sells more MUGs than are left: the ledger records a provisional incident.
    const sale = await applyLedgerEvent({
      shopId,
      actor: "test",
      operations: [
        {
          type: "line",
          key: `${other.id}/o-over/l1/placed`,
          connectionId: other.id,
          orderId: "o-over",
          lineId: "l1",
          sku: "MUG",
          command: { kind: "placed", quantity: 7, version: "2026-12-01T00:00:00.000Z" },
        },
      ],
    });
    expect(sale.incidents).toHaveLength(1);
    expect(
      (await flowTriggersOfShop(shopId)).some((r) => r.handle === "oversell-incident-confirmed"),
    ).toBe(false);
    // Settling (the sweeper's job) confirms it: one trigger; settling again adds nothing.
    const settled = await settleIncidents({ settleMs: 0, shopId });
    expect(settled.confirmed).toHaveLength(1);
    await settleIncidents({ settleMs: 0, shopId });
    const [confirmed] = settled.confirmed;
    expect(
      await transaction((tx) =>
        recordOversellTrigger(tx, {
          id: confirmed!.id,
          shopId,
          itemId: confirmed!.itemId,
          units: confirmed!.units,
          cause: confirmed!.cause,
        }),
      ),
    ).toBeNull();
    await deliverFlowTriggers(source.id);
    await deliverFlowTriggers(source.id);
    expect(received("oversell-incident-confirmed").map((t) => t.payload)).toEqual([
      {
        product_id: productIdOf(SOURCE, "MUG"),
        "variant id": variantGidOf(SOURCE, "MUG"),
        sku: "MUG",
        channel: "Other",
        units: confirmed!.units,
        cause: confirmed!.cause,
        "incident url": `https://stockguard.test/app/incidents?incident=${confirmed!.id}`,
      },
    ]);
    expect(confirmed!.units).toBe(2);
  });

  it("records nothing when the confirming transaction rolls back", async () => {
    const sale = await applyLedgerEvent({
      shopId,
      actor: "test",
      operations: [
        {
          type: "line",
          key: `${other.id}/o-over-2/l1/placed`,
          connectionId: other.id,
          orderId: "o-over-2",
          lineId: "l1",
          sku: "MUG",
          command: { kind: "placed", quantity: 1, version: "2026-12-01T00:00:00.000Z" },
        },
      ],
    });
    const [incident] = sale.incidents;
    await expect(
      transaction(async (tx) => {
        const id = await recordOversellTrigger(tx, {
          id: incident!.id,
          shopId,
          itemId: incident!.itemId,
          units: 1,
          cause: "unknown",
        });
        expect(id).not.toBeNull();
        throw new Error("the confirming transaction failed");
      }),
    ).rejects.toThrow("failed");
    const keys = (await flowTriggersOfShop(shopId)).map((r) => r.eventKey);
    expect(keys).not.toContain(`oversell-incident-confirmed:incident:${incident!.id}`);
  });
});

describe("Cycle count variance approved", () => {
  it("fires once when a count with a variance is approved, even if approved again", async () => {
    const location = await prisma.location.findFirstOrThrow({ where: { shopId } });
    const started = await startCount({
      shopDomain: SOURCE,
      actor: "ops@example.com",
      start: { intent: "start", locationId: location.id, scope: "filter", filter: "TEE-S" },
    });
    if (!("countId" in started)) throw new Error(JSON.stringify(started));
    const countId = BigInt(started.countId);
    const act = (action: CountAction) =>
      performCountAction({ shopDomain: SOURCE, countId, actor: "ops@example.com", action });
    // The shelf holds 7 TEE-S where the books say 10.
    expect(await act({ intent: "enter", code: "TEE-S", counted: "7" })).toMatchObject({ ok: true });
    expect(await act({ intent: "submit" })).toMatchObject({ ok: true });
    expect(await act({ intent: "approve" })).toMatchObject({ ok: true, applied: true });
    expect(await act({ intent: "approve" })).toMatchObject({ ok: true, applied: false });
    await deliverFlowTriggers(source.id);
    expect(received("cycle-count-variance-approved").map((t) => t.payload)).toEqual([
      {
        location: location.name,
        units: -3,
        value: expect.any(Number),
        "approved by": "ops@example.com",
      },
    ]);
  });
});

describe("Stock ran low across channels", () => {
  it("fires once per item and episode", async () => {
    const itemId = (await prisma.stockItem.findFirstOrThrow({ where: { shopId, sku: "TEE-S" } }))
      .id;
    const low = {
      shopId,
      itemId,
      sku: "TEE-S",
      availableToSell: 2,
      daysOfCover: 1.26,
      episode: "2026-12-01",
    };
    expect(await recordStockRanLow(low)).not.toBeNull();
    expect(await recordStockRanLow(low)).toBeNull();
    await deliverFlowTriggers(source.id);
    expect(received("stock-ran-low").map((t) => t.payload)).toEqual([
      {
        product_id: productIdOf(SOURCE, "TEE-S"),
        "variant id": variantGidOf(SOURCE, "TEE-S"),
        sku: "TEE-S",
        "available to sell": 2,
        "days of cover": 1.3,
      },
    ]);
  });
});

describe("delivery never sends a trigger twice", () => {
  let locationId = "";
  beforeAll(async () => {
    locationId = (await prisma.location.findFirstOrThrow({ where: { shopId } })).id;
  });
  const count = (countId: number) => ({
    shopId,
    countId,
    locationId,
    units: 1,
    value: 10,
    approvedBy: "ops@example.com",
  });
  /** Triggers of the test counts below (units 1) the store received. */
  const countsReceived = () =>
    received("cycle-count-variance-approved").filter((t) => t.payload.units === 1).length;

  it("Shopify failing (HTTP 500) leaves the trigger pending; the next delivery sends it once", async () => {
    await recordCycleCountVarianceApproved(count(100));
    local.sandbox.shop(SOURCE).faults.add({ kind: "http500", count: 1 });
    await expect(deliverFlowTriggers(source.id)).rejects.toBeInstanceOf(ChannelRetryableError);
    expect(countsReceived()).toBe(0);
    expect(await deliverFlowTriggers(source.id)).toEqual({ sent: 1, failed: 0 });
    expect(await deliverFlowTriggers(source.id)).toEqual({ sent: 0, failed: 0 });
    expect(countsReceived()).toBe(1);
  });

  it("two deliveries at once send each trigger once", async () => {
    for (let i = 200; i < 210; i++) await recordCycleCountVarianceApproved(count(i));
    const before = countsReceived();
    const results = await Promise.all([
      deliverFlowTriggers(source.id),
      deliverFlowTriggers(source.id),
      deliverFlowTriggers(source.id),
    ]);
    expect(results.reduce((n, r) => n + r.sent, 0)).toBe(10);
    expect(countsReceived() - before).toBe(10);
  });

  it("a delivery never takes rows another delivery is claiming", async () => {
    for (let i = 250; i < 255; i++) await recordCycleCountVarianceApproved(count(i));
    const before = countsReceived();
    let concurrent: { sent: number } | undefined;
    await transaction(async (tx) => {
      // Another worker's claim, not committed yet.
      expect(await claimFlowTriggers(shopId, FLOW_LEASE_MS, 50, tx)).toHaveLength(5);
      concurrent = await deliverFlowTriggers(source.id);
    });
    // It neither waited for the claim nor sent the claimed rows.
    expect(concurrent).toEqual({ sent: 0, failed: 0 });
    expect(countsReceived() - before).toBe(0);
    // The claiming worker dies: after its lease the rows are sent, once.
    await prisma.flowTrigger.updateMany({
      where: { shopId, status: "sending" },
      data: { leaseUntil: new Date(Date.now() - 1000) },
    });
    expect(await deliverFlowTriggers(source.id)).toEqual({ sent: 5, failed: 0 });
    expect(countsReceived() - before).toBe(5);
  });

  it("a delivery that died holding its claim is taken over after the lease, and sent once", async () => {
    await recordCycleCountVarianceApproved(count(300));
    const before = countsReceived();
    // A worker claims the row and is killed before sending it.
    expect(await claimFlowTriggers(shopId, 1, 50)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await deliverFlowTriggers(source.id)).toEqual({ sent: 1, failed: 0 });
    expect(countsReceived() - before).toBe(1);
    expect(await sweepFlowTriggers()).toBe(0);
  });

  it("the worker's maintenance task delivers them (the job carries the source connection only)", async () => {
    await recordCycleCountVarianceApproved(count(400));
    const before = countsReceived();
    const job = ZMaintenanceJob.parse({ task: "deliver_flow_triggers", connectionId: source.id });
    expect(await runMaintenance(job)).toEqual({ sent: 1, failed: 0 });
    expect(countsReceived() - before).toBe(1);
  });

  it("a trigger that keeps failing is given up after FLOW_MAX_ATTEMPTS claims", async () => {
    await recordCycleCountVarianceApproved(count(500));
    // 25 failed deliveries before this one (the store kept answering 5xx).
    await prisma.flowTrigger.updateMany({
      where: { shopId, eventKey: "cycle-count-variance-approved:cycle-count:500" },
      data: { attempts: FLOW_MAX_ATTEMPTS },
    });
    expect(await deliverFlowTriggers(source.id)).toEqual({ sent: 0, failed: 1 });
    const row = (await flowTriggersOfShop(shopId)).find((r) => r.eventKey.endsWith(":500"))!;
    expect(row.status).toBe("failed");
  });

  it("a trigger Shopify refuses is kept as failed, with the reason, and not retried", async () => {
    const itemId = (await prisma.stockItem.findFirstOrThrow({ where: { shopId, sku: "TEE-S" } }))
      .id;
    await recordStockRanLow({
      shopId,
      itemId,
      sku: "TEE-S",
      availableToSell: 1,
      daysOfCover: 0.5,
      episode: "deleted-product",
    });
    // The product was deleted in the store since: its reference can no longer be sent.
    const port = {
      ...flowPort(),
      productIdOfVariant: () => Promise.resolve(null),
    };
    expect(await deliverFlowTriggers(source.id, port)).toEqual({ sent: 0, failed: 1 });
    const row = (await flowTriggersOfShop(shopId)).find((r) =>
      r.eventKey.endsWith("deleted-product"),
    )!;
    expect(row.status).toBe("failed");
    expect(await deliverFlowTriggers(source.id)).toEqual({ sent: 0, failed: 0 });
  });
});

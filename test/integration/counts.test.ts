/**
 * Cycle counts against Postgres and the local Shopify, service by service: the snapshot and the
 * movements during the count give the expected value, bad sheets change nothing, approval books
 * each variance once (however often it is approved, even concurrently) as `cycle_counted`
 * movements tied to the count, and the source store is corrected with `cycle_count_available`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionContext } from "../../app/channels/channel-adapter";
import { adapterFor } from "../../app/channels/registry.server";
import prisma from "../../app/db.server";
import { importCatalog } from "../../app/services/catalog/import-catalog.server";
import {
  getCountDetail,
  getCountsPage,
  getSkuHistory,
  performCountAction,
  startCount,
  uploadCountSheet,
} from "../../app/services/counts/counts.server";
import { applyLedgerEvent } from "../../app/services/ledger/apply-event.server";
import { pushSourceConnection } from "../../app/services/push/push-source.server";
import { installSource, startLocalStores } from "../helpers/local-stores";
import type { LocalShopify } from "../sandbox/shopify/server";

const SOURCE = "counts-source.myshopify.com";
let local: LocalShopify;
let source: ConnectionContext;
let shopId: string;
let locationId: string;

const onHandAtStore = (sku: string) => {
  const shop = local.sandbox.shop(SOURCE);
  const variant = [...shop.variants.values()].find((v) => v.sku === sku)!;
  const q = [...shop.items.get(variant.inventoryItemId)!.levels.values()][0]!.quantities;
  return q.available + q.committed + q.reserved + q.damaged + q.safety_stock + q.quality_control;
};
const ledgerOnHand = async (sku: string) => {
  const item = await prisma.stockItem.findFirstOrThrow({
    where: { shopId, sku },
    include: { levels: true },
  });
  return item.levels[0]!.onHand;
};
const movementSum = async (sku: string) => {
  const item = await prisma.stockItem.findFirstOrThrow({ where: { shopId, sku } });
  const agg = await prisma.movement.aggregate({
    where: { itemId: item.id },
    _sum: { dOnHand: true },
  });
  return agg._sum.dOnHand ?? 0;
};
const act = (countId: string, action: Record<string, string>) =>
  performCountAction({
    shopDomain: SOURCE,
    countId: BigInt(countId),
    actor: "admin:counter@example.com",
    action: action as never,
  });

beforeAll(async () => {
  local = await startLocalStores([
    {
      domain: SOURCE,
      products: [
        {
          title: "Mug",
          variants: [
            { sku: "MUG", price: "12.50", barcode: "4006381333931", inventory: { Warehouse: 10 } },
          ],
        },
        { title: "Tee", variants: [{ sku: "TEE", price: "20.00", inventory: { Warehouse: 5 } }] },
        { title: "Cap", variants: [{ sku: "CAP", price: "8.00", inventory: { Warehouse: 3 } }] },
      ],
    },
  ]);
  ({ shopId, source } = await installSource(SOURCE, "token-0"));
  await importCatalog(source, adapterFor("shopify"));
  await pushSourceConnection(source, adapterFor("shopify"), {});
  locationId = (await prisma.location.findFirstOrThrow({ where: { shopId, isSource: true } })).id;
});

afterAll(async () => {
  await local?.close();
});

describe("cycle counts", () => {
  let countId: string;

  it("the catalog import keeps barcode, price, tracked and the inventory policy", async () => {
    const mug = await prisma.listing.findFirstOrThrow({ where: { shopId, sku: "MUG" } });
    expect(mug).toMatchObject({
      barcode: "4006381333931",
      tracked: true,
      sellsWhenOutOfStock: false,
    });
    expect(mug.unitPrice?.toString()).toBe("12.5");
    expect(mug.remoteProductRef).toMatch(/^gid:\/\/shopify\/Product\/\d+$/);
  });

  it("starts a count of the most valuable SKUs with a snapshot per line", async () => {
    const started = await startCount({
      shopDomain: SOURCE,
      actor: "admin:counter@example.com",
      start: { intent: "start", locationId, scope: "top_value", sampleSize: 2 },
    });
    // Values: MUG 10 × 12.50 = 125, TEE 5 × 20 = 100, CAP 3 × 8 = 24.
    expect(started).toMatchObject({ ok: true, lines: 2 });
    const sample = await getCountDetail(SOURCE, BigInt((started as { countId: string }).countId));
    expect(sample!.lines.map((l) => l.sku)).toEqual(["MUG", "TEE"]);
    await act((started as { countId: string }).countId, { intent: "cancel" });

    const all = await startCount({
      shopDomain: SOURCE,
      actor: "admin:counter@example.com",
      start: { intent: "start", locationId, scope: "all" },
    });
    expect(all).toMatchObject({ ok: true, lines: 3 });
    countId = (all as { countId: string }).countId;
    const detail = await getCountDetail(SOURCE, BigInt(countId));
    expect(detail!.lines.map((l) => [l.sku, l.snapshotOnHand])).toEqual([
      ["CAP", 3],
      ["MUG", 10],
      ["TEE", 5],
    ]);
    const none = await startCount({
      shopDomain: SOURCE,
      actor: "a",
      start: { intent: "start", locationId, scope: "filter", filter: "zzz" },
    });
    expect(none).toMatchObject({ ok: false, status: 422 });
  });

  it("a receipt during the count moves the expected value, not the variance", async () => {
    // 4 MUGs received while the count runs (an adjustment in StockGuard, written to the store).
    await applyLedgerEvent({
      shopId,
      actor: "admin:receiver@example.com",
      reason: "received",
      operations: [
        {
          type: "item",
          key: "during-count-receipt",
          sku: "MUG",
          locationId,
          command: { kind: "manual_adjustment", delta: 4, reason: "received" },
        },
      ],
    });
    await pushSourceConnection(source, adapterFor("shopify"), {});
    expect(onHandAtStore("MUG")).toBe(14);
    // Scanned by barcode: 13 on the shelf (one missing).
    const entered = await act(countId, { intent: "enter", code: "4006381333931", counted: "13" });
    expect(entered).toMatchObject({ ok: true, entered: { sku: "MUG", counted: 13, expected: 14 } });
    const detail = await getCountDetail(SOURCE, BigInt(countId));
    expect(detail!.lines.find((l) => l.sku === "MUG")).toMatchObject({
      snapshotOnHand: 10,
      expectedAtCount: 14,
      duringCount: 4,
      varianceUnits: -1,
      varianceCents: -1250,
    });
    const unknown = await act(countId, { intent: "enter", code: "NOPE", counted: "1" });
    expect(unknown).toMatchObject({
      ok: false,
      status: 400,
      fieldErrors: { code: expect.any(String) },
    });
    const negative = await act(countId, { intent: "enter", code: "TEE", counted: "-2" });
    expect(negative).toMatchObject({
      ok: false,
      fieldErrors: { counted: expect.stringMatching(/negative/) },
    });
  });

  it("a sheet with any bad row records nothing and names every bad row", async () => {
    const bad = [
      "sku,counted",
      "TEE,6",
      "GHOST,1", // unknown
      "tee,7", // duplicate
      "CAP,-1", // negative
      "CAP,three", // non-numeric (and CAP again is fine: the negative row was not accepted)
    ].join("\n");
    const result = await uploadCountSheet({
      shopDomain: SOURCE,
      countId: BigInt(countId),
      actor: "a",
      csv: bad,
    });
    expect(result).toMatchObject({ ok: false, status: 400 });
    const rows = (result as { rowErrors: { row: number; message: string }[] }).rowErrors;
    expect(rows.map((r) => r.row)).toEqual([3, 4, 5, 6]);
    expect(rows[0]!.message).toMatch(/GHOST is not part of this count/);
    expect(rows[1]!.message).toMatch(/listed twice \(first on row 2\)/);
    expect(rows[2]!.message).toMatch(/negative/);
    expect(rows[3]!.message).toMatch(/not a whole number/);
    const columns = await uploadCountSheet({
      shopDomain: SOURCE,
      countId: BigInt(countId),
      actor: "a",
      csv: "item,qty\nTEE,6",
    });
    expect(columns).toMatchObject({ ok: false, rowErrors: [{ row: 1 }] });
    const detail = await getCountDetail(SOURCE, BigInt(countId));
    expect(detail!.lines.filter((l) => l.counted !== null).map((l) => l.sku)).toEqual(["MUG"]);

    const good = await uploadCountSheet({
      shopDomain: SOURCE,
      countId: BigInt(countId),
      actor: "a",
      csv: "SKU,Counted\r\nTEE,6\r\nCAP,3\r\n",
    });
    expect(good).toMatchObject({ ok: true });
    const after = await getCountDetail(SOURCE, BigInt(countId));
    expect(after!.totals).toMatchObject({
      counted: 3,
      withVariance: 2,
      netUnits: 0,
      absoluteUnits: 2,
      netCents: -1250 + 2000,
    });
  });

  it("approval needs review, books each variance once even when approved twice at once, and corrects the store", async () => {
    expect(await act(countId, { intent: "approve" })).toMatchObject({ ok: false, status: 422 });
    expect(await act(countId, { intent: "submit" })).toMatchObject({ ok: true });
    // Entering after submission is refused.
    expect(await act(countId, { intent: "enter", code: "CAP", counted: "1" })).toMatchObject({
      ok: false,
      status: 422,
    });
    const [a, b] = await Promise.all([
      act(countId, { intent: "approve" }),
      act(countId, { intent: "approve" }),
    ]);
    const applied = [a, b].filter((r) => (r as { applied?: boolean }).applied === true);
    const already = [a, b].filter((r) => (r as { applied?: boolean }).applied === false);
    expect(applied).toHaveLength(1);
    expect(already).toHaveLength(1);
    expect(applied[0]).toMatchObject({ corrections: 2 });
    expect(await act(countId, { intent: "approve" })).toMatchObject({ ok: true, applied: false });

    const movements = await prisma.movement.findMany({
      where: { shopId, kind: "cycle_counted" },
      orderBy: { id: "asc" },
    });
    expect(movements.map((m) => m.dOnHand).sort()).toEqual([-1, 1]);
    expect(movements.every((m) => m.reason === `cycle count #${countId}`)).toBe(true);
    const lines = await prisma.cycleCountLine.findMany({ where: { countId: BigInt(countId) } });
    expect(
      lines
        .filter((l) => l.movementId !== null)
        .map((l) => l.sku)
        .sort(),
    ).toEqual(["MUG", "TEE"]);
    expect(await ledgerOnHand("MUG")).toBe(13);
    expect(await ledgerOnHand("TEE")).toBe(6);
    for (const sku of ["MUG", "TEE", "CAP"])
      expect(await movementSum(sku)).toBe(await ledgerOnHand(sku));

    const outbox = await prisma.sourceAdjustment.findMany({
      where: { shopId, reason: "cycle_count_available" },
    });
    expect(outbox.map((o) => o.delta).sort()).toEqual([-1, 1]);
    await pushSourceConnection(source, adapterFor("shopify"), {});
    expect(onHandAtStore("MUG")).toBe(13);
    expect(onHandAtStore("TEE")).toBe(6);
    expect(onHandAtStore("CAP")).toBe(3);
    const counted = local.sandbox
      .shop(SOURCE)
      .mutationLog.filter((m) => m.reason === "cycle_count_available");
    expect(counted).toHaveLength(1); // one call: same state, same reason
    expect(counted.flatMap((m) => m.changes.map((c) => [c.sku, c.name, c.delta])).sort()).toEqual([
      ["MUG", "available", -1],
      ["MUG", "on_hand", -1],
      ["TEE", "available", 1],
      ["TEE", "on_hand", 1],
    ]);
    // Pushing again sends nothing more.
    await pushSourceConnection(source, adapterFor("shopify"), {});
    expect(
      local.sandbox.shop(SOURCE).mutationLog.filter((m) => m.reason === "cycle_count_available"),
    ).toHaveLength(1);
  });

  it("keeps the history of counts and of variance per SKU", async () => {
    const page = await getCountsPage(SOURCE);
    expect(page.counts.map((c) => c.status)).toEqual(["approved", "cancelled"]);
    expect(page.counts[0]).toMatchObject({ lines: 3, counted: 3, withVariance: 2, netCents: 750 });
    expect(page.topSkus.map((s) => s.sku).sort()).toEqual(["MUG", "TEE"]);
    expect(await getSkuHistory(SOURCE, "MUG")).toEqual([
      expect.objectContaining({ expected: 14, counted: 13, variance: -1, valueCents: -1250 }),
    ]);
  });
});

/**
 * A cycle count of a whole location at size: 5,000 SKUs started (snapshot), one 5,000-row sheet
 * recorded in one statement, 500 variances approved in one transaction. Prints the timings; the
 * bounds only catch a pathological plan (a 2-core machine shared with other work).
 */
import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import {
  getCountDetail,
  performCountAction,
  startCount,
  uploadCountSheet,
} from "../../app/services/counts/counts.server";
import { seedShop } from "../factories/shop";

const SKUS = 5_000;
const DOMAIN = "count-scale.myshopify.com";

describe("a count of 5,000 SKUs", () => {
  it("starts, takes a sheet and approves within seconds", async () => {
    const shop = await seedShop(prisma, { domain: DOMAIN });
    const locationId = shop.locationIds[0]!;
    await prisma.$executeRaw`
      INSERT INTO stock_item (id, shop_id, sku, updated_at)
      SELECT gen_random_uuid(), ${shop.shopId}::uuid, 'SKU-' || lpad(n::text, 5, '0'), now()
        FROM generate_series(1, ${SKUS}) AS n`;
    await prisma.$executeRaw`
      INSERT INTO stock_level (shop_id, item_id, location_id, on_hand)
      SELECT shop_id, id, ${locationId}::uuid, 20 FROM stock_item WHERE shop_id = ${shop.shopId}::uuid`;
    const timings: Record<string, number> = {};
    const time = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      const result = await fn();
      timings[name] = Math.round(performance.now() - t0);
      return result;
    };

    const started = await time("start", () =>
      startCount({
        shopDomain: DOMAIN,
        actor: "admin:scale",
        start: { intent: "start", locationId, scope: "all" },
      }),
    );
    expect(started).toMatchObject({ ok: true, lines: SKUS });
    const countId = BigInt((started as { countId: string }).countId);

    // Every 10th SKU is one short.
    const rows = Array.from({ length: SKUS }, (_, i) => {
      const n = i + 1;
      return `SKU-${String(n).padStart(5, "0")},${n % 10 === 0 ? 19 : 20}`;
    });
    const uploaded = await time("upload", () =>
      uploadCountSheet({
        shopDomain: DOMAIN,
        countId,
        actor: "admin:scale",
        csv: ["sku,counted", ...rows].join("\n"),
      }),
    );
    expect(uploaded).toMatchObject({ ok: true });
    const act = (intent: string) =>
      performCountAction({
        shopDomain: DOMAIN,
        countId,
        actor: "admin:scale",
        action: { intent } as never,
      });
    await act("submit");
    const approved = await time("approve", () => act("approve"));
    expect(approved).toMatchObject({ ok: true, applied: true, corrections: SKUS / 10 });
    const detail = await time("report", () => getCountDetail(DOMAIN, countId));
    expect(detail!.totals).toMatchObject({ counted: SKUS, netUnits: -SKUS / 10 });
    expect(await prisma.movement.count({ where: { kind: "cycle_counted" } })).toBe(SKUS / 10);
    console.log(`cycle count of ${SKUS} SKUs (ms): ${JSON.stringify(timings)}`);
    expect(timings.start).toBeLessThan(10_000);
    expect(timings.upload).toBeLessThan(15_000);
    expect(timings.approve).toBeLessThan(60_000);
  }, 180_000);
});

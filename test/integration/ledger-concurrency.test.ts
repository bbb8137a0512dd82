import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { ats } from "../../app/domain/availability";
import type { LedgerEvent } from "../../app/domain/operations";
import { applyLedgerEvent } from "../../app/services/ledger/apply-event.server";
import { addSalesConnection, seedShop } from "../factories/shop";

/**
 * ≥ 8 concurrent workers apply ≥ 10,000 events on 20 hot SKUs against the real Postgres, with
 * duplicates. Afterwards every balance equals the sum of its movements, no movement is lost or
 * doubled, and every oversold unit appears in an incident.
 */
const WORKERS = 8;
const EVENTS = Number(process.env.LEDGER_CONCURRENCY_EVENTS ?? 10_000);
const SKUS = 20;
const V0 = "2026-11-26T10:00:00.000Z";

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("ledger under concurrency", () => {
  it(
    `keeps ${EVENTS} events on ${SKUS} hot SKUs exact with ${WORKERS} concurrent workers`,
    { timeout: 600_000 },
    async () => {
      const skus = Array.from({ length: SKUS }, (_, i) => `HOT-${i}`);
      // Stock is tight on purpose: about a fifth of the demand cannot be covered.
      const onHand = Math.round((EVENTS * 0.8 * 1.5 * 0.8) / SKUS);
      const shop = await seedShop(prisma, { items: skus.map((sku) => ({ sku, onHand })) });
      const channels = [
        await addSalesConnection(prisma, shop),
        await addSalesConnection(prisma, shop),
      ];
      const random = rng(42);

      // Phase 1: placements only (plus duplicates), so the final shortfall is exactly what the
      // incidents must account for.
      const unique: LedgerEvent[] = [];
      for (let i = 0; i < EVENTS * 0.8; i++) {
        const sku = skus[Math.floor(random() * SKUS)]!;
        const channel = channels[i % channels.length]!;
        unique.push({
          shopId: shop.shopId,
          actor: "load",
          operations: [
            {
              type: "line",
              key: `p/${i}`,
              connectionId: channel.connectionId,
              orderId: `o${i}`,
              lineId: "1",
              sku,
              command: { kind: "placed", quantity: 1 + Math.floor(random() * 2), version: V0 },
            },
          ],
        });
      }
      const deliveries: LedgerEvent[] = [...unique];
      while (deliveries.length < EVENTS)
        deliveries.push(unique[Math.floor(random() * unique.length)]!);
      deliveries.sort(() => random() - 0.5);

      let next = 0;
      const worker = async () => {
        for (;;) {
          const i = next++;
          if (i >= deliveries.length) return;
          await applyLedgerEvent(deliveries[i]!);
        }
      };
      const started = Date.now();
      await Promise.all(Array.from({ length: WORKERS }, worker));
      const elapsed = Date.now() - started;

      const movements = await prisma.movement.groupBy({
        by: ["itemId"],
        where: { shopId: shop.shopId },
        _sum: { dOnHand: true, dCommitted: true, dHeld: true, dDamaged: true, dSafetyStock: true },
        _count: true,
      });
      expect(movements.reduce((s, m) => s + m._count, 0)).toBe(unique.length); // none lost, none doubled
      const keys = await prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(DISTINCT idempotency_key) AS n FROM movement WHERE shop_id = ${shop.shopId}::uuid`;
      expect(Number(keys[0]!.n)).toBe(unique.length);

      const levels = await prisma.stockLevel.findMany({ where: { shopId: shop.shopId } });
      const incidents = await prisma.oversellIncident.groupBy({
        by: ["itemId"],
        where: { shopId: shop.shopId },
        _sum: { shortfall: true },
      });
      let oversold = 0;
      for (const level of levels) {
        const sums = movements.find((m) => m.itemId === level.itemId)?._sum;
        // Balances were seeded directly; everything since is a movement.
        expect(level.onHand - onHand).toBe(sums?.dOnHand ?? 0);
        expect(level.committed).toBe(sums?.dCommitted ?? 0);
        const lines = await prisma.orderLine.aggregate({
          where: { itemId: level.itemId },
          _sum: { committed: true },
        });
        expect(level.committed).toBe(lines._sum.committed ?? 0);
        const shortfall = Math.max(0, -ats(level));
        oversold += shortfall;
        expect(incidents.find((i) => i.itemId === level.itemId)?._sum.shortfall ?? 0).toBe(
          shortfall,
        );
      }
      expect(oversold).toBeGreaterThan(0);

      // Phase 2: cancel a third of the orders, twice each, concurrently: conservation still holds.
      const cancels: LedgerEvent[] = unique
        .filter((_, i) => i % 3 === 0)
        .flatMap((e) => {
          const op = e.operations[0]!;
          if (op.type !== "line") return [];
          const cancel: LedgerEvent = {
            ...e,
            operations: [{ ...op, key: `c/${op.orderId}`, command: { kind: "cancelled_all" } }],
          };
          return [cancel, cancel];
        });
      next = 0;
      deliveries.splice(0, deliveries.length, ...cancels);
      await Promise.all(Array.from({ length: WORKERS }, worker));
      const after = await prisma.stockLevel.findMany({ where: { shopId: shop.shopId } });
      for (const level of after) {
        const lines = await prisma.orderLine.aggregate({
          where: { itemId: level.itemId },
          _sum: { committed: true },
        });
        expect(level.committed).toBe(lines._sum.committed ?? 0);
        const sums = await prisma.movement.aggregate({
          where: { itemId: level.itemId },
          _sum: { dCommitted: true },
        });
        expect(level.committed).toBe(sums._sum.dCommitted ?? 0);
      }
      expect(await prisma.movement.count({ where: { shopId: shop.shopId } })).toBe(
        unique.length + cancels.length / 2,
      );
      console.log(
        `ledger concurrency: ${EVENTS} deliveries in ${elapsed} ms (${Math.round((EVENTS / elapsed) * 1000)} events/s)`,
      );
    },
  );
});

-- A change the merchant made in the admin (an on hand adjustment, a safety stock) that leaves
-- less available than the channels already sold. It was shown before it was applied and the
-- merchant confirmed it: it is recorded here as their decision, never as an oversell incident.
CREATE TABLE "merchant_decision" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "sku" TEXT NOT NULL,
    "movement_id" BIGINT NOT NULL,
    "kind" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "reason" TEXT,
    "shortfall" INTEGER NOT NULL,
    "ats_before" INTEGER NOT NULL,
    "ats_after" INTEGER NOT NULL,
    "decided_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "merchant_decision_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "merchant_decision_shortfall_check" CHECK ("shortfall" > 0)
);
CREATE UNIQUE INDEX "merchant_decision_movement_id_key" ON "merchant_decision"("movement_id");
CREATE INDEX "merchant_decision_item_id_decided_at_idx" ON "merchant_decision"("item_id", "decided_at");
ALTER TABLE "merchant_decision" ADD CONSTRAINT "merchant_decision_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "merchant_decision" ADD CONSTRAINT "merchant_decision_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "stock_item"("id") ON DELETE CASCADE ON UPDATE CASCADE;

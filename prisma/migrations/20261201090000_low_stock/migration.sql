-- Low-stock episodes (issue 19, Flow trigger Stock ran low across channels).
-- A row exists while an item is low: inserted when it becomes low (the trigger fires once for
-- that episode), deleted when it is no longer low, so the next drop is a new episode.
CREATE TABLE "low_stock_state" (
    "item_id" UUID NOT NULL,
    "shop_id" UUID NOT NULL,
    "episode" TEXT NOT NULL,
    "since" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "low_stock_state_pkey" PRIMARY KEY ("item_id")
);
CREATE INDEX "low_stock_state_shop_id_idx" ON "low_stock_state"("shop_id");
ALTER TABLE "low_stock_state" ADD CONSTRAINT "low_stock_state_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "stock_item"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "low_stock_state" ADD CONSTRAINT "low_stock_state_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;
-- The low-stock check reads the last two weeks of order lines every minute.
CREATE INDEX "order_line_created_at_idx" ON "order_line"("created_at");

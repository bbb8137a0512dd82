-- Cycle counts and risk checks (issue 13, parts 5 and 6).
-- A correction booked when a cycle count is approved (counted minus expected, on hand).
ALTER TYPE "MovementKind" ADD VALUE IF NOT EXISTS 'cycle_counted';
-- The Shopify reason an outbox row is written with (null means the default for its state, e.g.
-- cycle_count_available for a count correction).
ALTER TABLE "source_adjustment" ADD COLUMN "reason" TEXT;
-- What the channel catalog says about each listing: tracked, sells when out of stock (Shopify
-- inventoryPolicy CONTINUE), barcode, unit price and the product it belongs to (admin links).
ALTER TABLE "listing" ADD COLUMN "tracked" BOOLEAN;
ALTER TABLE "listing" ADD COLUMN "sells_when_out_of_stock" BOOLEAN;
ALTER TABLE "listing" ADD COLUMN "barcode" TEXT;
ALTER TABLE "listing" ADD COLUMN "unit_price" NUMERIC(14,2);
ALTER TABLE "listing" ADD COLUMN "remote_product_ref" TEXT;
CREATE INDEX "listing_connection_id_barcode_idx" ON "listing"("connection_id", "barcode");
-- A cycle count of one source location: open (counting), review (variance reported), approved
-- (corrections booked as movements and queued for the source store) or cancelled.
CREATE TABLE "cycle_count" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "location_id" UUID NOT NULL,
    "scope" TEXT NOT NULL,
    "filter" TEXT,
    "sample_size" INTEGER,
    "status" TEXT NOT NULL DEFAULT 'open',
    "started_by" TEXT NOT NULL,
    "started_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "submitted_at" TIMESTAMP(3),
    "approved_by" TEXT,
    "approved_at" TIMESTAMP(3),
    "cancelled_at" TIMESTAMP(3),
    "note" TEXT,
    CONSTRAINT "cycle_count_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "cycle_count_status_check" CHECK ("status" IN ('open', 'review', 'approved', 'cancelled')),
    CONSTRAINT "cycle_count_scope_check" CHECK ("scope" IN ('all', 'filter', 'top_value', 'top_velocity')),
    CONSTRAINT "cycle_count_sample_check" CHECK ("sample_size" IS NULL OR "sample_size" > 0)
);
CREATE INDEX "cycle_count_shop_id_started_at_idx" ON "cycle_count"("shop_id", "started_at");
ALTER TABLE "cycle_count" ADD CONSTRAINT "cycle_count_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "cycle_count" ADD CONSTRAINT "cycle_count_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "location"("id") ON DELETE CASCADE ON UPDATE CASCADE;
-- One SKU of a count: the on hand snapshot at count start with the last movement it includes
-- (expected = snapshot plus movements after it), what was counted and when, and the correction.
CREATE TABLE "cycle_count_line" (
    "id" BIGSERIAL NOT NULL,
    "count_id" BIGINT NOT NULL,
    "shop_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "location_id" UUID NOT NULL,
    "sku" TEXT NOT NULL,
    "title" TEXT,
    "barcode" TEXT,
    "unit_price" NUMERIC(14,2),
    "snapshot_on_hand" INTEGER NOT NULL,
    "snapshot_movement_id" BIGINT NOT NULL DEFAULT 0,
    "counted" INTEGER,
    "counted_at" TIMESTAMP(3),
    "counted_by" TEXT,
    "expected_at_count" INTEGER,
    "movement_id" BIGINT,
    CONSTRAINT "cycle_count_line_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "cycle_count_line_counted_check" CHECK ("counted" IS NULL OR "counted" >= 0)
);
CREATE UNIQUE INDEX "cycle_count_line_count_id_item_id_key" ON "cycle_count_line"("count_id", "item_id");
CREATE INDEX "cycle_count_line_item_id_idx" ON "cycle_count_line"("item_id");
ALTER TABLE "cycle_count_line" ADD CONSTRAINT "cycle_count_line_count_id_fkey" FOREIGN KEY ("count_id") REFERENCES "cycle_count"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "cycle_count_line" ADD CONSTRAINT "cycle_count_line_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "cycle_count_line" ADD CONSTRAINT "cycle_count_line_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "stock_item"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateEnum
CREATE TYPE "MovementKind" AS ENUM ('order_placed', 'order_edited', 'order_cancelled', 'line_cancelled', 'shipped', 'returned', 'refunded_no_restock', 'inspection_passed', 'inspection_failed', 'written_off', 'on_hand_counted', 'manual_adjustment', 'safety_stock_set', 'unsellable_set');

-- CreateEnum
CREATE TYPE "ListingStatus" AS ENUM ('active', 'broken', 'disabled');

-- CreateEnum
CREATE TYPE "BufferKind" AS ENUM ('reserve_units', 'percent_of_ats', 'max_shown', 'zero_at_or_below');

-- CreateTable
CREATE TABLE "location" (
    "id" UUID NOT NULL,
    "shop_id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "remote_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "is_source" BOOLEAN NOT NULL DEFAULT true,
    "is_primary" BOOLEAN NOT NULL DEFAULT false,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "location_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stock_item" (
    "id" UUID NOT NULL,
    "shop_id" UUID NOT NULL,
    "sku" TEXT NOT NULL,
    "title" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "stock_item_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stock_level" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "location_id" UUID NOT NULL,
    "on_hand" INTEGER NOT NULL DEFAULT 0,
    "committed" INTEGER NOT NULL DEFAULT 0,
    "held" INTEGER NOT NULL DEFAULT 0,
    "damaged" INTEGER NOT NULL DEFAULT 0,
    "safety_stock" INTEGER NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stock_level_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "movement" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "location_id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "kind" "MovementKind" NOT NULL,
    "d_on_hand" INTEGER NOT NULL DEFAULT 0,
    "d_committed" INTEGER NOT NULL DEFAULT 0,
    "d_held" INTEGER NOT NULL DEFAULT 0,
    "d_damaged" INTEGER NOT NULL DEFAULT 0,
    "d_safety_stock" INTEGER NOT NULL DEFAULT 0,
    "receipt_id" BIGINT,
    "connection_id" UUID,
    "order_ref" TEXT,
    "line_ref" TEXT,
    "actor" TEXT NOT NULL,
    "reason" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "movement_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "order_line" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "order_id" TEXT NOT NULL,
    "line_id" TEXT NOT NULL,
    "item_id" UUID NOT NULL,
    "location_id" UUID NOT NULL,
    "listing_id" UUID,
    "sku" TEXT,
    "per_unit" INTEGER NOT NULL DEFAULT 1,
    "ordered" INTEGER NOT NULL DEFAULT 0,
    "ordered_version" TEXT,
    "cancelled_all" BOOLEAN NOT NULL DEFAULT false,
    "cancelled" INTEGER NOT NULL DEFAULT 0,
    "shipped" INTEGER NOT NULL DEFAULT 0,
    "returned" INTEGER NOT NULL DEFAULT 0,
    "committed" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "order_line_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "unmatched_line" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "order_id" TEXT NOT NULL,
    "line_id" TEXT NOT NULL,
    "sku" TEXT,
    "remote_ref" TEXT,
    "quantity" INTEGER NOT NULL,
    "first_seen_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMP(3),

    CONSTRAINT "unmatched_line_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "listing" (
    "id" UUID NOT NULL,
    "shop_id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "remote_ref" TEXT NOT NULL,
    "remote_location_ref" TEXT NOT NULL DEFAULT '',
    "remote_variant_ref" TEXT,
    "sku" TEXT,
    "title" TEXT,
    "status" "ListingStatus" NOT NULL DEFAULT 'active',
    "status_reason" TEXT,
    "source_location_id" UUID,
    "published_quantity" INTEGER NOT NULL DEFAULT 0,
    "published_version" INTEGER NOT NULL DEFAULT 0,
    "pushed_version" INTEGER NOT NULL DEFAULT 0,
    "pushed_quantity" INTEGER,
    "last_pushed_at" TIMESTAMP(3),
    "remote_quantity" INTEGER,
    "remote_observed_at" TIMESTAMP(3),
    "remote_source" TEXT,
    "remote_state" JSONB,
    "dirty_since" TIMESTAMP(3),
    "pending_receipt_ids" BIGINT[] DEFAULT ARRAY[]::BIGINT[],
    "failure_count" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "last_error_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "listing_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "listing_component" (
    "listing_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "quantity" INTEGER NOT NULL DEFAULT 1,

    CONSTRAINT "listing_component_pkey" PRIMARY KEY ("listing_id","item_id")
);

-- CreateTable
CREATE TABLE "buffer_rule" (
    "id" UUID NOT NULL,
    "shop_id" UUID NOT NULL,
    "connection_id" UUID,
    "sku" TEXT,
    "kind" "BufferKind" NOT NULL,
    "value" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "buffer_rule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "oversell_incident" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "sku" TEXT NOT NULL,
    "connection_id" UUID,
    "order_ref" TEXT,
    "line_ref" TEXT,
    "movement_id" BIGINT NOT NULL,
    "receipt_id" BIGINT,
    "shortfall" INTEGER NOT NULL,
    "ats_before" INTEGER NOT NULL,
    "ats_after" INTEGER NOT NULL,
    "snapshot" JSONB NOT NULL,
    "root_cause" TEXT,
    "occurred_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMP(3),

    CONSTRAINT "oversell_incident_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "location_shop_id_idx" ON "location"("shop_id");

-- CreateIndex
CREATE UNIQUE INDEX "location_connection_id_remote_id_key" ON "location"("connection_id", "remote_id");

-- CreateIndex
CREATE UNIQUE INDEX "stock_item_shop_id_sku_key" ON "stock_item"("shop_id", "sku");

-- CreateIndex
CREATE INDEX "stock_level_shop_id_idx" ON "stock_level"("shop_id");

-- CreateIndex
CREATE UNIQUE INDEX "stock_level_item_id_location_id_key" ON "stock_level"("item_id", "location_id");

-- CreateIndex
CREATE INDEX "movement_item_id_location_id_idx" ON "movement"("item_id", "location_id");

-- CreateIndex
CREATE INDEX "movement_shop_id_created_at_idx" ON "movement"("shop_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "movement_shop_id_idempotency_key_key" ON "movement"("shop_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "order_line_item_id_location_id_idx" ON "order_line"("item_id", "location_id");

-- CreateIndex
CREATE INDEX "order_line_shop_id_order_id_idx" ON "order_line"("shop_id", "order_id");

-- CreateIndex
CREATE UNIQUE INDEX "order_line_connection_id_order_id_line_id_item_id_key" ON "order_line"("connection_id", "order_id", "line_id", "item_id");

-- CreateIndex
CREATE INDEX "unmatched_line_shop_id_resolved_at_idx" ON "unmatched_line"("shop_id", "resolved_at");

-- CreateIndex
CREATE UNIQUE INDEX "unmatched_line_connection_id_order_id_line_id_key" ON "unmatched_line"("connection_id", "order_id", "line_id");

-- CreateIndex
CREATE INDEX "listing_shop_id_sku_idx" ON "listing"("shop_id", "sku");

-- CreateIndex
CREATE INDEX "listing_connection_id_remote_variant_ref_idx" ON "listing"("connection_id", "remote_variant_ref");

-- CreateIndex
CREATE UNIQUE INDEX "listing_connection_id_remote_ref_remote_location_ref_key" ON "listing"("connection_id", "remote_ref", "remote_location_ref");

-- CreateIndex
CREATE INDEX "listing_component_item_id_idx" ON "listing_component"("item_id");

-- CreateIndex
CREATE INDEX "buffer_rule_shop_id_idx" ON "buffer_rule"("shop_id");

-- CreateIndex
CREATE INDEX "oversell_incident_shop_id_occurred_at_idx" ON "oversell_incident"("shop_id", "occurred_at");

-- CreateIndex
CREATE INDEX "oversell_incident_item_id_idx" ON "oversell_incident"("item_id");

-- AddForeignKey
ALTER TABLE "location" ADD CONSTRAINT "location_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "location" ADD CONSTRAINT "location_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stock_item" ADD CONSTRAINT "stock_item_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stock_level" ADD CONSTRAINT "stock_level_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "stock_item"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stock_level" ADD CONSTRAINT "stock_level_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "location"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "listing" ADD CONSTRAINT "listing_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "listing" ADD CONSTRAINT "listing_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "listing_component" ADD CONSTRAINT "listing_component_listing_id_fkey" FOREIGN KEY ("listing_id") REFERENCES "listing"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "listing_component" ADD CONSTRAINT "listing_component_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "stock_item"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "buffer_rule" ADD CONSTRAINT "buffer_rule_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- ---------------------------------------------------------------------------------------------
-- Hand-written parts the Prisma schema language cannot express (listed in docs/ARCHITECTURE.md).
-- ---------------------------------------------------------------------------------------------

-- Every shop-scoped row goes when its shop goes (shop/redact erases by deleting the shop).
ALTER TABLE "stock_level" ADD CONSTRAINT "stock_level_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE;
ALTER TABLE "movement" ADD CONSTRAINT "movement_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE;
ALTER TABLE "movement" ADD CONSTRAINT "movement_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "stock_item"("id") ON DELETE CASCADE;
ALTER TABLE "movement" ADD CONSTRAINT "movement_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "location"("id") ON DELETE CASCADE;
ALTER TABLE "order_line" ADD CONSTRAINT "order_line_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE;
ALTER TABLE "order_line" ADD CONSTRAINT "order_line_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE CASCADE;
ALTER TABLE "order_line" ADD CONSTRAINT "order_line_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "stock_item"("id") ON DELETE CASCADE;
ALTER TABLE "order_line" ADD CONSTRAINT "order_line_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "location"("id") ON DELETE CASCADE;
ALTER TABLE "unmatched_line" ADD CONSTRAINT "unmatched_line_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE;
ALTER TABLE "unmatched_line" ADD CONSTRAINT "unmatched_line_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE CASCADE;
ALTER TABLE "oversell_incident" ADD CONSTRAINT "oversell_incident_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE;
ALTER TABLE "oversell_incident" ADD CONSTRAINT "oversell_incident_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "stock_item"("id") ON DELETE CASCADE;
ALTER TABLE "buffer_rule" ADD CONSTRAINT "buffer_rule_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE CASCADE;

-- Quantities that can never be negative (ATS itself may be: an oversell is recorded, not hidden).
ALTER TABLE "stock_level" ADD CONSTRAINT "stock_level_non_negative" CHECK ("committed" >= 0 AND "held" >= 0 AND "damaged" >= 0 AND "safety_stock" >= 0);
ALTER TABLE "order_line" ADD CONSTRAINT "order_line_non_negative" CHECK ("ordered" >= 0 AND "cancelled" >= 0 AND "shipped" >= 0 AND "returned" >= 0 AND "committed" >= 0 AND "per_unit" >= 1);
ALTER TABLE "listing_component" ADD CONSTRAINT "listing_component_quantity_positive" CHECK ("quantity" >= 1);
ALTER TABLE "buffer_rule" ADD CONSTRAINT "buffer_rule_value_valid" CHECK ("value" >= 0 AND ("kind" <> 'percent_of_ats' OR "value" <= 100));

-- One rule per scope and kind, where a NULL scope (all channels / all SKUs) is a value here.
CREATE UNIQUE INDEX "buffer_rule_scope_key" ON "buffer_rule" ("shop_id", "connection_id", "sku", "kind") NULLS NOT DISTINCT;

-- Work list of the push planner: listings whose published quantity changed since the last push.
CREATE INDEX "listing_dirty_idx" ON "listing" ("connection_id") WHERE "published_version" > "pushed_version";

-- The append-only trigger on "movement" lives in prisma/repeatable/ (the JS schema engine splits
-- scripts on semicolons, so function bodies cannot be written in a migration file).

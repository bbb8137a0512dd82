-- CreateEnum
CREATE TYPE "ReceiptStatus" AS ENUM ('pending', 'applied', 'ignored', 'failed');

-- CreateEnum
CREATE TYPE "AdjustmentStatus" AS ENUM ('pending', 'sending', 'written', 'failed');

-- AlterTable
ALTER TABLE "connection" ADD COLUMN     "imported_at" TIMESTAMP(3),
ADD COLUMN     "last_push_at" TIMESTAMP(3),
ADD COLUMN     "last_reconciled_at" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "receipt" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "webhook_id" TEXT,
    "resource_id" TEXT,
    "triggered_at" TIMESTAMP(3),
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "payload" JSONB NOT NULL,
    "status" "ReceiptStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "applied_at" TIMESTAMP(3),
    "error" TEXT,

    CONSTRAINT "receipt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rejected_delivery" (
    "id" BIGSERIAL NOT NULL,
    "shop_domain" TEXT NOT NULL,
    "shop_id" UUID,
    "topic" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "webhook_id" TEXT,
    "event_id" TEXT,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rejected_delivery_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "source_adjustment" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "location_id" UUID NOT NULL,
    "movement_id" BIGINT NOT NULL,
    "state_name" TEXT NOT NULL,
    "delta" INTEGER NOT NULL,
    "status" "AdjustmentStatus" NOT NULL DEFAULT 'pending',
    "batch_key" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "written_at" TIMESTAMP(3),
    "error" TEXT,

    CONSTRAINT "source_adjustment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "push_trace" (
    "receipt_id" BIGINT NOT NULL,
    "connection_id" UUID NOT NULL,
    "written_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "push_trace_pkey" PRIMARY KEY ("receipt_id","connection_id")
);

-- CreateTable
CREATE TABLE "sync_failure" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "listing_id" UUID,
    "kind" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "details" JSONB NOT NULL DEFAULT '{}',
    "occurred_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMP(3),

    CONSTRAINT "sync_failure_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "catalog_issue" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "sku" TEXT,
    "remote_refs" TEXT[],
    "details" TEXT NOT NULL,
    "first_seen_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMP(3),

    CONSTRAINT "catalog_issue_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "drift_record" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "listing_id" UUID NOT NULL,
    "expected" INTEGER NOT NULL,
    "observed" INTEGER NOT NULL,
    "cause" TEXT NOT NULL,
    "repaired" BOOLEAN NOT NULL DEFAULT false,
    "detected_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "drift_record_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "receipt_status_received_at_idx" ON "receipt"("status", "received_at");

-- CreateIndex
CREATE INDEX "receipt_shop_id_resource_id_idx" ON "receipt"("shop_id", "resource_id");

-- CreateIndex
CREATE UNIQUE INDEX "receipt_connection_id_event_id_key" ON "receipt"("connection_id", "event_id");

-- CreateIndex
CREATE INDEX "rejected_delivery_shop_domain_received_at_idx" ON "rejected_delivery"("shop_domain", "received_at");

-- CreateIndex
CREATE UNIQUE INDEX "source_adjustment_movement_id_key" ON "source_adjustment"("movement_id");

-- CreateIndex
CREATE INDEX "source_adjustment_connection_id_status_idx" ON "source_adjustment"("connection_id", "status");

-- CreateIndex
CREATE INDEX "source_adjustment_item_id_location_id_status_idx" ON "source_adjustment"("item_id", "location_id", "status");

-- CreateIndex
CREATE INDEX "push_trace_written_at_idx" ON "push_trace"("written_at");

-- CreateIndex
CREATE INDEX "sync_failure_shop_id_resolved_at_idx" ON "sync_failure"("shop_id", "resolved_at");

-- CreateIndex
CREATE INDEX "sync_failure_connection_id_resolved_at_idx" ON "sync_failure"("connection_id", "resolved_at");

-- CreateIndex
CREATE INDEX "catalog_issue_shop_id_resolved_at_idx" ON "catalog_issue"("shop_id", "resolved_at");

-- CreateIndex
CREATE UNIQUE INDEX "catalog_issue_connection_id_kind_sku_key" ON "catalog_issue"("connection_id", "kind", "sku");

-- CreateIndex
CREATE INDEX "drift_record_shop_id_detected_at_idx" ON "drift_record"("shop_id", "detected_at");

-- CreateIndex
CREATE INDEX "drift_record_connection_id_detected_at_idx" ON "drift_record"("connection_id", "detected_at");


-- Hand-written: shop-scoped rows go with their shop (shop/redact), connection-scoped rows with
-- their connection.
ALTER TABLE "receipt" ADD CONSTRAINT "receipt_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE;
ALTER TABLE "receipt" ADD CONSTRAINT "receipt_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE CASCADE;
ALTER TABLE "rejected_delivery" ADD CONSTRAINT "rejected_delivery_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE;
ALTER TABLE "source_adjustment" ADD CONSTRAINT "source_adjustment_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE;
ALTER TABLE "source_adjustment" ADD CONSTRAINT "source_adjustment_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE CASCADE;
ALTER TABLE "push_trace" ADD CONSTRAINT "push_trace_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE CASCADE;
ALTER TABLE "sync_failure" ADD CONSTRAINT "sync_failure_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE;
ALTER TABLE "sync_failure" ADD CONSTRAINT "sync_failure_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE CASCADE;
ALTER TABLE "catalog_issue" ADD CONSTRAINT "catalog_issue_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE;
ALTER TABLE "catalog_issue" ADD CONSTRAINT "catalog_issue_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE CASCADE;
ALTER TABLE "drift_record" ADD CONSTRAINT "drift_record_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE;
ALTER TABLE "drift_record" ADD CONSTRAINT "drift_record_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE CASCADE;

-- The sweeper looks for receipts that were stored but never applied.
CREATE INDEX "receipt_pending_idx" ON "receipt" ("received_at") WHERE "status" = 'pending';
CREATE INDEX "source_adjustment_pending_idx" ON "source_adjustment" ("connection_id", "item_id") WHERE "status" = 'pending';

-- Issue 13 parts 1 to 4. An oversell incident is provisional when recorded (a shortfall seen
-- while events may still be in flight) and confirmed with its units once the item has settled,
-- or explained (dropped) when the settled stock covers it. Its root cause is one of the five
-- causes with the evidence that decided it. The settlement row keeps the units of shortfall
-- already confirmed per item so settling again confirms only growth (idempotent).
ALTER TABLE "oversell_incident" ADD COLUMN "status" TEXT NOT NULL DEFAULT 'provisional';
ALTER TABLE "oversell_incident" ADD COLUMN "units" INTEGER;
ALTER TABLE "oversell_incident" ADD COLUMN "sale_at" TIMESTAMP(3);
ALTER TABLE "oversell_incident" ADD COLUMN "cause" TEXT;
ALTER TABLE "oversell_incident" ADD COLUMN "evidence" JSONB;
ALTER TABLE "oversell_incident" ADD COLUMN "merchant" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "oversell_incident" ADD COLUMN "settled_at" TIMESTAMP(3);
ALTER TABLE "oversell_incident" ADD COLUMN "resolution_note" TEXT;
ALTER TABLE "oversell_incident" ADD CONSTRAINT "oversell_incident_status_check" CHECK ("status" IN ('provisional', 'confirmed', 'explained', 'merchant_decision'));
ALTER TABLE "oversell_incident" ADD CONSTRAINT "oversell_incident_units_check" CHECK ("units" IS NULL OR "units" >= 0);
-- Rows recorded before this change were counted at once: they stay as they were, confirmed.
UPDATE "oversell_incident" SET "status" = 'confirmed', "units" = "shortfall", "settled_at" = "occurred_at", "cause" = 'unknown', "evidence" = '{"reason": "recorded before settling existed"}';
CREATE INDEX "oversell_incident_item_status_idx" ON "oversell_incident"("item_id", "status");
CREATE INDEX "oversell_incident_provisional_idx" ON "oversell_incident"("occurred_at") WHERE "status" = 'provisional';
CREATE INDEX "oversell_incident_shop_settled_idx" ON "oversell_incident"("shop_id", "settled_at") WHERE "status" = 'confirmed';

CREATE TABLE "incident_settlement" (
    "item_id" UUID NOT NULL,
    "shop_id" UUID NOT NULL,
    "confirmed_shortfall" INTEGER NOT NULL DEFAULT 0,
    "settled_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "incident_settlement_pkey" PRIMARY KEY ("item_id"),
    CONSTRAINT "incident_settlement_shortfall_check" CHECK ("confirmed_shortfall" >= 0)
);
CREATE INDEX "incident_settlement_open_idx" ON "incident_settlement"("shop_id") WHERE "confirmed_shortfall" > 0;
ALTER TABLE "incident_settlement" ADD CONSTRAINT "incident_settlement_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "stock_item"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "incident_settlement" ADD CONSTRAINT "incident_settlement_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Per shop alert settings: where alerts go and which conditions raise them.
CREATE TABLE "alert_settings" (
    "shop_id" UUID NOT NULL,
    "email_to" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "webhook_url" TEXT,
    "stale_minutes" INTEGER NOT NULL DEFAULT 15,
    "conditions" TEXT[] NOT NULL DEFAULT ARRAY['oversell', 'channel_stale', 'drift', 'subscription']::TEXT[],
    "digest" BOOLEAN NOT NULL DEFAULT false,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "alert_settings_pkey" PRIMARY KEY ("shop_id"),
    CONSTRAINT "alert_settings_stale_minutes_check" CHECK ("stale_minutes" BETWEEN 1 AND 1440)
);
ALTER TABLE "alert_settings" ADD CONSTRAINT "alert_settings_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One open alert per condition and subject until it clears (no repeat storms).
CREATE TABLE "alert" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "condition" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "details" JSONB NOT NULL DEFAULT '{}',
    "opened_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "cleared_at" TIMESTAMP(3),
    "email_sent_at" TIMESTAMP(3),
    "webhook_sent_at" TIMESTAMP(3),
    "delivery_attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    CONSTRAINT "alert_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "alert_open_key" ON "alert"("shop_id", "condition", "subject") WHERE "cleared_at" IS NULL;
CREATE INDEX "alert_shop_opened_idx" ON "alert"("shop_id", "opened_at");
ALTER TABLE "alert" ADD CONSTRAINT "alert_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

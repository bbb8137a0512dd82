-- Shopify Flow (issue 19).
-- The trigger outbox: one row per event StockGuard owes Flow, unique per shop and event key (an
-- incident id, a drift record id, a failing episode), written with the event where the event has
-- a transaction. The delivery claims a row with a lease, calls flowTriggerReceive, marks it sent
-- and never sends a sent row again. product_variant_ref names the variant whose product becomes
-- the product_id of a product_reference field at delivery time.
CREATE TABLE "flow_trigger" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "handle" TEXT NOT NULL,
    "event_key" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "product_variant_ref" TEXT,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lease_until" TIMESTAMP(3),
    "last_error" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMP(3),
    CONSTRAINT "flow_trigger_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "flow_trigger_status_check" CHECK ("status" IN ('pending', 'sending', 'sent', 'failed'))
);
CREATE UNIQUE INDEX "flow_trigger_shop_id_event_key_key" ON "flow_trigger"("shop_id", "event_key");
CREATE INDEX "flow_trigger_unsent_idx" ON "flow_trigger"("shop_id", "id") WHERE "status" IN ('pending', 'sending');
ALTER TABLE "flow_trigger" ADD CONSTRAINT "flow_trigger_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;
-- Flow action runs StockGuard applied: unique per shop and action_run_id (Flow resends the same
-- id when it retries), so a retried or replayed request is answered without applying it again.
CREATE TABLE "flow_action_run" (
    "shop_id" UUID NOT NULL,
    "action_run_id" TEXT NOT NULL,
    "handle" TEXT NOT NULL,
    "body_sha256" TEXT NOT NULL,
    "outcome" JSONB NOT NULL DEFAULT '{}',
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "flow_action_run_pkey" PRIMARY KEY ("shop_id", "action_run_id")
);
ALTER TABLE "flow_action_run" ADD CONSTRAINT "flow_action_run_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

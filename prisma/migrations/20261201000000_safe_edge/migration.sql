-- Receipts revived by the sweeper are counted, and past the cap a receipt is failed with an alert
-- instead of being retried forever (a poison event can no longer hide real ones).
ALTER TABLE "receipt" ADD COLUMN "revivals" INTEGER NOT NULL DEFAULT 0;
-- The sweeper takes the least-revived pending receipts first.
CREATE INDEX "receipt_pending_revivals_idx" ON "receipt"("revivals", "received_at") WHERE "status" = 'pending';
-- A delivery id already received for another account is a replay with a swapped account header.
CREATE INDEX "receipt_webhook_id_idx" ON "receipt"("webhook_id");
-- In catalog_issue an issue without a SKU (empty_sku) conflicts with itself on refresh instead of
-- adding a row each time.
DELETE FROM "catalog_issue" a USING "catalog_issue" b
 WHERE a."sku" IS NULL AND b."sku" IS NULL AND a."connection_id" = b."connection_id"
   AND a."kind" = b."kind" AND a."id" > b."id";
ALTER TABLE "catalog_issue" DROP CONSTRAINT IF EXISTS "catalog_issue_connection_id_kind_sku_key";
DROP INDEX IF EXISTS "catalog_issue_connection_id_kind_sku_key";
CREATE UNIQUE INDEX "catalog_issue_connection_id_kind_sku_key" ON "catalog_issue"("connection_id", "kind", "sku") NULLS NOT DISTINCT;

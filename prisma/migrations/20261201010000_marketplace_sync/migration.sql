-- Writes a marketplace accepted but has not applied yet (Amazon ACCEPTED, feeds): what was sent,
-- its tracking id and since when, until a read-back or a notification confirms it.
ALTER TABLE "listing" ADD COLUMN "pending_tracking_id" TEXT;
ALTER TABLE "listing" ADD COLUMN "pending_quantity" INTEGER;
ALTER TABLE "listing" ADD COLUMN "pending_since" TIMESTAMP(3);
-- Revisions written to a listing on its channel calendar day (eBay allows 250 per day).
ALTER TABLE "listing" ADD COLUMN "revisions_day" DATE;
ALTER TABLE "listing" ADD COLUMN "revisions_today" INTEGER NOT NULL DEFAULT 0;
CREATE INDEX "listing_pending_idx" ON "listing"("connection_id") WHERE "pending_tracking_id" IS NOT NULL;
-- Where the next poll of a connection starts (orders by last-modified, cancellations).
ALTER TABLE "connection" ADD COLUMN "poll_cursor" TEXT;
ALTER TABLE "connection" ADD COLUMN "polled_at" TIMESTAMP(3);
-- A marketplace authorisation in progress: the state parameter of its consent redirect, single use.
CREATE TABLE "connect_state" (
    "state" TEXT NOT NULL,
    "shop_id" UUID NOT NULL,
    "kind" "ChannelKind" NOT NULL,
    "api_base_url" TEXT,
    "redirect_uri" TEXT NOT NULL,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "used_at" TIMESTAMP(3),
    CONSTRAINT "connect_state_pkey" PRIMARY KEY ("state")
);
ALTER TABLE "connect_state" ADD CONSTRAINT "connect_state_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

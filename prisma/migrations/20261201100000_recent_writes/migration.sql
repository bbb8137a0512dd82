-- The quantities StockGuard wrote to a listing in the last seconds (each with when), so a
-- level update that only repeats one of them (an echo delivered late, after a newer write) is
-- not taken for a sale at the channel
ALTER TABLE "listing" ADD COLUMN "recent_writes" JSONB NOT NULL DEFAULT '[]';
-- What the channel shows may have changed on its own without a trustworthy report (its own
-- order cancelled, a rise reported late): the next push reads the listing before planning
ALTER TABLE "listing" ADD COLUMN "needs_read" BOOLEAN NOT NULL DEFAULT false;

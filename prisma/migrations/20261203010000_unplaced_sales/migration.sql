-- A channel's own sales whose orders were applied but could not be placed against StockGuard's
-- last look at the channel (the same second): the look may or may not include them, so the read
-- they owe does not hold them again as a drop nothing explains. Valid while the last look is
-- older than unplaced_at
ALTER TABLE "listing" ADD COLUMN "unplaced_sold" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "listing" ADD COLUMN "unplaced_at" TIMESTAMP(3);

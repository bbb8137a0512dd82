-- A drop at a source level that no event explains yet, seen by a counting read and not counted
-- until reads have shown it for a few seconds (the store's own order and shipment, both still in
-- flight, look exactly like a loss on the shelf)
ALTER TABLE "listing" ADD COLUMN "count_drop_units" INTEGER;
ALTER TABLE "listing" ADD COLUMN "count_drop_since" TIMESTAMP(3);

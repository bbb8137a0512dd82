-- A change (inventoryAdjustQuantities without compare) sent to a listing and not yet answered:
-- the push that sent it, and when. While another push's change may still land, a listing is
-- written with compare-and-set only, so a change is never applied twice (two pushes of one
-- connection at once, their lock lost with Redis, or a push killed between its call and its record).
ALTER TABLE "listing" ADD COLUMN "change_token" TEXT;
ALTER TABLE "listing" ADD COLUMN "change_sent_at" TIMESTAMP(3);

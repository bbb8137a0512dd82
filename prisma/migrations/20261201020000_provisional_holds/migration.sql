-- Provisional holds: units a channel's own drop in available shows sold before the order reached
-- the ledger. They lower what every other channel is offered at once, are consumed by the order
-- when it arrives, and released when nothing explains them in time. Not ledger facts.
CREATE TABLE "provisional_hold" (
    "listing_id" UUID NOT NULL,
    "shop_id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "units" INTEGER NOT NULL,
    "observed_at" TIMESTAMP(3) NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "provisional_hold_pkey" PRIMARY KEY ("listing_id"),
    CONSTRAINT "provisional_hold_units_check" CHECK ("units" > 0)
);
CREATE INDEX "provisional_hold_expires_at_idx" ON "provisional_hold"("expires_at");
ALTER TABLE "provisional_hold" ADD CONSTRAINT "provisional_hold_listing_id_fkey" FOREIGN KEY ("listing_id") REFERENCES "listing"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "provisional_hold" ADD CONSTRAINT "provisional_hold_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

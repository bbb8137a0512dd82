-- Buffer recommendations (issue 18): the service level a shop asks for, lead times per SKU
-- (or the shop default when sku is NULL) with their supplier, and the log of every
-- recommendation the merchant applied as a buffer rule
CREATE TABLE "recommendation_setting" (
    "shop_id" UUID NOT NULL,
    "service_level" DOUBLE PRECISION NOT NULL DEFAULT 0.99,
    "tail_owner" BOOLEAN NOT NULL DEFAULT true,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "recommendation_setting_pkey" PRIMARY KEY ("shop_id"),
    CONSTRAINT "recommendation_setting_level_check" CHECK ("service_level" >= 0.5 AND "service_level" <= 0.9999)
);
ALTER TABLE "recommendation_setting" ADD CONSTRAINT "recommendation_setting_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "lead_time" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "sku" TEXT,
    "supplier" TEXT,
    "days" DOUBLE PRECISION NOT NULL,
    "sd_days" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "lead_time_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "lead_time_days_check" CHECK ("days" >= 0 AND "days" <= 365 AND "sd_days" >= 0 AND "sd_days" <= 365)
);
CREATE UNIQUE INDEX "lead_time_shop_id_sku_key" ON "lead_time"("shop_id", "sku") NULLS NOT DISTINCT;
ALTER TABLE "lead_time" ADD CONSTRAINT "lead_time_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One row per recommendation applied: what it set, what was there before, and why
CREATE TABLE "recommendation_change" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "connection_id" UUID,
    "sku" TEXT NOT NULL,
    "kind" "BufferKind" NOT NULL,
    "value" INTEGER NOT NULL,
    "previous_value" INTEGER,
    "explanation" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "applied_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "recommendation_change_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "recommendation_change_shop_id_applied_at_idx" ON "recommendation_change"("shop_id", "applied_at");
ALTER TABLE "recommendation_change" ADD CONSTRAINT "recommendation_change_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "recommendation_change" ADD CONSTRAINT "recommendation_change_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

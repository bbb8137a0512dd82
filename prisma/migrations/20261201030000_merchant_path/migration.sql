-- A catalog import of one connection, as the merchant sees it: progress, errors, failure reason.
CREATE TABLE "import_run" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'running',
    "reason" TEXT NOT NULL DEFAULT 'install',
    "total" INTEGER,
    "imported" INTEGER NOT NULL DEFAULT 0,
    "issues" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "started_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMP(3),
    CONSTRAINT "import_run_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "import_run_connection_id_started_at_idx" ON "import_run"("connection_id", "started_at");
ALTER TABLE "import_run" ADD CONSTRAINT "import_run_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "import_run" ADD CONSTRAINT "import_run_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;
-- A one-time code a source store shows to link another store that installed StockGuard as one of
-- its sales channels. Only a hash of the code is kept.
CREATE TABLE "link_code" (
    "code_hash" TEXT NOT NULL,
    "shop_id" UUID NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "used_at" TIMESTAMP(3),
    "used_by" TEXT,
    CONSTRAINT "link_code_pkey" PRIMARY KEY ("code_hash")
);
ALTER TABLE "link_code" ADD CONSTRAINT "link_code_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;
-- A store linked as another shop's sales channel stops being a hub of its own.
ALTER TABLE "shop" ADD COLUMN "linked_to_shop_id" UUID;
-- When StockGuard released the units it held on the source store (before an uninstall).
ALTER TABLE "shop" ADD COLUMN "holds_released_at" TIMESTAMP(3);
-- An order line StockGuard could not match, mapped by the merchant to a stock item: the same
-- channel reference (SKU or variant) resolves to that item from then on.
CREATE TABLE "line_mapping" (
    "id" BIGSERIAL NOT NULL,
    "shop_id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "reference" TEXT NOT NULL,
    "item_id" UUID NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "line_mapping_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "line_mapping_connection_id_reference_key" ON "line_mapping"("connection_id", "reference");
ALTER TABLE "line_mapping" ADD CONSTRAINT "line_mapping_shop_id_fkey" FOREIGN KEY ("shop_id") REFERENCES "shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "line_mapping" ADD CONSTRAINT "line_mapping_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "stock_item"("id") ON DELETE CASCADE ON UPDATE CASCADE;

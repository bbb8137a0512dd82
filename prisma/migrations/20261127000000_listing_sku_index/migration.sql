-- Order lines are matched to a connection's listings by remote ref, variant or SKU in one query
-- (an OR of the three). Without this index the SKU arm scans every listing of the connection.
CREATE INDEX "listing_connection_id_sku_idx" ON "listing"("connection_id", "sku");

-- 0051 price_change_index_name (sqlite): the index of listing_price_changes on (listing_id, effective_for_subscribers_utc)
-- gets the name PostgreSQL can hold (63 characters at most), as on PostgreSQL; SQLite cannot rename an index.
DROP INDEX "ix_listing_price_changes_listing_id_effective_for_subscribers_utc";
CREATE INDEX "ix_listing_price_changes_listing_id_effective" ON "listing_price_changes" ("listing_id", "effective_for_subscribers_utc");

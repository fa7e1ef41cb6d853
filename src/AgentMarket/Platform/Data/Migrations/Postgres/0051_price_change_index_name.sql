-- 0051 price_change_index_name (postgres): the index of listing_price_changes on (listing_id, effective_for_subscribers_utc)
-- was created as ix_listing_price_changes_listing_id_effective_for_subscribers_utc, which PostgreSQL cut to 63 characters;
-- the model now names it within the limit.
ALTER INDEX ix_listing_price_changes_listing_id_effective_for_subscribers_u RENAME TO ix_listing_price_changes_listing_id_effective;

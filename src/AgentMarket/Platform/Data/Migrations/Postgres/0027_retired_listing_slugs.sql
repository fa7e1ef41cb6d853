-- 0027 retired_listing_slugs (postgres): slugs published listings had before their provider changed them, so buyers'
-- integrations that name an agent by its old slug keep reaching it, and no other listing can take the old slug.
CREATE TABLE retired_listing_slugs (
    slug character varying(80) NOT NULL,
    listing_id uuid NOT NULL,
    retired_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_retired_listing_slugs PRIMARY KEY (slug),
    CONSTRAINT fk_retired_listing_slugs_listings_listing_id FOREIGN KEY (listing_id) REFERENCES listings (id) ON DELETE CASCADE
);

CREATE INDEX ix_retired_listing_slugs_listing_id ON retired_listing_slugs (listing_id);

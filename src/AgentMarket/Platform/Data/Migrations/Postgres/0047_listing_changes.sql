-- 0047 listing_changes (postgres): an edit of what buyers read of a live listing waits here for an operator, one per listing (ADR-163).
CREATE TABLE listing_changes (
    listing_id uuid NOT NULL,
    name character varying(120),
    short_description character varying(300),
    description character varying(20000),
    tags text[],
    category_id uuid,
    preview_image_url character varying(500),
    submitted_utc timestamp with time zone NOT NULL,
    rejected_utc timestamp with time zone,
    rejection_note character varying(1000),
    CONSTRAINT pk_listing_changes PRIMARY KEY (listing_id),
    CONSTRAINT fk_listing_changes_categories_category_id FOREIGN KEY (category_id) REFERENCES categories (id) ON DELETE RESTRICT,
    CONSTRAINT fk_listing_changes_listings_listing_id FOREIGN KEY (listing_id) REFERENCES listings (id) ON DELETE CASCADE
);
CREATE INDEX ix_listing_changes_category_id ON listing_changes (category_id);

-- 0047 listing_changes (sqlite): an edit of what buyers read of a live listing waits here for an operator, one per listing (ADR-163).
CREATE TABLE "listing_changes" (
    "listing_id" TEXT NOT NULL CONSTRAINT "pk_listing_changes" PRIMARY KEY,
    "name" TEXT NULL,
    "short_description" TEXT NULL,
    "description" TEXT NULL,
    "tags" TEXT NULL,
    "category_id" TEXT NULL,
    "preview_image_url" TEXT NULL,
    "submitted_utc" TEXT NOT NULL,
    "rejected_utc" TEXT NULL,
    "rejection_note" TEXT NULL,
    CONSTRAINT "fk_listing_changes_categories_category_id" FOREIGN KEY ("category_id") REFERENCES "categories" ("id") ON DELETE RESTRICT,
    CONSTRAINT "fk_listing_changes_listings_listing_id" FOREIGN KEY ("listing_id") REFERENCES "listings" ("id") ON DELETE CASCADE
);
CREATE INDEX "ix_listing_changes_category_id" ON "listing_changes" ("category_id");

-- 0016 console (sqlite): featured listings, hidden reviews, the platform metrics' daily rollups (backfilled from the provider rollups), indexes for payments and sign-ups by time.
-- Generated with scripts/schema-delta.py sqlite, then reviewed; the ALTER TABLE and backfill statements are hand-written.

CREATE TABLE "platform_days" (
    "day" TEXT NOT NULL CONSTRAINT "pk_platform_days" PRIMARY KEY,
    "runs" INTEGER NOT NULL,
    "succeeded" INTEGER NOT NULL,
    "credits_spent" INTEGER NOT NULL,
    "trial_credits" INTEGER NOT NULL,
    "platform_fees" INTEGER NOT NULL,
    "active_organizations" INTEGER NOT NULL
);

CREATE TABLE "platform_listing_days" (
    "day" TEXT NOT NULL,
    "listing_id" TEXT NOT NULL,
    "provider_id" TEXT NOT NULL,
    "runs" INTEGER NOT NULL,
    "succeeded" INTEGER NOT NULL,
    "gross_credits" INTEGER NOT NULL,
    CONSTRAINT "pk_platform_listing_days" PRIMARY KEY ("day", "listing_id")
);

CREATE TABLE "platform_organization_days" (
    "day" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "runs" INTEGER NOT NULL,
    CONSTRAINT "pk_platform_organization_days" PRIMARY KEY ("day", "organization_id")
);

CREATE TABLE "featured_listings" (
    "listing_id" TEXT NOT NULL CONSTRAINT "pk_featured_listings" PRIMARY KEY,
    "position" INTEGER NOT NULL,
    "featured_utc" TEXT NOT NULL,
    "featured_by_user_id" TEXT NULL,
    CONSTRAINT "fk_featured_listings_listings_listing_id" FOREIGN KEY ("listing_id") REFERENCES "listings" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_featured_listings_position" ON "featured_listings" ("position");

CREATE INDEX "ix_payments_completed_utc" ON "payments" ("completed_utc");

CREATE INDEX "ix_users_created_utc" ON "users" ("created_utc");

ALTER TABLE "reviews" ADD COLUMN "hidden_utc" TEXT NULL;
ALTER TABLE "reviews" ADD COLUMN "hidden_reason" TEXT NULL;

-- The platform rollups are sums of the provider rollups: existing runs count from the start.
INSERT INTO platform_days (day, runs, succeeded, credits_spent, trial_credits, platform_fees, active_organizations)
SELECT day, SUM(runs), SUM(succeeded),
       SUM(CASE WHEN buyer_organization_id <> '00000000-0000-0000-0000-000000000000' THEN gross_credits ELSE 0 END),
       SUM(CASE WHEN buyer_organization_id = '00000000-0000-0000-0000-000000000000' THEN gross_credits ELSE 0 END),
       SUM(platform_fees),
       COUNT(DISTINCT CASE WHEN buyer_organization_id <> '00000000-0000-0000-0000-000000000000' THEN buyer_organization_id END)
FROM economics_days GROUP BY day;

INSERT INTO platform_listing_days (day, listing_id, provider_id, runs, succeeded, gross_credits)
SELECT day, listing_id, provider_id, SUM(runs), SUM(succeeded), SUM(gross_credits)
FROM economics_days GROUP BY day, listing_id, provider_id;

INSERT INTO platform_organization_days (day, organization_id, runs)
SELECT day, buyer_organization_id, SUM(runs)
FROM economics_days WHERE buyer_organization_id <> '00000000-0000-0000-0000-000000000000' GROUP BY day, buyer_organization_id;

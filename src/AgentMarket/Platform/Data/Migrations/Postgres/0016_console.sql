-- 0016 console (postgres): featured listings, hidden reviews, the platform metrics' daily rollups (backfilled from the provider rollups), indexes for payments and sign-ups by time.
-- Generated with scripts/schema-delta.py postgres, then reviewed; the ALTER TABLE and backfill statements are hand-written.

CREATE TABLE platform_days (
    day date NOT NULL,
    runs bigint NOT NULL,
    succeeded bigint NOT NULL,
    credits_spent bigint NOT NULL,
    trial_credits bigint NOT NULL,
    platform_fees bigint NOT NULL,
    active_organizations bigint NOT NULL,
    CONSTRAINT pk_platform_days PRIMARY KEY (day)
);

CREATE TABLE platform_listing_days (
    day date NOT NULL,
    listing_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    runs bigint NOT NULL,
    succeeded bigint NOT NULL,
    gross_credits bigint NOT NULL,
    CONSTRAINT pk_platform_listing_days PRIMARY KEY (day, listing_id)
);

CREATE TABLE platform_organization_days (
    day date NOT NULL,
    organization_id uuid NOT NULL,
    runs bigint NOT NULL,
    CONSTRAINT pk_platform_organization_days PRIMARY KEY (day, organization_id)
);

CREATE TABLE featured_listings (
    listing_id uuid NOT NULL,
    position integer NOT NULL,
    featured_utc timestamp with time zone NOT NULL,
    featured_by_user_id uuid,
    CONSTRAINT pk_featured_listings PRIMARY KEY (listing_id),
    CONSTRAINT fk_featured_listings_listings_listing_id FOREIGN KEY (listing_id) REFERENCES listings (id) ON DELETE CASCADE
);

CREATE INDEX ix_featured_listings_position ON featured_listings (position);

CREATE INDEX ix_payments_completed_utc ON payments (completed_utc);

CREATE INDEX ix_users_created_utc ON users (created_utc);

ALTER TABLE reviews ADD COLUMN hidden_utc timestamp with time zone;
ALTER TABLE reviews ADD COLUMN hidden_reason character varying(1000);

-- The platform rollups are sums of the provider rollups: existing runs count from the start.
INSERT INTO platform_days (day, runs, succeeded, credits_spent, trial_credits, platform_fees, active_organizations)
SELECT day, SUM(runs), SUM(succeeded),
       SUM(CASE WHEN buyer_organization_id <> '00000000-0000-0000-0000-000000000000'::uuid THEN gross_credits ELSE 0 END),
       SUM(CASE WHEN buyer_organization_id = '00000000-0000-0000-0000-000000000000'::uuid THEN gross_credits ELSE 0 END),
       SUM(platform_fees),
       COUNT(DISTINCT buyer_organization_id) FILTER (WHERE buyer_organization_id <> '00000000-0000-0000-0000-000000000000'::uuid)
FROM economics_days GROUP BY day;

INSERT INTO platform_listing_days (day, listing_id, provider_id, runs, succeeded, gross_credits)
SELECT day, listing_id, provider_id, SUM(runs), SUM(succeeded), SUM(gross_credits)
FROM economics_days GROUP BY day, listing_id, provider_id;

INSERT INTO platform_organization_days (day, organization_id, runs)
SELECT day, buyer_organization_id, SUM(runs)
FROM economics_days WHERE buyer_organization_id <> '00000000-0000-0000-0000-000000000000'::uuid GROUP BY day, buyer_organization_id;

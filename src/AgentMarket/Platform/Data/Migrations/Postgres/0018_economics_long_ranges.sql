-- 0018 economics_long_ranges (postgres): the provider dashboard's listing-day and customer-month rollups and its latency histogram per provider instead of per listing (all backfilled from the existing rollups), so a year reads a row per listing and day, per customer and month, and per latency bucket and day.
-- Generated with scripts/schema-delta.py postgres, then reviewed; the backfill and DROP TABLE statements are hand-written.

CREATE TABLE economics_customer_months (
    provider_id uuid NOT NULL,
    month date NOT NULL,
    buyer_organization_id uuid NOT NULL,
    runs bigint NOT NULL,
    gross_credits bigint NOT NULL,
    CONSTRAINT pk_economics_customer_months PRIMARY KEY (provider_id, month, buyer_organization_id)
);

CREATE TABLE economics_latency_days (
    provider_id uuid NOT NULL,
    day date NOT NULL,
    latency_ms integer NOT NULL,
    runs bigint NOT NULL,
    CONSTRAINT pk_economics_latency_days PRIMARY KEY (provider_id, day, latency_ms)
);

CREATE TABLE economics_listing_days (
    provider_id uuid NOT NULL,
    day date NOT NULL,
    listing_id uuid NOT NULL,
    runs bigint NOT NULL,
    succeeded bigint NOT NULL,
    gross_credits bigint NOT NULL,
    promotional_credits bigint NOT NULL,
    provider_earnings bigint NOT NULL,
    platform_fees bigint NOT NULL,
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    model_cost_microcredits bigint NOT NULL,
    latency_ms_sum bigint NOT NULL,
    CONSTRAINT pk_economics_listing_days PRIMARY KEY (provider_id, day, listing_id)
);

-- Both are sums of the buyer-level days: existing runs count from the start.
INSERT INTO economics_listing_days (provider_id, day, listing_id, runs, succeeded, gross_credits, promotional_credits, provider_earnings,
    platform_fees, input_tokens, output_tokens, model_cost_microcredits, latency_ms_sum)
SELECT provider_id, day, listing_id, SUM(runs), SUM(succeeded), SUM(gross_credits), SUM(promotional_credits), SUM(provider_earnings),
       SUM(platform_fees), SUM(input_tokens), SUM(output_tokens), SUM(model_cost_microcredits), SUM(latency_ms_sum)
FROM economics_days GROUP BY provider_id, day, listing_id;

INSERT INTO economics_customer_months (provider_id, month, buyer_organization_id, runs, gross_credits)
SELECT provider_id, date_trunc('month', day)::date, buyer_organization_id, SUM(runs), SUM(gross_credits)
FROM economics_days WHERE buyer_organization_id <> '00000000-0000-0000-0000-000000000000'::uuid
GROUP BY provider_id, date_trunc('month', day)::date, buyer_organization_id;

-- The per-listing histogram was only ever read summed over the provider's listings.
INSERT INTO economics_latency_days (provider_id, day, latency_ms, runs)
SELECT provider_id, day, latency_ms, SUM(runs) FROM economics_latencies GROUP BY provider_id, day, latency_ms;

DROP TABLE economics_latencies;

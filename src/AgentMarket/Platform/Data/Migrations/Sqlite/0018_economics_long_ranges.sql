-- 0018 economics_long_ranges (sqlite): the provider dashboard's listing-day and customer-month rollups and its latency histogram per provider instead of per listing (all backfilled from the existing rollups), so a year reads a row per listing and day, per customer and month, and per latency bucket and day.
-- Generated with scripts/schema-delta.py sqlite, then reviewed; the backfill and DROP TABLE statements are hand-written.

CREATE TABLE "economics_customer_months" (
    "provider_id" TEXT NOT NULL,
    "month" TEXT NOT NULL,
    "buyer_organization_id" TEXT NOT NULL,
    "runs" INTEGER NOT NULL,
    "gross_credits" INTEGER NOT NULL,
    CONSTRAINT "pk_economics_customer_months" PRIMARY KEY ("provider_id", "month", "buyer_organization_id")
);

CREATE TABLE "economics_latency_days" (
    "provider_id" TEXT NOT NULL,
    "day" TEXT NOT NULL,
    "latency_ms" INTEGER NOT NULL,
    "runs" INTEGER NOT NULL,
    CONSTRAINT "pk_economics_latency_days" PRIMARY KEY ("provider_id", "day", "latency_ms")
);

CREATE TABLE "economics_listing_days" (
    "provider_id" TEXT NOT NULL,
    "day" TEXT NOT NULL,
    "listing_id" TEXT NOT NULL,
    "runs" INTEGER NOT NULL,
    "succeeded" INTEGER NOT NULL,
    "gross_credits" INTEGER NOT NULL,
    "promotional_credits" INTEGER NOT NULL,
    "provider_earnings" INTEGER NOT NULL,
    "platform_fees" INTEGER NOT NULL,
    "input_tokens" INTEGER NOT NULL,
    "output_tokens" INTEGER NOT NULL,
    "model_cost_microcredits" INTEGER NOT NULL,
    "latency_ms_sum" INTEGER NOT NULL,
    CONSTRAINT "pk_economics_listing_days" PRIMARY KEY ("provider_id", "day", "listing_id")
);

-- Both are sums of the buyer-level days: existing runs count from the start. Days are ISO text, so a month's key is
-- its first day's text.
INSERT INTO economics_listing_days (provider_id, day, listing_id, runs, succeeded, gross_credits, promotional_credits, provider_earnings,
    platform_fees, input_tokens, output_tokens, model_cost_microcredits, latency_ms_sum)
SELECT provider_id, day, listing_id, SUM(runs), SUM(succeeded), SUM(gross_credits), SUM(promotional_credits), SUM(provider_earnings),
       SUM(platform_fees), SUM(input_tokens), SUM(output_tokens), SUM(model_cost_microcredits), SUM(latency_ms_sum)
FROM economics_days GROUP BY provider_id, day, listing_id;

INSERT INTO economics_customer_months (provider_id, month, buyer_organization_id, runs, gross_credits)
SELECT provider_id, substr(day, 1, 8) || '01', buyer_organization_id, SUM(runs), SUM(gross_credits)
FROM economics_days WHERE buyer_organization_id <> '00000000-0000-0000-0000-000000000000'
GROUP BY provider_id, substr(day, 1, 8) || '01', buyer_organization_id;

-- The per-listing histogram was only ever read summed over the provider's listings.
INSERT INTO economics_latency_days (provider_id, day, latency_ms, runs)
SELECT provider_id, day, latency_ms, SUM(runs) FROM economics_latencies GROUP BY provider_id, day, latency_ms;

DROP TABLE economics_latencies;

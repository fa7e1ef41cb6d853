-- 0014 economics (sqlite): providers' daily earnings rollups and latency histograms, payout settings, payouts and statement lines.
-- Generated with scripts/schema-delta.py sqlite, then reviewed.

CREATE TABLE "economics_days" (
    "provider_id" TEXT NOT NULL,
    "day" TEXT NOT NULL,
    "listing_id" TEXT NOT NULL,
    "buyer_organization_id" TEXT NOT NULL,
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
    CONSTRAINT "pk_economics_days" PRIMARY KEY ("provider_id", "day", "listing_id", "buyer_organization_id")
);

CREATE TABLE "economics_latencies" (
    "provider_id" TEXT NOT NULL,
    "day" TEXT NOT NULL,
    "listing_id" TEXT NOT NULL,
    "latency_ms" INTEGER NOT NULL,
    "runs" INTEGER NOT NULL,
    CONSTRAINT "pk_economics_latencies" PRIMARY KEY ("provider_id", "day", "listing_id", "latency_ms")
);

CREATE TABLE "payout_settings" (
    "provider_id" TEXT NOT NULL CONSTRAINT "pk_payout_settings" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "minimum_cents" INTEGER NOT NULL,
    "stripe_account_id" TEXT NULL,
    "stripe_transfers_enabled" INTEGER NOT NULL,
    "updated_utc" TEXT NOT NULL
);

CREATE TABLE "payouts" (
    "id" TEXT NOT NULL CONSTRAINT "pk_payouts" PRIMARY KEY,
    "provider_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "statement_from" TEXT NOT NULL,
    "statement_to" TEXT NOT NULL,
    "credits" INTEGER NOT NULL,
    "amount_cents" INTEGER NOT NULL,
    "method" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reference" TEXT NULL,
    "stripe_transfer_id" TEXT NULL,
    "note" TEXT NULL,
    "created_utc" TEXT NOT NULL,
    "paid_utc" TEXT NULL,
    CONSTRAINT "ck_payouts_credits" CHECK (credits > 0)
);

CREATE TABLE "payout_lines" (
    "id" TEXT NOT NULL CONSTRAINT "pk_payout_lines" PRIMARY KEY,
    "payout_id" TEXT NOT NULL,
    "listing_id" TEXT NULL,
    "description" TEXT NOT NULL,
    "runs" INTEGER NOT NULL,
    "gross_credits" INTEGER NOT NULL,
    "commission_credits" INTEGER NOT NULL,
    "net_credits" INTEGER NOT NULL,
    CONSTRAINT "fk_payout_lines_payouts_payout_id" FOREIGN KEY ("payout_id") REFERENCES "payouts" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_payout_lines_payout_id" ON "payout_lines" ("payout_id");

CREATE INDEX "ix_payout_settings_organization_id" ON "payout_settings" ("organization_id");

CREATE INDEX "ix_payout_settings_stripe_account_id" ON "payout_settings" ("stripe_account_id");

CREATE INDEX "ix_payouts_organization_id_created_utc" ON "payouts" ("organization_id", "created_utc");

CREATE UNIQUE INDEX "ix_payouts_provider_id_period" ON "payouts" ("provider_id", "period");

CREATE INDEX "ix_payouts_status" ON "payouts" ("status");


-- 0014 economics (postgres): providers' daily earnings rollups and latency histograms, payout settings, payouts and statement lines.
-- Generated with scripts/schema-delta.py postgres, then reviewed.

CREATE TABLE economics_days (
    provider_id uuid NOT NULL,
    day date NOT NULL,
    listing_id uuid NOT NULL,
    buyer_organization_id uuid NOT NULL,
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
    CONSTRAINT pk_economics_days PRIMARY KEY (provider_id, day, listing_id, buyer_organization_id)
);

CREATE TABLE economics_latencies (
    provider_id uuid NOT NULL,
    day date NOT NULL,
    listing_id uuid NOT NULL,
    latency_ms integer NOT NULL,
    runs bigint NOT NULL,
    CONSTRAINT pk_economics_latencies PRIMARY KEY (provider_id, day, listing_id, latency_ms)
);

CREATE TABLE payout_settings (
    provider_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    method character varying(40) NOT NULL,
    minimum_cents bigint NOT NULL,
    stripe_account_id character varying(100),
    stripe_transfers_enabled boolean NOT NULL,
    updated_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_payout_settings PRIMARY KEY (provider_id)
);

CREATE TABLE payouts (
    id uuid NOT NULL,
    provider_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    period character varying(7) NOT NULL,
    statement_from date NOT NULL,
    statement_to date NOT NULL,
    credits bigint NOT NULL,
    amount_cents bigint NOT NULL,
    method character varying(40) NOT NULL,
    status character varying(40) NOT NULL,
    reference character varying(200),
    stripe_transfer_id character varying(100),
    note character varying(500),
    created_utc timestamp with time zone NOT NULL,
    paid_utc timestamp with time zone,
    CONSTRAINT pk_payouts PRIMARY KEY (id),
    CONSTRAINT ck_payouts_credits CHECK (credits > 0)
);

CREATE TABLE payout_lines (
    id uuid NOT NULL,
    payout_id uuid NOT NULL,
    listing_id uuid,
    description character varying(200) NOT NULL,
    runs bigint NOT NULL,
    gross_credits bigint NOT NULL,
    commission_credits bigint NOT NULL,
    net_credits bigint NOT NULL,
    CONSTRAINT pk_payout_lines PRIMARY KEY (id),
    CONSTRAINT fk_payout_lines_payouts_payout_id FOREIGN KEY (payout_id) REFERENCES payouts (id) ON DELETE CASCADE
);

CREATE INDEX ix_payout_lines_payout_id ON payout_lines (payout_id);

CREATE INDEX ix_payout_settings_organization_id ON payout_settings (organization_id);

CREATE INDEX ix_payout_settings_stripe_account_id ON payout_settings (stripe_account_id);

CREATE INDEX ix_payouts_organization_id_created_utc ON payouts (organization_id, created_utc);

CREATE UNIQUE INDEX ix_payouts_provider_id_period ON payouts (provider_id, period);

CREATE INDEX ix_payouts_status ON payouts (status);


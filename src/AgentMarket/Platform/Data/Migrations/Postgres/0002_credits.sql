-- 0002 credits and payments (postgres): the double-entry ledger, plans, packages, organization plans, payments, receipts, event outbox, counters.
-- Generated with scripts/schema-delta.py postgres, then reviewed.

CREATE TABLE credit_packages (
    id uuid NOT NULL,
    name character varying(100) NOT NULL,
    credits bigint NOT NULL,
    bonus_credits bigint NOT NULL,
    price_cents bigint NOT NULL,
    active boolean NOT NULL,
    sort_order integer NOT NULL,
    CONSTRAINT pk_credit_packages PRIMARY KEY (id)
);

CREATE TABLE ledger_accounts (
    id uuid NOT NULL,
    kind character varying(40) NOT NULL,
    owner_id uuid NOT NULL,
    debits_pending bigint NOT NULL,
    debits_posted bigint NOT NULL,
    credits_pending bigint NOT NULL,
    credits_posted bigint NOT NULL,
    must_not_overdraw boolean NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_ledger_accounts PRIMARY KEY (id)
);

CREATE TABLE ledger_operations (
    id uuid NOT NULL,
    idempotency_key character varying(200) NOT NULL,
    request_hash character varying(64) NOT NULL,
    kind character varying(40) NOT NULL,
    organization_id uuid,
    provider_id uuid,
    code character varying(20) NOT NULL,
    amount bigint NOT NULL,
    balance_after bigint,
    description character varying(300),
    reference_type character varying(40),
    reference_id character varying(100),
    reserved bigint NOT NULL,
    expires_utc timestamp with time zone,
    resolved_utc timestamp with time zone,
    created_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_ledger_operations PRIMARY KEY (id)
);

CREATE TABLE outbox_events (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    type character varying(60) NOT NULL,
    payload text NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    dispatched_utc timestamp with time zone,
    CONSTRAINT pk_outbox_events PRIMARY KEY (id)
);

CREATE TABLE plans (
    id uuid NOT NULL,
    code character varying(40) NOT NULL,
    name character varying(100) NOT NULL,
    monthly_price_cents bigint NOT NULL,
    yearly_monthly_price_cents bigint NOT NULL,
    monthly_credits bigint NOT NULL,
    daily_credits bigint NOT NULL,
    concurrent_sessions integer NOT NULL,
    storage_gb integer NOT NULL,
    widget_pages integer NOT NULL,
    can_top_up boolean NOT NULL,
    is_custom boolean NOT NULL,
    features text[] NOT NULL,
    sort_order integer NOT NULL,
    CONSTRAINT pk_plans PRIMARY KEY (id)
);

CREATE TABLE receipts (
    id uuid NOT NULL,
    sequence bigint NOT NULL,
    organization_id uuid NOT NULL,
    payment_id uuid NOT NULL,
    bill_to character varying(200) NOT NULL,
    subtotal_cents bigint NOT NULL,
    tax_cents bigint NOT NULL,
    total_cents bigint NOT NULL,
    currency character varying(3) NOT NULL,
    status character varying(40) NOT NULL,
    test_mode boolean NOT NULL,
    issued_utc timestamp with time zone NOT NULL,
    lines jsonb,
    CONSTRAINT pk_receipts PRIMARY KEY (id)
);

CREATE TABLE sequences (
    name character varying(40) NOT NULL,
    value bigint NOT NULL,
    CONSTRAINT pk_sequences PRIMARY KEY (name)
);

CREATE TABLE ledger_transfers (
    id uuid NOT NULL,
    operation_id uuid NOT NULL,
    debit_account_id uuid NOT NULL,
    credit_account_id uuid NOT NULL,
    amount bigint NOT NULL,
    kind character varying(40) NOT NULL,
    pending_id uuid,
    code character varying(20) NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_ledger_transfers PRIMARY KEY (id),
    CONSTRAINT ck_ledger_transfers_accounts CHECK (debit_account_id <> credit_account_id),
    CONSTRAINT ck_ledger_transfers_amount CHECK (amount > 0),
    CONSTRAINT fk_ledger_transfers_ledger_accounts_credit_account_id FOREIGN KEY (credit_account_id) REFERENCES ledger_accounts (id) ON DELETE RESTRICT,
    CONSTRAINT fk_ledger_transfers_ledger_accounts_debit_account_id FOREIGN KEY (debit_account_id) REFERENCES ledger_accounts (id) ON DELETE RESTRICT,
    CONSTRAINT fk_ledger_transfers_ledger_operations_operation_id FOREIGN KEY (operation_id) REFERENCES ledger_operations (id) ON DELETE RESTRICT
);

CREATE TABLE organization_plans (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    plan_code character varying(40) NOT NULL,
    interval character varying(40) NOT NULL,
    current_period_end_utc timestamp with time zone,
    current_period_start_utc timestamp with time zone,
    credit_period_start_utc timestamp with time zone,
    scheduled_plan_code character varying(40),
    scheduled_interval character varying(40),
    external_subscription_id character varying(100),
    low_balance_threshold bigint,
    low_balance_alerted boolean NOT NULL,
    auto_top_up_package_id uuid,
    auto_top_up_threshold bigint,
    session_credit_cap bigint,
    created_utc timestamp with time zone NOT NULL,
    updated_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_organization_plans PRIMARY KEY (id),
    CONSTRAINT fk_organization_plans_organizations_organization_id FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);

CREATE TABLE payments (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    provider character varying(40) NOT NULL,
    purpose character varying(40) NOT NULL,
    package_id uuid,
    plan_code character varying(40),
    interval character varying(40),
    amount_cents bigint NOT NULL,
    currency character varying(3) NOT NULL,
    credits bigint NOT NULL,
    description character varying(300) NOT NULL,
    status character varying(40) NOT NULL,
    failure_reason character varying(300),
    card_last4 character varying(4),
    external_checkout_id character varying(200),
    external_payment_id character varying(200),
    refunded_cents bigint NOT NULL,
    period_start_utc timestamp with time zone,
    idempotency_key character varying(200),
    created_by_user_id uuid,
    created_utc timestamp with time zone NOT NULL,
    completed_utc timestamp with time zone,
    CONSTRAINT pk_payments PRIMARY KEY (id),
    CONSTRAINT fk_payments_organizations_organization_id FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX ix_credit_packages_name ON credit_packages (name);

CREATE UNIQUE INDEX ix_ledger_accounts_owner_id_kind ON ledger_accounts (owner_id, kind);

CREATE UNIQUE INDEX ix_ledger_operations_idempotency_key ON ledger_operations (idempotency_key);

CREATE INDEX ix_ledger_operations_kind_resolved_utc_expires_utc ON ledger_operations (kind, resolved_utc, expires_utc);

CREATE INDEX ix_ledger_operations_organization_id_created_utc ON ledger_operations (organization_id, created_utc);

CREATE INDEX ix_ledger_transfers_credit_account_id ON ledger_transfers (credit_account_id);

CREATE INDEX ix_ledger_transfers_debit_account_id ON ledger_transfers (debit_account_id);

CREATE INDEX ix_ledger_transfers_operation_id ON ledger_transfers (operation_id);

CREATE UNIQUE INDEX ix_ledger_transfers_pending_id ON ledger_transfers (pending_id);

CREATE INDEX ix_organization_plans_current_period_end_utc ON organization_plans (current_period_end_utc);

CREATE UNIQUE INDEX ix_organization_plans_organization_id ON organization_plans (organization_id);

CREATE INDEX ix_outbox_events_dispatched_utc_created_utc ON outbox_events (dispatched_utc, created_utc);

CREATE INDEX ix_outbox_events_organization_id_created_utc ON outbox_events (organization_id, created_utc);

CREATE INDEX ix_payments_external_checkout_id ON payments (external_checkout_id);

CREATE INDEX ix_payments_external_payment_id ON payments (external_payment_id);

CREATE UNIQUE INDEX ix_payments_idempotency_key ON payments (idempotency_key);

CREATE INDEX ix_payments_organization_id_created_utc ON payments (organization_id, created_utc);

CREATE UNIQUE INDEX ix_plans_code ON plans (code);

CREATE INDEX ix_receipts_organization_id_issued_utc ON receipts (organization_id, issued_utc);

CREATE UNIQUE INDEX ix_receipts_payment_id ON receipts (payment_id);

CREATE UNIQUE INDEX ix_receipts_sequence ON receipts (sequence);

INSERT INTO sequences (name, value) VALUES ('receipt', 0);

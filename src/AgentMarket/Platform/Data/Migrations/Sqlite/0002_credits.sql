-- 0002 credits and payments (sqlite): the double-entry ledger, plans, packages, organization plans, payments, receipts, event outbox, counters.
-- Generated with scripts/schema-delta.py sqlite, then reviewed.

CREATE TABLE "credit_packages" (
    "id" TEXT NOT NULL CONSTRAINT "pk_credit_packages" PRIMARY KEY,
    "name" TEXT NOT NULL,
    "credits" INTEGER NOT NULL,
    "bonus_credits" INTEGER NOT NULL,
    "price_cents" INTEGER NOT NULL,
    "active" INTEGER NOT NULL,
    "sort_order" INTEGER NOT NULL
);

CREATE TABLE "ledger_accounts" (
    "id" TEXT NOT NULL CONSTRAINT "pk_ledger_accounts" PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "owner_id" TEXT NOT NULL,
    "debits_pending" INTEGER NOT NULL,
    "debits_posted" INTEGER NOT NULL,
    "credits_pending" INTEGER NOT NULL,
    "credits_posted" INTEGER NOT NULL,
    "must_not_overdraw" INTEGER NOT NULL,
    "created_utc" TEXT NOT NULL
);

CREATE TABLE "ledger_operations" (
    "id" TEXT NOT NULL CONSTRAINT "pk_ledger_operations" PRIMARY KEY,
    "idempotency_key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "organization_id" TEXT NULL,
    "provider_id" TEXT NULL,
    "code" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,
    "balance_after" INTEGER NULL,
    "description" TEXT NULL,
    "reference_type" TEXT NULL,
    "reference_id" TEXT NULL,
    "reserved" INTEGER NOT NULL,
    "expires_utc" TEXT NULL,
    "resolved_utc" TEXT NULL,
    "created_utc" TEXT NOT NULL
);

CREATE TABLE "outbox_events" (
    "id" TEXT NOT NULL CONSTRAINT "pk_outbox_events" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL,
    "dispatched_utc" TEXT NULL
);

CREATE TABLE "plans" (
    "id" TEXT NOT NULL CONSTRAINT "pk_plans" PRIMARY KEY,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "monthly_price_cents" INTEGER NOT NULL,
    "yearly_monthly_price_cents" INTEGER NOT NULL,
    "monthly_credits" INTEGER NOT NULL,
    "daily_credits" INTEGER NOT NULL,
    "concurrent_sessions" INTEGER NOT NULL,
    "storage_gb" INTEGER NOT NULL,
    "widget_pages" INTEGER NOT NULL,
    "can_top_up" INTEGER NOT NULL,
    "is_custom" INTEGER NOT NULL,
    "features" TEXT NOT NULL,
    "sort_order" INTEGER NOT NULL
);

CREATE TABLE "receipts" (
    "id" TEXT NOT NULL CONSTRAINT "pk_receipts" PRIMARY KEY,
    "sequence" INTEGER NOT NULL,
    "organization_id" TEXT NOT NULL,
    "payment_id" TEXT NOT NULL,
    "bill_to" TEXT NOT NULL,
    "subtotal_cents" INTEGER NOT NULL,
    "tax_cents" INTEGER NOT NULL,
    "total_cents" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "test_mode" INTEGER NOT NULL,
    "issued_utc" TEXT NOT NULL,
    "lines" TEXT NULL
);

CREATE TABLE "sequences" (
    "name" TEXT NOT NULL CONSTRAINT "pk_sequences" PRIMARY KEY,
    "value" INTEGER NOT NULL
);

CREATE TABLE "ledger_transfers" (
    "id" TEXT NOT NULL CONSTRAINT "pk_ledger_transfers" PRIMARY KEY,
    "operation_id" TEXT NOT NULL,
    "debit_account_id" TEXT NOT NULL,
    "credit_account_id" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "pending_id" TEXT NULL,
    "code" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL,
    CONSTRAINT "ck_ledger_transfers_accounts" CHECK (debit_account_id <> credit_account_id),
    CONSTRAINT "ck_ledger_transfers_amount" CHECK (amount > 0),
    CONSTRAINT "fk_ledger_transfers_ledger_accounts_credit_account_id" FOREIGN KEY ("credit_account_id") REFERENCES "ledger_accounts" ("id") ON DELETE RESTRICT,
    CONSTRAINT "fk_ledger_transfers_ledger_accounts_debit_account_id" FOREIGN KEY ("debit_account_id") REFERENCES "ledger_accounts" ("id") ON DELETE RESTRICT,
    CONSTRAINT "fk_ledger_transfers_ledger_operations_operation_id" FOREIGN KEY ("operation_id") REFERENCES "ledger_operations" ("id") ON DELETE RESTRICT
);

CREATE TABLE "organization_plans" (
    "id" TEXT NOT NULL CONSTRAINT "pk_organization_plans" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "plan_code" TEXT NOT NULL,
    "interval" TEXT NOT NULL,
    "current_period_end_utc" TEXT NULL,
    "current_period_start_utc" TEXT NULL,
    "credit_period_start_utc" TEXT NULL,
    "scheduled_plan_code" TEXT NULL,
    "scheduled_interval" TEXT NULL,
    "external_subscription_id" TEXT NULL,
    "low_balance_threshold" INTEGER NULL,
    "low_balance_alerted" INTEGER NOT NULL,
    "auto_top_up_package_id" TEXT NULL,
    "auto_top_up_threshold" INTEGER NULL,
    "session_credit_cap" INTEGER NULL,
    "created_utc" TEXT NOT NULL,
    "updated_utc" TEXT NOT NULL,
    CONSTRAINT "fk_organization_plans_organizations_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);

CREATE TABLE "payments" (
    "id" TEXT NOT NULL CONSTRAINT "pk_payments" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "package_id" TEXT NULL,
    "plan_code" TEXT NULL,
    "interval" TEXT NULL,
    "amount_cents" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "credits" INTEGER NOT NULL,
    "description" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "failure_reason" TEXT NULL,
    "card_last4" TEXT NULL,
    "external_checkout_id" TEXT NULL,
    "external_payment_id" TEXT NULL,
    "refunded_cents" INTEGER NOT NULL,
    "period_start_utc" TEXT NULL,
    "idempotency_key" TEXT NULL,
    "created_by_user_id" TEXT NULL,
    "created_utc" TEXT NOT NULL,
    "completed_utc" TEXT NULL,
    CONSTRAINT "fk_payments_organizations_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "ix_credit_packages_name" ON "credit_packages" ("name");

CREATE UNIQUE INDEX "ix_ledger_accounts_owner_id_kind" ON "ledger_accounts" ("owner_id", "kind");

CREATE UNIQUE INDEX "ix_ledger_operations_idempotency_key" ON "ledger_operations" ("idempotency_key");

CREATE INDEX "ix_ledger_operations_kind_resolved_utc_expires_utc" ON "ledger_operations" ("kind", "resolved_utc", "expires_utc");

CREATE INDEX "ix_ledger_operations_organization_id_created_utc" ON "ledger_operations" ("organization_id", "created_utc");

CREATE INDEX "ix_ledger_transfers_credit_account_id" ON "ledger_transfers" ("credit_account_id");

CREATE INDEX "ix_ledger_transfers_debit_account_id" ON "ledger_transfers" ("debit_account_id");

CREATE INDEX "ix_ledger_transfers_operation_id" ON "ledger_transfers" ("operation_id");

CREATE UNIQUE INDEX "ix_ledger_transfers_pending_id" ON "ledger_transfers" ("pending_id");

CREATE INDEX "ix_organization_plans_current_period_end_utc" ON "organization_plans" ("current_period_end_utc");

CREATE UNIQUE INDEX "ix_organization_plans_organization_id" ON "organization_plans" ("organization_id");

CREATE INDEX "ix_outbox_events_dispatched_utc_created_utc" ON "outbox_events" ("dispatched_utc", "created_utc");

CREATE INDEX "ix_outbox_events_organization_id_created_utc" ON "outbox_events" ("organization_id", "created_utc");

CREATE INDEX "ix_payments_external_checkout_id" ON "payments" ("external_checkout_id");

CREATE INDEX "ix_payments_external_payment_id" ON "payments" ("external_payment_id");

CREATE UNIQUE INDEX "ix_payments_idempotency_key" ON "payments" ("idempotency_key");

CREATE INDEX "ix_payments_organization_id_created_utc" ON "payments" ("organization_id", "created_utc");

CREATE UNIQUE INDEX "ix_plans_code" ON "plans" ("code");

CREATE INDEX "ix_receipts_organization_id_issued_utc" ON "receipts" ("organization_id", "issued_utc");

CREATE UNIQUE INDEX "ix_receipts_payment_id" ON "receipts" ("payment_id");

CREATE UNIQUE INDEX "ix_receipts_sequence" ON "receipts" ("sequence");

INSERT INTO sequences (name, value) VALUES ('receipt', 0);

-- 0029 payment_refunds (sqlite): one row per refund of a payment, written with the payment's new refunded total before
-- the ledger takes the credits back, so a crash in between is finished by a retry or the credit jobs' sweep (ADR-135).
CREATE TABLE "payment_refunds" (
    "id" TEXT NOT NULL CONSTRAINT "pk_payment_refunds" PRIMARY KEY,
    "payment_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "refund_key" TEXT NOT NULL,
    "cents" INTEGER NOT NULL,
    "credits" INTEGER NOT NULL,
    "grant_credits" INTEGER NOT NULL,
    "ended_plan" INTEGER NOT NULL,
    "created_utc" TEXT NOT NULL,
    "applied_utc" TEXT NULL,
    CONSTRAINT "fk_payment_refunds_payments_payment_id" FOREIGN KEY ("payment_id") REFERENCES "payments" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_payment_refunds_applied_utc" ON "payment_refunds" ("applied_utc");

CREATE UNIQUE INDEX "ix_payment_refunds_payment_id_refund_key" ON "payment_refunds" ("payment_id", "refund_key");

-- 0029 payment_refunds (postgres): one row per refund of a payment, written with the payment's new refunded total before
-- the ledger takes the credits back, so a crash in between is finished by a retry or the credit jobs' sweep (ADR-135).
CREATE TABLE payment_refunds (
    id uuid NOT NULL,
    payment_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    refund_key character varying(200) NOT NULL,
    cents bigint NOT NULL,
    credits bigint NOT NULL,
    grant_credits bigint NOT NULL,
    ended_plan boolean NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    applied_utc timestamp with time zone,
    CONSTRAINT pk_payment_refunds PRIMARY KEY (id),
    CONSTRAINT fk_payment_refunds_payments_payment_id FOREIGN KEY (payment_id) REFERENCES payments (id) ON DELETE CASCADE
);

CREATE INDEX ix_payment_refunds_applied_utc ON payment_refunds (applied_utc);

CREATE UNIQUE INDEX ix_payment_refunds_payment_id_refund_key ON payment_refunds (payment_id, refund_key);

-- 0017 saved_cards (postgres): each organization's Stripe customer and the card it saved for off-session auto top-ups, and why the last auto top-up failed.
CREATE TABLE payment_customers (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    customer_id character varying(255) NOT NULL,
    payment_method_id character varying(255),
    card_brand character varying(40),
    card_last4 character varying(4),
    created_utc timestamp with time zone NOT NULL,
    updated_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_payment_customers PRIMARY KEY (id),
    CONSTRAINT fk_payment_customers_organizations_organization_id FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX ix_payment_customers_organization_id ON payment_customers (organization_id);

ALTER TABLE organization_plans ADD COLUMN auto_top_up_failure_reason character varying(300);
ALTER TABLE organization_plans ADD COLUMN auto_top_up_failed_utc timestamp with time zone;

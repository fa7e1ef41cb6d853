-- 0017 saved_cards (sqlite): each organization's Stripe customer and the card it saved for off-session auto top-ups, and why the last auto top-up failed.
CREATE TABLE "payment_customers" (
    "id" TEXT NOT NULL CONSTRAINT "pk_payment_customers" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "payment_method_id" TEXT NULL,
    "card_brand" TEXT NULL,
    "card_last4" TEXT NULL,
    "created_utc" TEXT NOT NULL,
    "updated_utc" TEXT NOT NULL,
    CONSTRAINT "fk_payment_customers_organizations_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "ix_payment_customers_organization_id" ON "payment_customers" ("organization_id");

ALTER TABLE "organization_plans" ADD COLUMN "auto_top_up_failure_reason" TEXT NULL;
ALTER TABLE "organization_plans" ADD COLUMN "auto_top_up_failed_utc" TEXT NULL;

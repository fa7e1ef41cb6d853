-- 0004 stripe (sqlite): processed webhook events (replays are no-ops) and the lookup of a plan by its Stripe subscription.
-- Generated with scripts/schema-delta.py sqlite, then reviewed.

CREATE TABLE "stripe_events" (
    "id" TEXT NOT NULL CONSTRAINT "pk_stripe_events" PRIMARY KEY,
    "event_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "processed_utc" TEXT NOT NULL
);

CREATE INDEX "ix_organization_plans_external_subscription_id" ON "organization_plans" ("external_subscription_id");

CREATE UNIQUE INDEX "ix_stripe_events_event_id" ON "stripe_events" ("event_id");

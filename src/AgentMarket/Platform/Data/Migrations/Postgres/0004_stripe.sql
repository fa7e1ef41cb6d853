-- 0004 stripe (postgres): processed webhook events (replays are no-ops) and the lookup of a plan by its Stripe subscription.
-- Generated with scripts/schema-delta.py postgres, then reviewed.

CREATE TABLE stripe_events (
    id uuid NOT NULL,
    event_id character varying(255) NOT NULL,
    type character varying(100) NOT NULL,
    processed_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_stripe_events PRIMARY KEY (id)
);

CREATE INDEX ix_organization_plans_external_subscription_id ON organization_plans (external_subscription_id);

CREATE UNIQUE INDEX ix_stripe_events_event_id ON stripe_events (event_id);

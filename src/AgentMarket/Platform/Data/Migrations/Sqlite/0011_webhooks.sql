-- 0011 webhooks (sqlite): outbound webhook endpoints, one delivery per (event, endpoint) from the outbox, and each delivery's attempts.
CREATE TABLE "webhook_endpoints" (
    "id" TEXT NOT NULL CONSTRAINT "pk_webhook_endpoints" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "event_types" TEXT NOT NULL,
    "secret_ciphertext" TEXT NOT NULL,
    "previous_secret_ciphertext" TEXT NULL,
    "previous_secret_expires_utc" TEXT NULL,
    "enabled" INTEGER NOT NULL,
    "disabled_reason" TEXT NULL,
    "disabled_utc" TEXT NULL,
    "consecutive_failures" INTEGER NOT NULL,
    "failing_since_utc" TEXT NULL,
    "created_by_user_id" TEXT NULL,
    "created_utc" TEXT NOT NULL,
    "updated_utc" TEXT NOT NULL
);

CREATE TABLE "webhook_deliveries" (
    "id" TEXT NOT NULL CONSTRAINT "pk_webhook_deliveries" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "endpoint_id" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "next_attempt_utc" TEXT NULL,
    "claim_token" TEXT NULL,
    "last_attempt_utc" TEXT NULL,
    "last_response_code" INTEGER NULL,
    "last_error" TEXT NULL,
    "last_duration_ms" INTEGER NULL,
    "created_utc" TEXT NOT NULL,
    "completed_utc" TEXT NULL,
    CONSTRAINT "fk_webhook_deliveries_outbox_events_event_id" FOREIGN KEY ("event_id") REFERENCES "outbox_events" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_webhook_deliveries_webhook_endpoints_endpoint_id" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints" ("id") ON DELETE CASCADE
);

CREATE TABLE "webhook_attempts" (
    "id" TEXT NOT NULL CONSTRAINT "pk_webhook_attempts" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "delivery_id" TEXT NOT NULL,
    "started_utc" TEXT NOT NULL,
    "response_code" INTEGER NULL,
    "duration_ms" INTEGER NOT NULL,
    "response_body" TEXT NULL,
    "error" TEXT NULL,
    CONSTRAINT "fk_webhook_attempts_webhook_deliveries_delivery_id" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_webhook_attempts_delivery_id_started_utc" ON "webhook_attempts" ("delivery_id", "started_utc");

CREATE INDEX "ix_webhook_deliveries_claim_token" ON "webhook_deliveries" ("claim_token");

CREATE INDEX "ix_webhook_deliveries_endpoint_id_created_utc" ON "webhook_deliveries" ("endpoint_id", "created_utc");

CREATE UNIQUE INDEX "ix_webhook_deliveries_event_id_endpoint_id" ON "webhook_deliveries" ("event_id", "endpoint_id");

CREATE INDEX "ix_webhook_deliveries_next_attempt_utc" ON "webhook_deliveries" ("next_attempt_utc");

CREATE INDEX "ix_webhook_endpoints_organization_id_created_utc" ON "webhook_endpoints" ("organization_id", "created_utc");


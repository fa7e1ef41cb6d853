-- 0011 webhooks (postgres): outbound webhook endpoints, one delivery per (event, endpoint) from the outbox, and each delivery's attempts.
CREATE TABLE webhook_endpoints (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    url character varying(2000) NOT NULL,
    description character varying(500) NOT NULL,
    event_types text[] NOT NULL,
    secret_ciphertext character varying(1000) NOT NULL,
    previous_secret_ciphertext character varying(1000),
    previous_secret_expires_utc timestamp with time zone,
    enabled boolean NOT NULL,
    disabled_reason character varying(300),
    disabled_utc timestamp with time zone,
    consecutive_failures integer NOT NULL,
    failing_since_utc timestamp with time zone,
    created_by_user_id uuid,
    created_utc timestamp with time zone NOT NULL,
    updated_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_webhook_endpoints PRIMARY KEY (id)
);

CREATE TABLE webhook_deliveries (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    endpoint_id uuid NOT NULL,
    event_id uuid NOT NULL,
    event_type character varying(60) NOT NULL,
    state character varying(40) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_utc timestamp with time zone,
    claim_token uuid,
    last_attempt_utc timestamp with time zone,
    last_response_code integer,
    last_error character varying(500),
    last_duration_ms integer,
    created_utc timestamp with time zone NOT NULL,
    completed_utc timestamp with time zone,
    CONSTRAINT pk_webhook_deliveries PRIMARY KEY (id),
    CONSTRAINT fk_webhook_deliveries_outbox_events_event_id FOREIGN KEY (event_id) REFERENCES outbox_events (id) ON DELETE CASCADE,
    CONSTRAINT fk_webhook_deliveries_webhook_endpoints_endpoint_id FOREIGN KEY (endpoint_id) REFERENCES webhook_endpoints (id) ON DELETE CASCADE
);

CREATE TABLE webhook_attempts (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    delivery_id uuid NOT NULL,
    started_utc timestamp with time zone NOT NULL,
    response_code integer,
    duration_ms integer NOT NULL,
    response_body character varying(1000),
    error character varying(500),
    CONSTRAINT pk_webhook_attempts PRIMARY KEY (id),
    CONSTRAINT fk_webhook_attempts_webhook_deliveries_delivery_id FOREIGN KEY (delivery_id) REFERENCES webhook_deliveries (id) ON DELETE CASCADE
);

CREATE INDEX ix_webhook_attempts_delivery_id_started_utc ON webhook_attempts (delivery_id, started_utc);

CREATE INDEX ix_webhook_deliveries_claim_token ON webhook_deliveries (claim_token);

CREATE INDEX ix_webhook_deliveries_endpoint_id_created_utc ON webhook_deliveries (endpoint_id, created_utc);

CREATE UNIQUE INDEX ix_webhook_deliveries_event_id_endpoint_id ON webhook_deliveries (event_id, endpoint_id);

CREATE INDEX ix_webhook_deliveries_next_attempt_utc ON webhook_deliveries (next_attempt_utc);

CREATE INDEX ix_webhook_endpoints_organization_id_created_utc ON webhook_endpoints (organization_id, created_utc);


-- 0006 subscriptions, keys and the run gateway (sqlite): customer agent configs, orders, agent keys, agent runs, session memory, playground allowance.
-- Generated with scripts/schema-delta.py sqlite, then reviewed.

CREATE TABLE "agent_runs" (
    "id" TEXT NOT NULL CONSTRAINT "pk_agent_runs" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "config_id" TEXT NULL,
    "listing_id" TEXT NOT NULL,
    "agent_version_id" TEXT NOT NULL,
    "provider_id" TEXT NULL,
    "key_id" TEXT NULL,
    "user_id" TEXT NULL,
    "session_id" TEXT NOT NULL,
    "idempotency_key" TEXT NULL,
    "door" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "error_code" TEXT NULL,
    "output" TEXT NULL,
    "input_tokens" INTEGER NOT NULL,
    "output_tokens" INTEGER NOT NULL,
    "model" TEXT NULL,
    "credits_reserved" INTEGER NOT NULL,
    "credits_charged" INTEGER NOT NULL,
    "engine_ms" INTEGER NOT NULL,
    "latency_ms" INTEGER NOT NULL,
    "started_utc" TEXT NOT NULL,
    "finished_utc" TEXT NULL,
    "day" TEXT NOT NULL
);

CREATE TABLE "chat_sessions" (
    "id" TEXT NOT NULL CONSTRAINT "pk_chat_sessions" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "config_id" TEXT NOT NULL,
    "session_id" TEXT NOT NULL,
    "title" TEXT NULL,
    "credits_spent" INTEGER NOT NULL,
    "runs" INTEGER NOT NULL,
    "created_utc" TEXT NOT NULL,
    "last_activity_utc" TEXT NOT NULL
);

CREATE TABLE "session_messages" (
    "id" TEXT NOT NULL CONSTRAINT "pk_session_messages" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "partition_id" TEXT NOT NULL,
    "session_id" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "context_id" TEXT NOT NULL,
    "sender" TEXT NULL,
    "sender_name" TEXT NULL,
    "text" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "error" INTEGER NOT NULL,
    "run_id" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL
);

CREATE TABLE "trial_usages" (
    "id" TEXT NOT NULL CONSTRAINT "pk_trial_usages" PRIMARY KEY,
    "visitor_hash" TEXT NOT NULL,
    "listing_id" TEXT NOT NULL,
    "day" TEXT NOT NULL,
    "runs" INTEGER NOT NULL
);

CREATE TABLE "customer_agent_configs" (
    "id" TEXT NOT NULL CONSTRAINT "pk_customer_agent_configs" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "listing_id" TEXT NOT NULL,
    "agent_version_id" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "settings_json" TEXT NOT NULL,
    "brand_color" TEXT NULL,
    "logo_url" TEXT NULL,
    "welcome_message" TEXT NULL,
    "widget_position" TEXT NOT NULL,
    "widget_theme" TEXT NOT NULL,
    "model_base_url" TEXT NULL,
    "model_name" TEXT NULL,
    "model_api_key_protected" TEXT NULL,
    "knowledge_base_id" TEXT NULL,
    "subscribed_utc" TEXT NOT NULL,
    "terminated_utc" TEXT NULL,
    "next_charge_utc" TEXT NULL,
    "created_by_user_id" TEXT NULL,
    "updated_utc" TEXT NOT NULL,
    CONSTRAINT "fk_customer_agent_configs_listings_listing_id" FOREIGN KEY ("listing_id") REFERENCES "listings" ("id") ON DELETE RESTRICT,
    CONSTRAINT "fk_customer_agent_configs_projects_project_id" FOREIGN KEY ("project_id") REFERENCES "projects" ("id") ON DELETE RESTRICT
);

CREATE TABLE "api_keys" (
    "id" TEXT NOT NULL CONSTRAINT "pk_api_keys" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "config_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "grace_key_hash" TEXT NULL,
    "grace_until_utc" TEXT NULL,
    "scopes" TEXT NOT NULL,
    "allowed_origins" TEXT NOT NULL,
    "budget_credits" INTEGER NULL,
    "spent_credits" INTEGER NOT NULL,
    "rate_limit_per_minute" INTEGER NULL,
    "created_by_user_id" TEXT NULL,
    "created_utc" TEXT NOT NULL,
    "last_used_utc" TEXT NULL,
    "expires_utc" TEXT NULL,
    "revoked_utc" TEXT NULL,
    CONSTRAINT "fk_api_keys_customer_agent_configs_config_id" FOREIGN KEY ("config_id") REFERENCES "customer_agent_configs" ("id") ON DELETE CASCADE
);

CREATE TABLE "orders" (
    "id" TEXT NOT NULL CONSTRAINT "pk_orders" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "listing_id" TEXT NOT NULL,
    "config_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "created_by_user_id" TEXT NULL,
    "created_utc" TEXT NOT NULL,
    CONSTRAINT "fk_orders_customer_agent_configs_config_id" FOREIGN KEY ("config_id") REFERENCES "customer_agent_configs" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_agent_runs_config_id_day" ON "agent_runs" ("config_id", "day");

CREATE UNIQUE INDEX "ix_agent_runs_config_id_idempotency_key" ON "agent_runs" ("config_id", "idempotency_key");

CREATE INDEX "ix_agent_runs_organization_id_day" ON "agent_runs" ("organization_id", "day");

CREATE INDEX "ix_api_keys_config_id" ON "api_keys" ("config_id");

CREATE INDEX "ix_api_keys_grace_key_hash" ON "api_keys" ("grace_key_hash");

CREATE UNIQUE INDEX "ix_api_keys_key_hash" ON "api_keys" ("key_hash");

CREATE INDEX "ix_api_keys_organization_id_config_id" ON "api_keys" ("organization_id", "config_id");

CREATE UNIQUE INDEX "ix_chat_sessions_config_id_session_id" ON "chat_sessions" ("config_id", "session_id");

CREATE INDEX "ix_chat_sessions_organization_id_last_activity_utc" ON "chat_sessions" ("organization_id", "last_activity_utc");

CREATE INDEX "ix_customer_agent_configs_listing_id_state" ON "customer_agent_configs" ("listing_id", "state");

CREATE INDEX "ix_customer_agent_configs_next_charge_utc" ON "customer_agent_configs" ("next_charge_utc");

CREATE INDEX "ix_customer_agent_configs_organization_id_state" ON "customer_agent_configs" ("organization_id", "state");

CREATE INDEX "ix_customer_agent_configs_project_id" ON "customer_agent_configs" ("project_id");

CREATE INDEX "ix_orders_config_id" ON "orders" ("config_id");

CREATE INDEX "ix_orders_organization_id_created_utc" ON "orders" ("organization_id", "created_utc");

CREATE UNIQUE INDEX "ix_session_messages_partition_id_message_id" ON "session_messages" ("partition_id", "message_id");

CREATE INDEX "ix_session_messages_partition_id_session_id_created_utc" ON "session_messages" ("partition_id", "session_id", "created_utc");

CREATE UNIQUE INDEX "ix_trial_usages_visitor_hash_listing_id_day" ON "trial_usages" ("visitor_hash", "listing_id", "day");


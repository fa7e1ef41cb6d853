-- 0006 subscriptions, keys and the run gateway (postgres): customer agent configs, orders, agent keys, agent runs, session memory, playground allowance.
-- Generated with scripts/schema-delta.py postgres, then reviewed.

CREATE TABLE agent_runs (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    config_id uuid,
    listing_id uuid NOT NULL,
    agent_version_id uuid NOT NULL,
    provider_id uuid,
    key_id uuid,
    user_id uuid,
    session_id character varying(200) NOT NULL,
    idempotency_key character varying(200),
    door character varying(20) NOT NULL,
    status character varying(40) NOT NULL,
    error_code character varying(60),
    output character varying(1000000),
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    model character varying(100),
    credits_reserved bigint NOT NULL,
    credits_charged bigint NOT NULL,
    engine_ms integer NOT NULL,
    latency_ms integer NOT NULL,
    started_utc timestamp with time zone NOT NULL,
    finished_utc timestamp with time zone,
    day date NOT NULL,
    CONSTRAINT pk_agent_runs PRIMARY KEY (id)
);

CREATE TABLE chat_sessions (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    config_id uuid NOT NULL,
    session_id character varying(200) NOT NULL,
    title character varying(200),
    credits_spent bigint NOT NULL,
    runs integer NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    last_activity_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_chat_sessions PRIMARY KEY (id)
);

CREATE TABLE session_messages (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    partition_id uuid NOT NULL,
    session_id character varying(200) NOT NULL,
    message_id character varying(100) NOT NULL,
    context_id character varying(200) NOT NULL,
    sender character varying(40),
    sender_name character varying(200),
    text character varying(1000000) NOT NULL,
    category character varying(40) NOT NULL,
    error boolean NOT NULL,
    run_id character varying(100) NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_session_messages PRIMARY KEY (id)
);

CREATE TABLE trial_usages (
    id uuid NOT NULL,
    visitor_hash character varying(64) NOT NULL,
    listing_id uuid NOT NULL,
    day date NOT NULL,
    runs integer NOT NULL,
    CONSTRAINT pk_trial_usages PRIMARY KEY (id)
);

CREATE TABLE customer_agent_configs (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    project_id uuid NOT NULL,
    listing_id uuid NOT NULL,
    agent_version_id uuid NOT NULL,
    state character varying(40) NOT NULL,
    name character varying(120) NOT NULL,
    settings_json character varying(64000) NOT NULL,
    brand_color character varying(7),
    logo_url character varying(500),
    welcome_message character varying(500),
    widget_position character varying(40) NOT NULL,
    widget_theme character varying(40) NOT NULL,
    model_base_url character varying(500),
    model_name character varying(100),
    model_api_key_protected character varying(2000),
    knowledge_base_id uuid,
    subscribed_utc timestamp with time zone NOT NULL,
    terminated_utc timestamp with time zone,
    next_charge_utc timestamp with time zone,
    created_by_user_id uuid,
    updated_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_customer_agent_configs PRIMARY KEY (id),
    CONSTRAINT fk_customer_agent_configs_listings_listing_id FOREIGN KEY (listing_id) REFERENCES listings (id) ON DELETE RESTRICT,
    CONSTRAINT fk_customer_agent_configs_projects_project_id FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE RESTRICT
);

CREATE TABLE api_keys (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    config_id uuid NOT NULL,
    name character varying(100) NOT NULL,
    kind character varying(40) NOT NULL,
    prefix character varying(20) NOT NULL,
    key_hash character varying(64) NOT NULL,
    grace_key_hash character varying(64),
    grace_until_utc timestamp with time zone,
    scopes text[] NOT NULL,
    allowed_origins text[] NOT NULL,
    budget_credits bigint,
    spent_credits bigint NOT NULL,
    rate_limit_per_minute integer,
    created_by_user_id uuid,
    created_utc timestamp with time zone NOT NULL,
    last_used_utc timestamp with time zone,
    expires_utc timestamp with time zone,
    revoked_utc timestamp with time zone,
    CONSTRAINT pk_api_keys PRIMARY KEY (id),
    CONSTRAINT fk_api_keys_customer_agent_configs_config_id FOREIGN KEY (config_id) REFERENCES customer_agent_configs (id) ON DELETE CASCADE
);

CREATE TABLE orders (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    project_id uuid NOT NULL,
    listing_id uuid NOT NULL,
    config_id uuid NOT NULL,
    type character varying(40) NOT NULL,
    state character varying(40) NOT NULL,
    created_by_user_id uuid,
    created_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_orders PRIMARY KEY (id),
    CONSTRAINT fk_orders_customer_agent_configs_config_id FOREIGN KEY (config_id) REFERENCES customer_agent_configs (id) ON DELETE CASCADE
);

CREATE INDEX ix_agent_runs_config_id_day ON agent_runs (config_id, day);

CREATE UNIQUE INDEX ix_agent_runs_config_id_idempotency_key ON agent_runs (config_id, idempotency_key);

CREATE INDEX ix_agent_runs_organization_id_day ON agent_runs (organization_id, day);

CREATE INDEX ix_api_keys_config_id ON api_keys (config_id);

CREATE INDEX ix_api_keys_grace_key_hash ON api_keys (grace_key_hash);

CREATE UNIQUE INDEX ix_api_keys_key_hash ON api_keys (key_hash);

CREATE INDEX ix_api_keys_organization_id_config_id ON api_keys (organization_id, config_id);

CREATE UNIQUE INDEX ix_chat_sessions_config_id_session_id ON chat_sessions (config_id, session_id);

CREATE INDEX ix_chat_sessions_organization_id_last_activity_utc ON chat_sessions (organization_id, last_activity_utc);

CREATE INDEX ix_customer_agent_configs_listing_id_state ON customer_agent_configs (listing_id, state);

CREATE INDEX ix_customer_agent_configs_next_charge_utc ON customer_agent_configs (next_charge_utc);

CREATE INDEX ix_customer_agent_configs_organization_id_state ON customer_agent_configs (organization_id, state);

CREATE INDEX ix_customer_agent_configs_project_id ON customer_agent_configs (project_id);

CREATE INDEX ix_orders_config_id ON orders (config_id);

CREATE INDEX ix_orders_organization_id_created_utc ON orders (organization_id, created_utc);

CREATE UNIQUE INDEX ix_session_messages_partition_id_message_id ON session_messages (partition_id, message_id);

CREATE INDEX ix_session_messages_partition_id_session_id_created_utc ON session_messages (partition_id, session_id, created_utc);

CREATE UNIQUE INDEX ix_trial_usages_visitor_hash_listing_id_day ON trial_usages (visitor_hash, listing_id, day);


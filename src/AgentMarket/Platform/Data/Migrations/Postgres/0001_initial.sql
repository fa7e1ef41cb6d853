-- 0001 initial schema (postgres): identity, organizations, providers, catalog, mail outbox, data-protection keys.
-- Generated from the EF model with 'dotnet run --project src/AgentMarket -- db script postgres', then reviewed.
CREATE TABLE categories (
    id uuid NOT NULL,
    slug character varying(60) NOT NULL,
    name character varying(100) NOT NULL,
    sort_order integer NOT NULL,
    icon character varying(60),
    CONSTRAINT pk_categories PRIMARY KEY (id)
);


CREATE TABLE data_protection_keys (
    id uuid NOT NULL,
    friendly_name character varying(200),
    xml text NOT NULL,
    CONSTRAINT pk_data_protection_keys PRIMARY KEY (id)
);


CREATE TABLE organizations (
    id uuid NOT NULL,
    name character varying(200) NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_organizations PRIMARY KEY (id)
);


CREATE TABLE outbox_emails (
    id uuid NOT NULL,
    recipient character varying(254) NOT NULL,
    subject character varying(300) NOT NULL,
    body text NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    sent_utc timestamp with time zone,
    attempts integer NOT NULL,
    last_error character varying(1000),
    CONSTRAINT pk_outbox_emails PRIMARY KEY (id)
);


CREATE TABLE users (
    id uuid NOT NULL,
    email character varying(254) NOT NULL,
    name character varying(200) NOT NULL,
    password_hash character varying(200) NOT NULL,
    is_operator boolean NOT NULL,
    failed_sign_in_count integer NOT NULL,
    locked_out_until_utc timestamp with time zone,
    created_utc timestamp with time zone NOT NULL,
    last_sign_in_utc timestamp with time zone,
    security_stamp uuid NOT NULL,
    CONSTRAINT pk_users PRIMARY KEY (id)
);


CREATE TABLE invitations (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    email character varying(254) NOT NULL,
    role character varying(40) NOT NULL,
    token_hash character varying(64) NOT NULL,
    invited_by_user_id uuid NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    expires_utc timestamp with time zone NOT NULL,
    accepted_utc timestamp with time zone,
    accepted_by_user_id uuid,
    revoked_utc timestamp with time zone,
    CONSTRAINT pk_invitations PRIMARY KEY (id),
    CONSTRAINT fk_invitations_organizations_organization_id FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);


CREATE TABLE projects (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    name character varying(200) NOT NULL,
    description character varying(2000),
    is_default boolean NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_projects PRIMARY KEY (id),
    CONSTRAINT fk_projects_organizations_organization_id FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);


CREATE TABLE providers (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    handle character varying(40) NOT NULL,
    name character varying(200) NOT NULL,
    bio character varying(2000),
    avatar_url character varying(500),
    is_verified boolean NOT NULL,
    state character varying(40) NOT NULL,
    decision_reason character varying(1000),
    decided_utc timestamp with time zone,
    decided_by_user_id uuid,
    created_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_providers PRIMARY KEY (id),
    CONSTRAINT fk_providers_organizations_organization_id FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);


CREATE TABLE memberships (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role character varying(40) NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_memberships PRIMARY KEY (id),
    CONSTRAINT fk_memberships_organizations_organization_id FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE,
    CONSTRAINT fk_memberships_users_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);


CREATE TABLE personal_access_tokens (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    name character varying(100) NOT NULL,
    prefix character varying(20) NOT NULL,
    token_hash character varying(64) NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    expires_utc timestamp with time zone,
    last_used_utc timestamp with time zone,
    revoked_utc timestamp with time zone,
    CONSTRAINT pk_personal_access_tokens PRIMARY KEY (id),
    CONSTRAINT fk_personal_access_tokens_users_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);


CREATE TABLE listings (
    id uuid NOT NULL,
    provider_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    slug character varying(80) NOT NULL,
    name character varying(120) NOT NULL,
    category_id uuid NOT NULL,
    short_description character varying(300) NOT NULL,
    description character varying(20000) NOT NULL,
    tags text[] NOT NULL,
    pricing_model character varying(40) NOT NULL,
    credits_per_run bigint NOT NULL,
    credits_min bigint NOT NULL,
    credits_max bigint NOT NULL,
    is_premium boolean NOT NULL,
    visibility character varying(40) NOT NULL,
    state character varying(40) NOT NULL,
    preview_image_url character varying(500),
    runs_count bigint NOT NULL,
    failed_runs_count bigint NOT NULL,
    reviews_count integer NOT NULL,
    rating_total bigint NOT NULL,
    users30d integer NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    published_utc timestamp with time zone,
    CONSTRAINT pk_listings PRIMARY KEY (id),
    CONSTRAINT fk_listings_categories_category_id FOREIGN KEY (category_id) REFERENCES categories (id) ON DELETE RESTRICT,
    CONSTRAINT fk_listings_providers_provider_id FOREIGN KEY (provider_id) REFERENCES providers (id) ON DELETE RESTRICT
);


CREATE TABLE reviews (
    id uuid NOT NULL,
    listing_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    user_id uuid NOT NULL,
    rating integer NOT NULL,
    text character varying(5000) NOT NULL,
    provider_reply character varying(5000),
    created_utc timestamp with time zone NOT NULL,
    updated_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_reviews PRIMARY KEY (id),
    CONSTRAINT ck_reviews_rating CHECK (rating BETWEEN 1 AND 5),
    CONSTRAINT fk_reviews_listings_listing_id FOREIGN KEY (listing_id) REFERENCES listings (id) ON DELETE CASCADE
);


CREATE UNIQUE INDEX ix_categories_slug ON categories (slug);


CREATE INDEX ix_invitations_organization_id_email ON invitations (organization_id, email);


CREATE UNIQUE INDEX ix_invitations_token_hash ON invitations (token_hash);


CREATE INDEX ix_listings_category_id ON listings (category_id);


CREATE INDEX ix_listings_organization_id ON listings (organization_id);


CREATE INDEX ix_listings_provider_id ON listings (provider_id);


CREATE UNIQUE INDEX ix_listings_slug ON listings (slug);


CREATE INDEX ix_listings_state_visibility_category_id ON listings (state, visibility, category_id);


CREATE UNIQUE INDEX ix_memberships_organization_id_user_id ON memberships (organization_id, user_id);


CREATE INDEX ix_memberships_user_id ON memberships (user_id);


CREATE INDEX ix_outbox_emails_sent_utc ON outbox_emails (sent_utc);


CREATE UNIQUE INDEX ix_personal_access_tokens_token_hash ON personal_access_tokens (token_hash);


CREATE INDEX ix_personal_access_tokens_user_id ON personal_access_tokens (user_id);


CREATE UNIQUE INDEX ix_projects_organization_id_name ON projects (organization_id, name);


CREATE UNIQUE INDEX ix_providers_handle ON providers (handle);


CREATE UNIQUE INDEX ix_providers_organization_id ON providers (organization_id);


CREATE INDEX ix_providers_state ON providers (state);


CREATE UNIQUE INDEX ix_reviews_listing_id_organization_id ON reviews (listing_id, organization_id);


CREATE UNIQUE INDEX ix_users_email ON users (email);




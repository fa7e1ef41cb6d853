-- 0015 sso (postgres): operator-configured OpenID Connect identity providers, their email-domain to organization mappings, and users' linked provider accounts.
CREATE TABLE identity_providers (
    id uuid NOT NULL,
    name character varying(100) NOT NULL,
    issuer character varying(500) NOT NULL,
    client_id character varying(200) NOT NULL,
    client_secret_protected character varying(2000) NOT NULL,
    scopes character varying(500) NOT NULL,
    allowed_email_domains character varying(2000) NOT NULL,
    default_role character varying(40) NOT NULL,
    enabled boolean NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    updated_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_identity_providers PRIMARY KEY (id)
);

CREATE TABLE identity_provider_domains (
    id uuid NOT NULL,
    provider_id uuid NOT NULL,
    domain character varying(253) NOT NULL,
    organization_id uuid NOT NULL,
    CONSTRAINT pk_identity_provider_domains PRIMARY KEY (id),
    CONSTRAINT fk_identity_provider_domains_identity_providers_provider_id FOREIGN KEY (provider_id) REFERENCES identity_providers (id) ON DELETE CASCADE,
    CONSTRAINT fk_identity_provider_domains_organizations_organization_id FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);

CREATE TABLE external_logins (
    id uuid NOT NULL,
    provider_id uuid NOT NULL,
    subject character varying(255) NOT NULL,
    user_id uuid NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    last_sign_in_utc timestamp with time zone,
    CONSTRAINT pk_external_logins PRIMARY KEY (id),
    CONSTRAINT fk_external_logins_identity_providers_provider_id FOREIGN KEY (provider_id) REFERENCES identity_providers (id) ON DELETE CASCADE,
    CONSTRAINT fk_external_logins_users_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX ix_external_logins_provider_id_subject ON external_logins (provider_id, subject);

CREATE INDEX ix_external_logins_user_id ON external_logins (user_id);

CREATE INDEX ix_identity_provider_domains_organization_id ON identity_provider_domains (organization_id);

CREATE UNIQUE INDEX ix_identity_provider_domains_provider_id_domain ON identity_provider_domains (provider_id, domain);


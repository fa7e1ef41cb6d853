-- 0015 sso (sqlite): operator-configured OpenID Connect identity providers, their email-domain to organization mappings, and users' linked provider accounts.
CREATE TABLE "identity_providers" (
    "id" TEXT NOT NULL CONSTRAINT "pk_identity_providers" PRIMARY KEY,
    "name" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "client_secret_protected" TEXT NOT NULL,
    "scopes" TEXT NOT NULL,
    "allowed_email_domains" TEXT NOT NULL,
    "default_role" TEXT NOT NULL,
    "enabled" INTEGER NOT NULL,
    "created_utc" TEXT NOT NULL,
    "updated_utc" TEXT NOT NULL
);

CREATE TABLE "identity_provider_domains" (
    "id" TEXT NOT NULL CONSTRAINT "pk_identity_provider_domains" PRIMARY KEY,
    "provider_id" TEXT NOT NULL,
    "domain" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    CONSTRAINT "fk_identity_provider_domains_identity_providers_provider_id" FOREIGN KEY ("provider_id") REFERENCES "identity_providers" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_identity_provider_domains_organizations_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);

CREATE TABLE "external_logins" (
    "id" TEXT NOT NULL CONSTRAINT "pk_external_logins" PRIMARY KEY,
    "provider_id" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL,
    "last_sign_in_utc" TEXT NULL,
    CONSTRAINT "fk_external_logins_identity_providers_provider_id" FOREIGN KEY ("provider_id") REFERENCES "identity_providers" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_external_logins_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "ix_external_logins_provider_id_subject" ON "external_logins" ("provider_id", "subject");

CREATE INDEX "ix_external_logins_user_id" ON "external_logins" ("user_id");

CREATE INDEX "ix_identity_provider_domains_organization_id" ON "identity_provider_domains" ("organization_id");

CREATE UNIQUE INDEX "ix_identity_provider_domains_provider_id_domain" ON "identity_provider_domains" ("provider_id", "domain");


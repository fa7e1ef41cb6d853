-- 0001 initial schema (sqlite): identity, organizations, providers, catalog, mail outbox, data-protection keys.
-- Generated from the EF model with 'dotnet run --project src/AgentMarket -- db script sqlite', then reviewed.
CREATE TABLE "categories" (
    "id" TEXT NOT NULL CONSTRAINT "pk_categories" PRIMARY KEY,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "sort_order" INTEGER NOT NULL,
    "icon" TEXT NULL
);


CREATE TABLE "data_protection_keys" (
    "id" TEXT NOT NULL CONSTRAINT "pk_data_protection_keys" PRIMARY KEY,
    "friendly_name" TEXT NULL,
    "xml" TEXT NOT NULL
);


CREATE TABLE "organizations" (
    "id" TEXT NOT NULL CONSTRAINT "pk_organizations" PRIMARY KEY,
    "name" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL
);


CREATE TABLE "outbox_emails" (
    "id" TEXT NOT NULL CONSTRAINT "pk_outbox_emails" PRIMARY KEY,
    "recipient" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL,
    "sent_utc" TEXT NULL,
    "attempts" INTEGER NOT NULL,
    "last_error" TEXT NULL
);


CREATE TABLE "users" (
    "id" TEXT NOT NULL CONSTRAINT "pk_users" PRIMARY KEY,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "password_hash" TEXT NOT NULL,
    "is_operator" INTEGER NOT NULL,
    "failed_sign_in_count" INTEGER NOT NULL,
    "locked_out_until_utc" TEXT NULL,
    "created_utc" TEXT NOT NULL,
    "last_sign_in_utc" TEXT NULL,
    "security_stamp" TEXT NOT NULL
);


CREATE TABLE "invitations" (
    "id" TEXT NOT NULL CONSTRAINT "pk_invitations" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "invited_by_user_id" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL,
    "expires_utc" TEXT NOT NULL,
    "accepted_utc" TEXT NULL,
    "accepted_by_user_id" TEXT NULL,
    "revoked_utc" TEXT NULL,
    CONSTRAINT "fk_invitations_organizations_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);


CREATE TABLE "projects" (
    "id" TEXT NOT NULL CONSTRAINT "pk_projects" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NULL,
    "is_default" INTEGER NOT NULL,
    "created_utc" TEXT NOT NULL,
    CONSTRAINT "fk_projects_organizations_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);


CREATE TABLE "providers" (
    "id" TEXT NOT NULL CONSTRAINT "pk_providers" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "handle" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "bio" TEXT NULL,
    "avatar_url" TEXT NULL,
    "is_verified" INTEGER NOT NULL,
    "state" TEXT NOT NULL,
    "decision_reason" TEXT NULL,
    "decided_utc" TEXT NULL,
    "decided_by_user_id" TEXT NULL,
    "created_utc" TEXT NOT NULL,
    CONSTRAINT "fk_providers_organizations_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);


CREATE TABLE "memberships" (
    "id" TEXT NOT NULL CONSTRAINT "pk_memberships" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL,
    CONSTRAINT "fk_memberships_organizations_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_memberships_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);


CREATE TABLE "personal_access_tokens" (
    "id" TEXT NOT NULL CONSTRAINT "pk_personal_access_tokens" PRIMARY KEY,
    "user_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL,
    "expires_utc" TEXT NULL,
    "last_used_utc" TEXT NULL,
    "revoked_utc" TEXT NULL,
    CONSTRAINT "fk_personal_access_tokens_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);


CREATE TABLE "listings" (
    "id" TEXT NOT NULL CONSTRAINT "pk_listings" PRIMARY KEY,
    "provider_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "category_id" TEXT NOT NULL,
    "short_description" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "tags" TEXT NOT NULL,
    "pricing_model" TEXT NOT NULL,
    "credits_per_run" INTEGER NOT NULL,
    "credits_min" INTEGER NOT NULL,
    "credits_max" INTEGER NOT NULL,
    "is_premium" INTEGER NOT NULL,
    "visibility" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "preview_image_url" TEXT NULL,
    "runs_count" INTEGER NOT NULL,
    "failed_runs_count" INTEGER NOT NULL,
    "reviews_count" INTEGER NOT NULL,
    "rating_total" INTEGER NOT NULL,
    "users30d" INTEGER NOT NULL,
    "created_utc" TEXT NOT NULL,
    "published_utc" TEXT NULL,
    CONSTRAINT "fk_listings_categories_category_id" FOREIGN KEY ("category_id") REFERENCES "categories" ("id") ON DELETE RESTRICT,
    CONSTRAINT "fk_listings_providers_provider_id" FOREIGN KEY ("provider_id") REFERENCES "providers" ("id") ON DELETE RESTRICT
);


CREATE TABLE "reviews" (
    "id" TEXT NOT NULL CONSTRAINT "pk_reviews" PRIMARY KEY,
    "listing_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "rating" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "provider_reply" TEXT NULL,
    "created_utc" TEXT NOT NULL,
    "updated_utc" TEXT NOT NULL,
    CONSTRAINT "ck_reviews_rating" CHECK (rating BETWEEN 1 AND 5),
    CONSTRAINT "fk_reviews_listings_listing_id" FOREIGN KEY ("listing_id") REFERENCES "listings" ("id") ON DELETE CASCADE
);


CREATE UNIQUE INDEX "ix_categories_slug" ON "categories" ("slug");


CREATE INDEX "ix_invitations_organization_id_email" ON "invitations" ("organization_id", "email");


CREATE UNIQUE INDEX "ix_invitations_token_hash" ON "invitations" ("token_hash");


CREATE INDEX "ix_listings_category_id" ON "listings" ("category_id");


CREATE INDEX "ix_listings_organization_id" ON "listings" ("organization_id");


CREATE INDEX "ix_listings_provider_id" ON "listings" ("provider_id");


CREATE UNIQUE INDEX "ix_listings_slug" ON "listings" ("slug");


CREATE INDEX "ix_listings_state_visibility_category_id" ON "listings" ("state", "visibility", "category_id");


CREATE UNIQUE INDEX "ix_memberships_organization_id_user_id" ON "memberships" ("organization_id", "user_id");


CREATE INDEX "ix_memberships_user_id" ON "memberships" ("user_id");


CREATE INDEX "ix_outbox_emails_sent_utc" ON "outbox_emails" ("sent_utc");


CREATE UNIQUE INDEX "ix_personal_access_tokens_token_hash" ON "personal_access_tokens" ("token_hash");


CREATE INDEX "ix_personal_access_tokens_user_id" ON "personal_access_tokens" ("user_id");


CREATE UNIQUE INDEX "ix_projects_organization_id_name" ON "projects" ("organization_id", "name");


CREATE UNIQUE INDEX "ix_providers_handle" ON "providers" ("handle");


CREATE UNIQUE INDEX "ix_providers_organization_id" ON "providers" ("organization_id");


CREATE INDEX "ix_providers_state" ON "providers" ("state");


CREATE UNIQUE INDEX "ix_reviews_listing_id_organization_id" ON "reviews" ("listing_id", "organization_id");


CREATE UNIQUE INDEX "ix_users_email" ON "users" ("email");




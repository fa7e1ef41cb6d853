-- 0003 catalog and seller publishing (sqlite): provider agents, immutable versions, configurable fields, listing
-- releases and price history, images, review reports, run records and daily stats, and full-text search (FTS5).
-- Tables and indexes are the EF model's ('dotnet run --project src/AgentMarket -- db script sqlite'); the search
-- objects at the end are not modelled by EF (SchemaScriptsTests allows them by name).
CREATE TABLE "provider_agents" (
    "id" TEXT NOT NULL CONSTRAINT "pk_provider_agents" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "provider_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "category_id" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "current_version_id" TEXT NULL,
    "created_utc" TEXT NOT NULL,
    "updated_utc" TEXT NOT NULL,
    CONSTRAINT "fk_provider_agents_agent_versions_current_version_id" FOREIGN KEY ("current_version_id") REFERENCES "agent_versions" ("id") ON DELETE RESTRICT,
    CONSTRAINT "fk_provider_agents_categories_category_id" FOREIGN KEY ("category_id") REFERENCES "categories" ("id") ON DELETE RESTRICT,
    CONSTRAINT "fk_provider_agents_providers_provider_id" FOREIGN KEY ("provider_id") REFERENCES "providers" ("id") ON DELETE RESTRICT
);

CREATE TABLE "agent_versions" (
    "id" TEXT NOT NULL CONSTRAINT "pk_agent_versions" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "agent_id" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "major" INTEGER NOT NULL,
    "minor" INTEGER NOT NULL,
    "patch" INTEGER NOT NULL,
    "changelog" TEXT NOT NULL,
    "flow_json" BLOB NOT NULL,
    "flow_sha256" TEXT NOT NULL,
    "flow_file_name" TEXT NULL,
    "flow_size_bytes" INTEGER NOT NULL,
    "report_json" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL,
    "created_by_user_id" TEXT NULL,
    CONSTRAINT "fk_agent_versions_provider_agents_agent_id" FOREIGN KEY ("agent_id") REFERENCES "provider_agents" ("id") ON DELETE CASCADE
);

CREATE TABLE "configurable_fields" (
    "id" TEXT NOT NULL CONSTRAINT "pk_configurable_fields" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "agent_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "node_id" TEXT NOT NULL,
    "field_name" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "help_text" TEXT NULL,
    "kind" TEXT NOT NULL,
    "default_value" TEXT NULL,
    "options" TEXT NOT NULL,
    "sort_order" INTEGER NOT NULL,
    CONSTRAINT "fk_configurable_fields_provider_agents_agent_id" FOREIGN KEY ("agent_id") REFERENCES "provider_agents" ("id") ON DELETE CASCADE
);

CREATE TABLE "catalog_images" (
    "id" TEXT NOT NULL CONSTRAINT "pk_catalog_images" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "content" BLOB NOT NULL,
    "size_bytes" INTEGER NOT NULL,
    "created_utc" TEXT NOT NULL
);

ALTER TABLE "listings" ADD COLUMN "agent_id" TEXT NULL CONSTRAINT "fk_listings_provider_agents_agent_id" REFERENCES "provider_agents" ("id") ON DELETE RESTRICT;
ALTER TABLE "listings" ADD COLUMN "agent_version_id" TEXT NULL CONSTRAINT "fk_listings_agent_versions_agent_version_id" REFERENCES "agent_versions" ("id") ON DELETE RESTRICT;
ALTER TABLE "listings" ADD COLUMN "moderation_note" TEXT NULL;
ALTER TABLE "reviews" ADD COLUMN "provider_reply_utc" TEXT NULL;

CREATE TABLE "listing_releases" (
    "id" TEXT NOT NULL CONSTRAINT "pk_listing_releases" PRIMARY KEY,
    "listing_id" TEXT NOT NULL,
    "agent_version_id" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "major" INTEGER NOT NULL,
    "minor" INTEGER NOT NULL,
    "patch" INTEGER NOT NULL,
    "changelog" TEXT NOT NULL,
    "released_utc" TEXT NOT NULL,
    CONSTRAINT "fk_listing_releases_agent_versions_agent_version_id" FOREIGN KEY ("agent_version_id") REFERENCES "agent_versions" ("id") ON DELETE RESTRICT,
    CONSTRAINT "fk_listing_releases_listings_listing_id" FOREIGN KEY ("listing_id") REFERENCES "listings" ("id") ON DELETE CASCADE
);

CREATE TABLE "listing_price_changes" (
    "id" TEXT NOT NULL CONSTRAINT "pk_listing_price_changes" PRIMARY KEY,
    "listing_id" TEXT NOT NULL,
    "previous_model" TEXT NOT NULL,
    "previous_credits_per_run" INTEGER NOT NULL,
    "previous_credits_min" INTEGER NOT NULL,
    "previous_credits_max" INTEGER NOT NULL,
    "new_model" TEXT NOT NULL,
    "new_credits_per_run" INTEGER NOT NULL,
    "new_credits_min" INTEGER NOT NULL,
    "new_credits_max" INTEGER NOT NULL,
    "announced_utc" TEXT NOT NULL,
    "effective_for_subscribers_utc" TEXT NOT NULL,
    CONSTRAINT "fk_listing_price_changes_listings_listing_id" FOREIGN KEY ("listing_id") REFERENCES "listings" ("id") ON DELETE CASCADE
);

CREATE TABLE "review_reports" (
    "id" TEXT NOT NULL CONSTRAINT "pk_review_reports" PRIMARY KEY,
    "review_id" TEXT NOT NULL,
    "reporter_user_id" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL,
    "resolved_utc" TEXT NULL,
    "resolved_by_user_id" TEXT NULL,
    CONSTRAINT "fk_review_reports_reviews_review_id" FOREIGN KEY ("review_id") REFERENCES "reviews" ("id") ON DELETE CASCADE
);

CREATE TABLE "run_records" (
    "id" TEXT NOT NULL CONSTRAINT "pk_run_records" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "listing_id" TEXT NOT NULL,
    "agent_version_id" TEXT NULL,
    "outcome" TEXT NOT NULL,
    "started_utc" TEXT NOT NULL,
    "finished_utc" TEXT NOT NULL,
    "day" TEXT NOT NULL,
    CONSTRAINT "fk_run_records_listings_listing_id" FOREIGN KEY ("listing_id") REFERENCES "listings" ("id") ON DELETE CASCADE
);

CREATE TABLE "listing_daily_stats" (
    "listing_id" TEXT NOT NULL,
    "day" TEXT NOT NULL,
    "completed_runs" INTEGER NOT NULL,
    "failed_runs" INTEGER NOT NULL,
    "customers" INTEGER NOT NULL,
    CONSTRAINT "pk_listing_daily_stats" PRIMARY KEY ("listing_id", "day"),
    CONSTRAINT "fk_listing_daily_stats_listings_listing_id" FOREIGN KEY ("listing_id") REFERENCES "listings" ("id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "ix_agent_versions_agent_id_major_minor_patch" ON "agent_versions" ("agent_id", "major", "minor", "patch");
CREATE INDEX "ix_catalog_images_organization_id" ON "catalog_images" ("organization_id");
CREATE UNIQUE INDEX "ix_configurable_fields_agent_id_key" ON "configurable_fields" ("agent_id", "key");
CREATE UNIQUE INDEX "ix_configurable_fields_agent_id_node_id_field_name" ON "configurable_fields" ("agent_id", "node_id", "field_name");
CREATE INDEX "ix_listing_price_changes_listing_id_effective_for_subscribers_utc" ON "listing_price_changes" ("listing_id", "effective_for_subscribers_utc");
CREATE INDEX "ix_listing_releases_agent_version_id" ON "listing_releases" ("agent_version_id");
CREATE UNIQUE INDEX "ix_listing_releases_listing_id_agent_version_id" ON "listing_releases" ("listing_id", "agent_version_id");
CREATE UNIQUE INDEX "ix_listings_agent_id" ON "listings" ("agent_id");
CREATE INDEX "ix_listings_agent_version_id" ON "listings" ("agent_version_id");
CREATE INDEX "ix_provider_agents_category_id" ON "provider_agents" ("category_id");
CREATE INDEX "ix_provider_agents_current_version_id" ON "provider_agents" ("current_version_id");
CREATE INDEX "ix_provider_agents_organization_id_state" ON "provider_agents" ("organization_id", "state");
CREATE INDEX "ix_provider_agents_provider_id" ON "provider_agents" ("provider_id");
CREATE INDEX "ix_review_reports_resolved_utc" ON "review_reports" ("resolved_utc");
CREATE UNIQUE INDEX "ix_review_reports_review_id_reporter_user_id" ON "review_reports" ("review_id", "reporter_user_id");
CREATE INDEX "ix_run_records_listing_id_outcome_finished_utc" ON "run_records" ("listing_id", "outcome", "finished_utc");
CREATE INDEX "ix_run_records_organization_id_listing_id_outcome" ON "run_records" ("organization_id", "listing_id", "outcome");

-- Full-text search. The index is contentless (it stores only what ranking needs) and keyed by an integer from
-- listing_search_rows, because a listing's own rowid is not stable (VACUUM may renumber tables whose key is not an
-- INTEGER PRIMARY KEY). Unstemmed tokens so a half-typed word still prefix-matches (see SearchTerms).
CREATE TABLE "listing_search_rows" (
    "id" INTEGER NOT NULL PRIMARY KEY,
    "listing_id" TEXT NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE "listing_search" USING fts5(
    name, tags, provider, short_description, description,
    content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4'
);

CREATE TRIGGER "listings_search_insert" AFTER INSERT ON "listings" BEGIN
    INSERT INTO listing_search_rows (listing_id) VALUES (new.id);
    INSERT INTO listing_search (rowid, name, tags, provider, short_description, description)
    SELECT r.id, new.name, new.tags, (SELECT p.name || ' ' || p.handle FROM providers p WHERE p.id = new.provider_id), new.short_description, new.description
    FROM listing_search_rows r WHERE r.listing_id = new.id;
END;

CREATE TRIGGER "listings_search_update" AFTER UPDATE OF name, tags, short_description, description, provider_id ON "listings" BEGIN
    DELETE FROM listing_search WHERE rowid = (SELECT id FROM listing_search_rows WHERE listing_id = old.id);
    INSERT INTO listing_search (rowid, name, tags, provider, short_description, description)
    SELECT r.id, new.name, new.tags, (SELECT p.name || ' ' || p.handle FROM providers p WHERE p.id = new.provider_id), new.short_description, new.description
    FROM listing_search_rows r WHERE r.listing_id = new.id;
END;

CREATE TRIGGER "listings_search_delete" AFTER DELETE ON "listings" BEGIN
    DELETE FROM listing_search WHERE rowid = (SELECT id FROM listing_search_rows WHERE listing_id = old.id);
    DELETE FROM listing_search_rows WHERE listing_id = old.id;
END;

-- A provider's name and handle are searchable on each of its listings.
CREATE TRIGGER "providers_search_update" AFTER UPDATE OF name, handle ON "providers" BEGIN
    UPDATE listings SET name = name WHERE provider_id = new.id;
END;

INSERT INTO listing_search_rows (listing_id) SELECT id FROM listings ORDER BY created_utc;
INSERT INTO listing_search (rowid, name, tags, provider, short_description, description)
SELECT r.id, l.name, l.tags, p.name || ' ' || p.handle, l.short_description, l.description
FROM listing_search_rows r JOIN listings l ON l.id = r.listing_id JOIN providers p ON p.id = l.provider_id;

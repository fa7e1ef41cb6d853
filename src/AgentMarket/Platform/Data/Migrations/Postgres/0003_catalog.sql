-- 0003 catalog and seller publishing (postgres): provider agents, immutable versions, configurable fields, listing
-- releases and price history, images, review reports, run records and daily stats, and full-text search (tsvector).
-- Tables and indexes are the EF model's ('dotnet run --project src/AgentMarket -- db script postgres'); the search
-- column, its GIN index, functions and triggers at the end are not modelled by EF (SchemaScriptsTests allows them by name).
CREATE TABLE provider_agents (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    name character varying(120) NOT NULL,
    description character varying(2000) NOT NULL,
    category_id uuid NOT NULL,
    state character varying(40) NOT NULL,
    current_version_id uuid,
    created_utc timestamp with time zone NOT NULL,
    updated_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_provider_agents PRIMARY KEY (id),
    CONSTRAINT fk_provider_agents_categories_category_id FOREIGN KEY (category_id) REFERENCES categories (id) ON DELETE RESTRICT,
    CONSTRAINT fk_provider_agents_providers_provider_id FOREIGN KEY (provider_id) REFERENCES providers (id) ON DELETE RESTRICT
);

CREATE TABLE agent_versions (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    version character varying(40) NOT NULL,
    major integer NOT NULL,
    minor integer NOT NULL,
    patch integer NOT NULL,
    changelog character varying(4000) NOT NULL,
    flow_json bytea NOT NULL,
    flow_sha256 character varying(64) NOT NULL,
    flow_file_name character varying(255),
    flow_size_bytes integer NOT NULL,
    report_json text NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    created_by_user_id uuid,
    CONSTRAINT pk_agent_versions PRIMARY KEY (id),
    CONSTRAINT fk_agent_versions_provider_agents_agent_id FOREIGN KEY (agent_id) REFERENCES provider_agents (id) ON DELETE CASCADE
);

-- The agent and its current version point at each other; this side is added once both tables exist.
ALTER TABLE provider_agents ADD CONSTRAINT fk_provider_agents_agent_versions_current_version_id FOREIGN KEY (current_version_id) REFERENCES agent_versions (id) ON DELETE RESTRICT;

CREATE TABLE configurable_fields (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    key character varying(60) NOT NULL,
    node_id character varying(200) NOT NULL,
    field_name character varying(100) NOT NULL,
    label character varying(100) NOT NULL,
    help_text character varying(300),
    kind character varying(40) NOT NULL,
    default_value character varying(10000),
    options text[] NOT NULL,
    sort_order integer NOT NULL,
    CONSTRAINT pk_configurable_fields PRIMARY KEY (id),
    CONSTRAINT fk_configurable_fields_provider_agents_agent_id FOREIGN KEY (agent_id) REFERENCES provider_agents (id) ON DELETE CASCADE
);

CREATE TABLE catalog_images (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    content_type character varying(40) NOT NULL,
    content bytea NOT NULL,
    size_bytes integer NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_catalog_images PRIMARY KEY (id)
);

ALTER TABLE listings ADD COLUMN agent_id uuid;
ALTER TABLE listings ADD COLUMN agent_version_id uuid;
ALTER TABLE listings ADD COLUMN moderation_note character varying(1000);
ALTER TABLE listings ADD CONSTRAINT fk_listings_provider_agents_agent_id FOREIGN KEY (agent_id) REFERENCES provider_agents (id) ON DELETE RESTRICT;
ALTER TABLE listings ADD CONSTRAINT fk_listings_agent_versions_agent_version_id FOREIGN KEY (agent_version_id) REFERENCES agent_versions (id) ON DELETE RESTRICT;
ALTER TABLE reviews ADD COLUMN provider_reply_utc timestamp with time zone;

CREATE TABLE listing_releases (
    id uuid NOT NULL,
    listing_id uuid NOT NULL,
    agent_version_id uuid NOT NULL,
    version character varying(40) NOT NULL,
    major integer NOT NULL,
    minor integer NOT NULL,
    patch integer NOT NULL,
    changelog character varying(4000) NOT NULL,
    released_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_listing_releases PRIMARY KEY (id),
    CONSTRAINT fk_listing_releases_agent_versions_agent_version_id FOREIGN KEY (agent_version_id) REFERENCES agent_versions (id) ON DELETE RESTRICT,
    CONSTRAINT fk_listing_releases_listings_listing_id FOREIGN KEY (listing_id) REFERENCES listings (id) ON DELETE CASCADE
);

CREATE TABLE listing_price_changes (
    id uuid NOT NULL,
    listing_id uuid NOT NULL,
    previous_model character varying(40) NOT NULL,
    previous_credits_per_run bigint NOT NULL,
    previous_credits_min bigint NOT NULL,
    previous_credits_max bigint NOT NULL,
    new_model character varying(40) NOT NULL,
    new_credits_per_run bigint NOT NULL,
    new_credits_min bigint NOT NULL,
    new_credits_max bigint NOT NULL,
    announced_utc timestamp with time zone NOT NULL,
    effective_for_subscribers_utc timestamp with time zone NOT NULL,
    CONSTRAINT pk_listing_price_changes PRIMARY KEY (id),
    CONSTRAINT fk_listing_price_changes_listings_listing_id FOREIGN KEY (listing_id) REFERENCES listings (id) ON DELETE CASCADE
);

CREATE TABLE review_reports (
    id uuid NOT NULL,
    review_id uuid NOT NULL,
    reporter_user_id uuid NOT NULL,
    reason character varying(1000) NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    resolved_utc timestamp with time zone,
    resolved_by_user_id uuid,
    CONSTRAINT pk_review_reports PRIMARY KEY (id),
    CONSTRAINT fk_review_reports_reviews_review_id FOREIGN KEY (review_id) REFERENCES reviews (id) ON DELETE CASCADE
);

CREATE TABLE run_records (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    listing_id uuid NOT NULL,
    agent_version_id uuid,
    outcome character varying(40) NOT NULL,
    started_utc timestamp with time zone NOT NULL,
    finished_utc timestamp with time zone NOT NULL,
    day date NOT NULL,
    CONSTRAINT pk_run_records PRIMARY KEY (id),
    CONSTRAINT fk_run_records_listings_listing_id FOREIGN KEY (listing_id) REFERENCES listings (id) ON DELETE CASCADE
);

CREATE TABLE listing_daily_stats (
    listing_id uuid NOT NULL,
    day date NOT NULL,
    completed_runs integer NOT NULL,
    failed_runs integer NOT NULL,
    customers integer NOT NULL,
    CONSTRAINT pk_listing_daily_stats PRIMARY KEY (listing_id, day),
    CONSTRAINT fk_listing_daily_stats_listings_listing_id FOREIGN KEY (listing_id) REFERENCES listings (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX ix_agent_versions_agent_id_major_minor_patch ON agent_versions (agent_id, major, minor, patch);
CREATE INDEX ix_catalog_images_organization_id ON catalog_images (organization_id);
CREATE UNIQUE INDEX ix_configurable_fields_agent_id_key ON configurable_fields (agent_id, key);
CREATE UNIQUE INDEX ix_configurable_fields_agent_id_node_id_field_name ON configurable_fields (agent_id, node_id, field_name);
CREATE INDEX ix_listing_price_changes_listing_id_effective_for_subscribers_utc ON listing_price_changes (listing_id, effective_for_subscribers_utc);
CREATE INDEX ix_listing_releases_agent_version_id ON listing_releases (agent_version_id);
CREATE UNIQUE INDEX ix_listing_releases_listing_id_agent_version_id ON listing_releases (listing_id, agent_version_id);
CREATE UNIQUE INDEX ix_listings_agent_id ON listings (agent_id);
CREATE INDEX ix_listings_agent_version_id ON listings (agent_version_id);
CREATE INDEX ix_provider_agents_category_id ON provider_agents (category_id);
CREATE INDEX ix_provider_agents_current_version_id ON provider_agents (current_version_id);
CREATE INDEX ix_provider_agents_organization_id_state ON provider_agents (organization_id, state);
CREATE INDEX ix_provider_agents_provider_id ON provider_agents (provider_id);
CREATE INDEX ix_review_reports_resolved_utc ON review_reports (resolved_utc);
CREATE UNIQUE INDEX ix_review_reports_review_id_reporter_user_id ON review_reports (review_id, reporter_user_id);
CREATE INDEX ix_run_records_listing_id_outcome_finished_utc ON run_records (listing_id, outcome, finished_utc);
CREATE INDEX ix_run_records_organization_id_listing_id_outcome ON run_records (organization_id, listing_id, outcome);

-- Full-text search: a tsvector column kept by triggers (a generated column cannot read the provider's name).
-- The 'simple' configuration does not stem, like SQLite's unicode61 tokenizer, so a half-typed word still
-- prefix-matches and both engines find the same listings; translate() folds the common Latin accents the way
-- SQLite's remove_diacritics does (the unaccent extension would need CREATE EXTENSION rights).
ALTER TABLE listings ADD COLUMN search_vector tsvector;

CREATE FUNCTION listing_search_text(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT translate(lower(coalesce(value, '')),
        'áàâäãåāăąçćčďéèêëēėęěíìîïīįłñńňóòôöõøōőŕřśšşťúùûüūůűųýÿźżž',
        'aaaaaaaaacccdeeeeeeeeiiiiiilnnnoooooooorrssstuuuuuuuuyyzzz')
$$;

CREATE FUNCTION listings_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector :=
           setweight(to_tsvector('simple', listing_search_text(NEW.name)), 'A')
        || setweight(to_tsvector('simple', listing_search_text(array_to_string(NEW.tags, ' '))), 'B')
        || setweight(to_tsvector('simple', listing_search_text((SELECT p.name || ' ' || p.handle FROM providers p WHERE p.id = NEW.provider_id))), 'B')
        || setweight(to_tsvector('simple', listing_search_text(NEW.short_description)), 'C')
        || setweight(to_tsvector('simple', listing_search_text(NEW.description)), 'D');
    RETURN NEW;
END
$$;

CREATE TRIGGER listings_search_vector BEFORE INSERT OR UPDATE OF name, tags, short_description, description, provider_id ON listings
    FOR EACH ROW EXECUTE FUNCTION listings_search_vector();

-- A provider's name and handle are searchable on each of its listings.
CREATE FUNCTION providers_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE listings SET name = name WHERE provider_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER providers_search_refresh AFTER UPDATE OF name, handle ON providers
    FOR EACH ROW EXECUTE FUNCTION providers_search_refresh();

UPDATE listings SET name = name;
CREATE INDEX ix_listings_search_vector ON listings USING GIN (search_vector);

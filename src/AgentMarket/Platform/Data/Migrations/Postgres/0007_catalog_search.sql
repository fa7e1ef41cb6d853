-- 0007 catalog search (postgres): the search objects of 0003 replaced by the design of ADR-020 (name, meta and full
-- vectors, live listings only, partial indexes for each sort order). 0003's listing_search_text() and the provider
-- trigger stay as they were. Not modelled by EF (SchemaScriptsTests allows these objects by name).
DROP TRIGGER listings_search_vector ON listings;
DROP FUNCTION listings_search_vector();
DROP INDEX ix_listings_search_vector;

-- Search (see Catalog/Search/ListingSearch.cs and ADR-020). Three tsvectors, set by a trigger (a generated column
-- cannot read the provider's name) and NULL unless the listing is live (active and public), so the GIN indexes hold
-- live listings only: search_name (the name), search_meta (name, tags, provider) and search_vector (everything). Separate
-- vectors rather than weight labels because GIN does not store weights: a weight-restricted query would recheck every
-- row of the word. The 'simple' configuration does not stem, like SQLite's unicode61 tokenizer, so a half-typed word
-- still prefix-matches and both engines find the same listings; translate() folds the common Latin accents the way
-- SQLite's remove_diacritics does (the unaccent extension would need CREATE EXTENSION rights).
ALTER TABLE listings ADD COLUMN search_name tsvector;
ALTER TABLE listings ADD COLUMN search_meta tsvector;

CREATE FUNCTION listings_search_vectors() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    provider text;
BEGIN
    IF NEW.state <> 'active' OR NEW.visibility <> 'public' THEN
        NEW.search_name := NULL;
        NEW.search_meta := NULL;
        NEW.search_vector := NULL;
        RETURN NEW;
    END IF;
    SELECT p.name || ' ' || p.handle INTO provider FROM providers p WHERE p.id = NEW.provider_id;
    NEW.search_name := to_tsvector('simple', listing_search_text(NEW.name));
    NEW.search_meta := NEW.search_name || to_tsvector('simple', listing_search_text(array_to_string(NEW.tags, ' ') || ' ' || provider));
    NEW.search_vector := NEW.search_meta || to_tsvector('simple', listing_search_text(NEW.short_description || ' ' || NEW.description));
    RETURN NEW;
END
$$;

CREATE TRIGGER listings_search_vectors BEFORE INSERT OR UPDATE OF name, tags, short_description, description, provider_id, state, visibility ON listings
    FOR EACH ROW EXECUTE FUNCTION listings_search_vectors();

UPDATE listings SET name = name;

CREATE INDEX ix_listings_search_name ON listings USING GIN (search_name);
CREATE INDEX ix_listings_search_meta ON listings USING GIN (search_meta);
CREATE INDEX ix_listings_search_vector ON listings USING GIN (search_vector);
-- The sort orders, over live listings only. The expressions are the ones Catalog/Search/PostgresCatalogSearch.cs
-- orders by, character for character, or the planner would not use them. Rating is the displayed rating in tenths.
CREATE INDEX ix_listings_search_boost ON listings ((1.0 + ln(1.0 + runs_count) / 10.0 + coalesce((20 * rating_total + reviews_count) / (2 * nullif(reviews_count, 0)), 0) / 100.0) DESC, id) WHERE search_vector IS NOT NULL;
CREATE INDEX ix_listings_search_runs ON listings (runs_count DESC, id) WHERE search_vector IS NOT NULL;
CREATE INDEX ix_listings_search_rating ON listings (((20 * rating_total + reviews_count) / (2 * nullif(reviews_count, 0))) DESC NULLS LAST, reviews_count DESC, id) WHERE search_vector IS NOT NULL;
CREATE INDEX ix_listings_search_newest ON listings (published_utc DESC NULLS LAST, id) WHERE search_vector IS NOT NULL;
CREATE INDEX ix_listings_search_category ON listings (category_id, runs_count DESC, id) WHERE search_vector IS NOT NULL;
CREATE INDEX ix_listings_search_pricing ON listings (pricing_model) WHERE search_vector IS NOT NULL;
CREATE INDEX ix_listings_search_price ON listings ((CASE pricing_model WHEN 'free' THEN 0 WHEN 'variable_credits' THEN credits_min ELSE credits_per_run END), runs_count DESC, id) WHERE search_vector IS NOT NULL;

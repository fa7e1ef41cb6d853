-- 0007 catalog search (sqlite): the search objects of 0003 replaced by the design of ADR-020. Only live listings are
-- indexed; a compact row per live listing carries what filters and sorts read; relevance is a bucket sort over FTS5
-- column filters. Not modelled by EF (SchemaScriptsTests allows these objects by name).
DROP TRIGGER "listings_search_insert";
DROP TRIGGER "listings_search_update";
DROP TRIGGER "listings_search_delete";
DROP TRIGGER "providers_search_update";
DROP TABLE "listing_search";
DROP TABLE "listing_search_rows";

-- Search (see Catalog/Search/ListingSearch.cs and ADR-020). Only live listings (active and public) are indexed:
-- listing_search_rows holds what filters and sorts read, one compact row per live listing, and listing_search is the
-- FTS5 index over name, meta (tags, provider), body (descriptions) and facets (category, pricing, rating thresholds),
-- keyed by the row's integer id: a listing's own rowid is not stable (VACUUM may renumber tables whose key is not an
-- INTEGER PRIMARY KEY). Contentless (it stores only the index), unstemmed so a half-typed word still prefix-matches.
-- Triggers keep both in step with listings and providers; WHEN clauses skip updates that change nothing searchable, so
-- counter updates (every finished run) touch one small row and the repair job touches only what drifted.
CREATE TABLE "listing_search_rows" (
    "id" INTEGER NOT NULL PRIMARY KEY,
    "listing_id" TEXT NOT NULL UNIQUE,
    "category" TEXT NOT NULL,
    "pricing_model" TEXT NOT NULL,
    "price" INTEGER NOT NULL,
    "runs" INTEGER NOT NULL,
    "reviews" INTEGER NOT NULL,
    -- The rating as displayed, in tenths (4.3 is 43): round half up of 10 x total / reviews; NULL without reviews.
    "rating_tenths" INTEGER NULL,
    "boost" REAL NOT NULL,
    "published" TEXT NULL
);
CREATE INDEX "listing_search_rows_boost" ON "listing_search_rows" ("boost" DESC, "id");
CREATE INDEX "listing_search_rows_runs" ON "listing_search_rows" ("runs" DESC, "id");
CREATE INDEX "listing_search_rows_rating" ON "listing_search_rows" ("rating_tenths" DESC, "reviews" DESC, "id");
CREATE INDEX "listing_search_rows_newest" ON "listing_search_rows" ("published" DESC, "id");
CREATE INDEX "listing_search_rows_price" ON "listing_search_rows" ("price", "runs" DESC, "id");
CREATE INDEX "listing_search_rows_category" ON "listing_search_rows" ("category", "runs" DESC);

CREATE VIRTUAL TABLE "listing_search" USING fts5(
    name, meta, body, facets,
    content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4'
);

-- Adds a live listing: its row, then its index entry under the row's id. Facets: "c" + hex of the category slug,
-- "p" + the pricing model, and one "rNN" token per tenth of a star up to the displayed rating (so "rating >= 4.3" is
-- the token r43).
CREATE TRIGGER "listings_search_insert" AFTER INSERT ON "listings" WHEN new.state = 'active' AND new.visibility = 'public' BEGIN
    INSERT INTO listing_search_rows (listing_id, category, pricing_model, price, runs, reviews, rating_tenths, boost, published)
    SELECT new.id, c.slug, new.pricing_model,
           CASE new.pricing_model WHEN 'free' THEN 0 WHEN 'variable_credits' THEN new.credits_min ELSE new.credits_per_run END,
           new.runs_count, new.reviews_count,
           CASE WHEN new.reviews_count > 0 THEN (20 * new.rating_total + new.reviews_count) / (2 * new.reviews_count) END,
           1.0 + ln(1.0 + new.runs_count) / 10.0 + (CASE WHEN new.reviews_count > 0 THEN (20 * new.rating_total + new.reviews_count) / (2 * new.reviews_count) ELSE 0 END) / 100.0,
           new.published_utc
    FROM categories c WHERE c.id = new.category_id;
    INSERT INTO listing_search (rowid, name, meta, body, facets)
    SELECT r.id, new.name, new.tags || ' ' || p.name || ' ' || p.handle, new.short_description || ' ' || new.description,
           'c' || lower(hex(r.category)) || ' p' || replace(r.pricing_model, '_', '')
           || CASE WHEN r.rating_tenths >= 10 THEN ' ' || substr('r10 r11 r12 r13 r14 r15 r16 r17 r18 r19 r20 r21 r22 r23 r24 r25 r26 r27 r28 r29 r30 r31 r32 r33 r34 r35 r36 r37 r38 r39 r40 r41 r42 r43 r44 r45 r46 r47 r48 r49 r50', 1, (r.rating_tenths - 9) * 4 - 1) ELSE '' END
    FROM listing_search_rows r JOIN providers p ON p.id = new.provider_id WHERE r.listing_id = new.id;
END;

-- Anything searchable changed: remove the entry, then add it again if the listing is (still) live.
CREATE TRIGGER "listings_search_update" AFTER UPDATE ON "listings"
WHEN old.name IS NOT new.name OR old.tags IS NOT new.tags OR old.short_description IS NOT new.short_description
  OR old.description IS NOT new.description OR old.provider_id IS NOT new.provider_id OR old.category_id IS NOT new.category_id
  OR old.pricing_model IS NOT new.pricing_model OR old.credits_per_run IS NOT new.credits_per_run OR old.credits_min IS NOT new.credits_min
  OR old.state IS NOT new.state OR old.visibility IS NOT new.visibility OR old.published_utc IS NOT new.published_utc
  OR old.rating_total IS NOT new.rating_total OR old.reviews_count IS NOT new.reviews_count
BEGIN
    DELETE FROM listing_search WHERE rowid = (SELECT id FROM listing_search_rows WHERE listing_id = old.id);
    DELETE FROM listing_search_rows WHERE listing_id = old.id;
    INSERT INTO listing_search_rows (listing_id, category, pricing_model, price, runs, reviews, rating_tenths, boost, published)
    SELECT new.id, c.slug, new.pricing_model,
           CASE new.pricing_model WHEN 'free' THEN 0 WHEN 'variable_credits' THEN new.credits_min ELSE new.credits_per_run END,
           new.runs_count, new.reviews_count,
           CASE WHEN new.reviews_count > 0 THEN (20 * new.rating_total + new.reviews_count) / (2 * new.reviews_count) END,
           1.0 + ln(1.0 + new.runs_count) / 10.0 + (CASE WHEN new.reviews_count > 0 THEN (20 * new.rating_total + new.reviews_count) / (2 * new.reviews_count) ELSE 0 END) / 100.0,
           new.published_utc
    FROM categories c WHERE c.id = new.category_id AND new.state = 'active' AND new.visibility = 'public';
    INSERT INTO listing_search (rowid, name, meta, body, facets)
    SELECT r.id, new.name, new.tags || ' ' || p.name || ' ' || p.handle, new.short_description || ' ' || new.description,
           'c' || lower(hex(r.category)) || ' p' || replace(r.pricing_model, '_', '')
           || CASE WHEN r.rating_tenths >= 10 THEN ' ' || substr('r10 r11 r12 r13 r14 r15 r16 r17 r18 r19 r20 r21 r22 r23 r24 r25 r26 r27 r28 r29 r30 r31 r32 r33 r34 r35 r36 r37 r38 r39 r40 r41 r42 r43 r44 r45 r46 r47 r48 r49 r50', 1, (r.rating_tenths - 9) * 4 - 1) ELSE '' END
    FROM listing_search_rows r JOIN providers p ON p.id = new.provider_id WHERE r.listing_id = new.id;
END;

-- A finished run changes only popularity: one small row, no re-indexing.
CREATE TRIGGER "listings_search_runs" AFTER UPDATE OF runs_count ON "listings" WHEN old.runs_count IS NOT new.runs_count BEGIN
    UPDATE listing_search_rows
    SET runs = new.runs_count, boost = 1.0 + ln(1.0 + new.runs_count) / 10.0 + coalesce(rating_tenths, 0) / 100.0
    WHERE listing_id = new.id;
END;

CREATE TRIGGER "listings_search_delete" AFTER DELETE ON "listings" BEGIN
    DELETE FROM listing_search WHERE rowid = (SELECT id FROM listing_search_rows WHERE listing_id = old.id);
    DELETE FROM listing_search_rows WHERE listing_id = old.id;
END;

-- A provider's name and handle are searchable on each of its live listings.
CREATE TRIGGER "providers_search_update" AFTER UPDATE OF name, handle ON "providers"
WHEN old.name IS NOT new.name OR old.handle IS NOT new.handle
BEGIN
    DELETE FROM listing_search WHERE rowid IN (SELECT r.id FROM listing_search_rows r JOIN listings l ON l.id = r.listing_id WHERE l.provider_id = new.id);
    INSERT INTO listing_search (rowid, name, meta, body, facets)
    SELECT r.id, l.name, l.tags || ' ' || new.name || ' ' || new.handle, l.short_description || ' ' || l.description,
           'c' || lower(hex(r.category)) || ' p' || replace(r.pricing_model, '_', '')
           || CASE WHEN r.rating_tenths >= 10 THEN ' ' || substr('r10 r11 r12 r13 r14 r15 r16 r17 r18 r19 r20 r21 r22 r23 r24 r25 r26 r27 r28 r29 r30 r31 r32 r33 r34 r35 r36 r37 r38 r39 r40 r41 r42 r43 r44 r45 r46 r47 r48 r49 r50', 1, (r.rating_tenths - 9) * 4 - 1) ELSE '' END
    FROM listing_search_rows r JOIN listings l ON l.id = r.listing_id WHERE l.provider_id = new.id;
END;

-- Index the listings that exist already, as the insert trigger would have.
INSERT INTO listing_search_rows (listing_id, category, pricing_model, price, runs, reviews, rating_tenths, boost, published)
SELECT l.id, c.slug, l.pricing_model,
       CASE l.pricing_model WHEN 'free' THEN 0 WHEN 'variable_credits' THEN l.credits_min ELSE l.credits_per_run END,
       l.runs_count, l.reviews_count,
       CASE WHEN l.reviews_count > 0 THEN (20 * l.rating_total + l.reviews_count) / (2 * l.reviews_count) END,
       1.0 + ln(1.0 + l.runs_count) / 10.0 + (CASE WHEN l.reviews_count > 0 THEN (20 * l.rating_total + l.reviews_count) / (2 * l.reviews_count) ELSE 0 END) / 100.0,
       l.published_utc
FROM listings l JOIN categories c ON c.id = l.category_id WHERE l.state = 'active' AND l.visibility = 'public' ORDER BY l.created_utc;
INSERT INTO listing_search (rowid, name, meta, body, facets)
SELECT r.id, l.name, l.tags || ' ' || p.name || ' ' || p.handle, l.short_description || ' ' || l.description,
       'c' || lower(hex(r.category)) || ' p' || replace(r.pricing_model, '_', '')
       || CASE WHEN r.rating_tenths >= 10 THEN ' ' || substr('r10 r11 r12 r13 r14 r15 r16 r17 r18 r19 r20 r21 r22 r23 r24 r25 r26 r27 r28 r29 r30 r31 r32 r33 r34 r35 r36 r37 r38 r39 r40 r41 r42 r43 r44 r45 r46 r47 r48 r49 r50', 1, (r.rating_tenths - 9) * 4 - 1) ELSE '' END
FROM listing_search_rows r JOIN listings l ON l.id = r.listing_id JOIN providers p ON p.id = l.provider_id;

-- 0052 economics_usage_source (postgres): how many of a provider's runs, per listing and day (and per buyer), had their
-- tokens held to what the text can hold ('bounded') or estimated because the model endpoint reported none
-- ('estimated'), so the seller's statistics say so (ADR-172). Backfilled from the runs recorded since 0050; earlier
-- runs have no usage source and count as neither.
ALTER TABLE economics_days ADD COLUMN runs_bounded bigint NOT NULL DEFAULT 0;
ALTER TABLE economics_days ADD COLUMN runs_estimated bigint NOT NULL DEFAULT 0;
ALTER TABLE economics_listing_days ADD COLUMN runs_bounded bigint NOT NULL DEFAULT 0;
ALTER TABLE economics_listing_days ADD COLUMN runs_estimated bigint NOT NULL DEFAULT 0;

-- The runs the rollups counted (a provider's finished runs), by the rollup's key; visitors' runs are the empty buyer.
UPDATE economics_days SET
    runs_bounded = (SELECT COUNT(*) FROM agent_runs r WHERE r.organization_id = economics_days.buyer_organization_id AND r.day = economics_days.day
        AND r.listing_id = economics_days.listing_id AND r.provider_id = economics_days.provider_id AND r.status <> 'running' AND r.usage_source = 'bounded'),
    runs_estimated = (SELECT COUNT(*) FROM agent_runs r WHERE r.organization_id = economics_days.buyer_organization_id AND r.day = economics_days.day
        AND r.listing_id = economics_days.listing_id AND r.provider_id = economics_days.provider_id AND r.status <> 'running' AND r.usage_source = 'estimated')
WHERE runs > 0;

UPDATE economics_listing_days SET
    runs_bounded = (SELECT COALESCE(SUM(d.runs_bounded), 0) FROM economics_days d
        WHERE d.provider_id = economics_listing_days.provider_id AND d.day = economics_listing_days.day AND d.listing_id = economics_listing_days.listing_id),
    runs_estimated = (SELECT COALESCE(SUM(d.runs_estimated), 0) FROM economics_days d
        WHERE d.provider_id = economics_listing_days.provider_id AND d.day = economics_listing_days.day AND d.listing_id = economics_listing_days.listing_id)
WHERE runs > 0;

-- 0045 trial_bounds (postgres): what the promotions account set aside for one agent's free tries per UTC day (capped by
-- Gateway:TrialCreditsPerListingPerDay), and which runs were free tries, left out of social proof (ADR-156). The
-- per-address allowance counts in trial_usages, next to the visitors'.
CREATE TABLE trial_promotions (
    listing_id uuid NOT NULL,
    day date NOT NULL,
    credits bigint NOT NULL,
    CONSTRAINT pk_trial_promotions PRIMARY KEY (listing_id, day)
);
ALTER TABLE agent_runs ADD COLUMN trial boolean NOT NULL DEFAULT FALSE;

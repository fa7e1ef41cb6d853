-- 0045 trial_bounds (sqlite): what the promotions account set aside for one agent's free tries per UTC day (capped by
-- Gateway:TrialCreditsPerListingPerDay), and which runs were free tries, left out of social proof (ADR-156). The
-- per-address allowance counts in trial_usages, next to the visitors'.
CREATE TABLE "trial_promotions" (
    "listing_id" TEXT NOT NULL,
    "day" TEXT NOT NULL,
    "credits" INTEGER NOT NULL,
    CONSTRAINT "pk_trial_promotions" PRIMARY KEY ("listing_id", "day")
);
ALTER TABLE "agent_runs" ADD COLUMN "trial" INTEGER NOT NULL DEFAULT 0;

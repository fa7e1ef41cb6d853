-- 0046 trial_retention (sqlite): the playground's per-day counts are deleted once past their retention (ADR-161); the
-- pruning finds old days by this index. Counts hashed before this release no longer match (keyed hashes): that day's
-- allowances start again once.
CREATE INDEX "ix_trial_usages_day" ON "trial_usages" ("day");

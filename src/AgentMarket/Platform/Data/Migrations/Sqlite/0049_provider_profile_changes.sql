-- 0049 provider_profile_changes (sqlite): an approved provider's edit of its public profile waits here for an operator, one per provider (ADR-170).
CREATE TABLE "provider_profile_changes" (
    "provider_id" TEXT NOT NULL CONSTRAINT "pk_provider_profile_changes" PRIMARY KEY,
    "name" TEXT NULL,
    "bio" TEXT NULL,
    "avatar_url" TEXT NULL,
    "submitted_utc" TEXT NOT NULL,
    "rejected_utc" TEXT NULL,
    "rejection_note" TEXT NULL,
    CONSTRAINT "fk_provider_profile_changes_providers_provider_id" FOREIGN KEY ("provider_id") REFERENCES "providers" ("id") ON DELETE CASCADE
);

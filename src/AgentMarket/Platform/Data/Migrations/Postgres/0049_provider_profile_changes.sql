-- 0049 provider_profile_changes (postgres): an approved provider's edit of its public profile waits here for an operator, one per provider (ADR-170).
CREATE TABLE provider_profile_changes (
    provider_id uuid NOT NULL,
    name character varying(200),
    bio character varying(2000),
    avatar_url character varying(500),
    submitted_utc timestamp with time zone NOT NULL,
    rejected_utc timestamp with time zone,
    rejection_note character varying(1000),
    CONSTRAINT pk_provider_profile_changes PRIMARY KEY (provider_id),
    CONSTRAINT fk_provider_profile_changes_providers_provider_id FOREIGN KEY (provider_id) REFERENCES providers (id) ON DELETE CASCADE
);

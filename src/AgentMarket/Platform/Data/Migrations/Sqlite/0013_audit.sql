-- 0013 audit (sqlite): the append-only audit log (UPDATE and DELETE refused by triggers), organization suspension, operator settings.
CREATE TABLE "audit_entries" (
    "id" TEXT NOT NULL CONSTRAINT "pk_audit_entries" PRIMARY KEY,
    "occurred_utc" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "actor_user_id" TEXT NULL,
    "actor_email" TEXT NULL,
    "organization_id" TEXT NULL,
    "target_type" TEXT NULL,
    "target_id" TEXT NULL,
    "before" TEXT NULL,
    "after" TEXT NULL,
    "client_ip" TEXT NULL
);

CREATE TABLE "platform_settings" (
    "key" TEXT NOT NULL CONSTRAINT "pk_platform_settings" PRIMARY KEY,
    "value" TEXT NOT NULL,
    "updated_utc" TEXT NOT NULL,
    "updated_by_user_id" TEXT NULL
);

CREATE INDEX "ix_audit_entries_action_occurred_utc" ON "audit_entries" ("action", "occurred_utc");

CREATE INDEX "ix_audit_entries_actor_user_id_occurred_utc" ON "audit_entries" ("actor_user_id", "occurred_utc");

CREATE INDEX "ix_audit_entries_occurred_utc" ON "audit_entries" ("occurred_utc");

CREATE INDEX "ix_audit_entries_organization_id_occurred_utc" ON "audit_entries" ("organization_id", "occurred_utc");

ALTER TABLE "organizations" ADD COLUMN "suspended_utc" TEXT NULL;
ALTER TABLE "organizations" ADD COLUMN "suspension_reason" TEXT NULL;

-- The application never changes an entry (ADR-080); these refuse it for anyone else with a connection, too.
CREATE TRIGGER "audit_entries_no_update" BEFORE UPDATE ON "audit_entries" BEGIN
    SELECT RAISE(ABORT, 'audit_entries is append-only');
END;
CREATE TRIGGER "audit_entries_no_delete" BEFORE DELETE ON "audit_entries" BEGIN
    SELECT RAISE(ABORT, 'audit_entries is append-only');
END;

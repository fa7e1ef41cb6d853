-- 0013 audit (postgres): the append-only audit log (UPDATE, DELETE and TRUNCATE refused by triggers), organization suspension, operator settings.
CREATE TABLE audit_entries (
    id uuid NOT NULL,
    occurred_utc timestamp with time zone NOT NULL,
    action character varying(60) NOT NULL,
    actor_user_id uuid,
    actor_email character varying(254),
    organization_id uuid,
    target_type character varying(60),
    target_id character varying(100),
    before character varying(4000),
    after character varying(4000),
    client_ip character varying(64),
    CONSTRAINT pk_audit_entries PRIMARY KEY (id)
);

CREATE TABLE platform_settings (
    key character varying(100) NOT NULL,
    value character varying(4000) NOT NULL,
    updated_utc timestamp with time zone NOT NULL,
    updated_by_user_id uuid,
    CONSTRAINT pk_platform_settings PRIMARY KEY (key)
);

CREATE INDEX ix_audit_entries_action_occurred_utc ON audit_entries (action, occurred_utc);

CREATE INDEX ix_audit_entries_actor_user_id_occurred_utc ON audit_entries (actor_user_id, occurred_utc);

CREATE INDEX ix_audit_entries_occurred_utc ON audit_entries (occurred_utc);

CREATE INDEX ix_audit_entries_organization_id_occurred_utc ON audit_entries (organization_id, occurred_utc);

ALTER TABLE organizations ADD COLUMN suspended_utc timestamp with time zone NULL;
ALTER TABLE organizations ADD COLUMN suspension_reason character varying(1000) NULL;

-- The application never changes an entry (ADR-080); these refuse it for anyone else with a connection, too.
CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_entries is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only();

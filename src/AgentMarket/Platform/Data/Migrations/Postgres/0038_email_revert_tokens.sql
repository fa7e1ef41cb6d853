-- 0038 email_revert_tokens (postgres): links to the address an account left that undo an email change, single use, stored as hashes (ADR-142).
CREATE TABLE email_revert_tokens (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    old_email character varying(254) NOT NULL,
    new_email character varying(254) NOT NULL,
    token_hash character varying(64) NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    expires_utc timestamp with time zone NOT NULL,
    used_utc timestamp with time zone,
    CONSTRAINT pk_email_revert_tokens PRIMARY KEY (id),
    CONSTRAINT fk_email_revert_tokens_users_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX ix_email_revert_tokens_token_hash ON email_revert_tokens (token_hash);
CREATE INDEX ix_email_revert_tokens_user_id_created_utc ON email_revert_tokens (user_id, created_utc);

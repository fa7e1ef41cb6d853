-- 0034 email_change_tokens (postgres): links that move an account to a new email address, single use, stored as hashes (ADR-139).
CREATE TABLE email_change_tokens (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    new_email character varying(254) NOT NULL,
    token_hash character varying(64) NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    expires_utc timestamp with time zone NOT NULL,
    used_utc timestamp with time zone,
    CONSTRAINT pk_email_change_tokens PRIMARY KEY (id),
    CONSTRAINT fk_email_change_tokens_users_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX ix_email_change_tokens_token_hash ON email_change_tokens (token_hash);
CREATE INDEX ix_email_change_tokens_user_id_created_utc ON email_change_tokens (user_id, created_utc);

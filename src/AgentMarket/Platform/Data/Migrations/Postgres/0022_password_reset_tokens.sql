-- 0022 password_reset_tokens (postgres): "forgot your password" links, single use, stored as hashes.
CREATE TABLE password_reset_tokens (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    token_hash character varying(64) NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    expires_utc timestamp with time zone NOT NULL,
    used_utc timestamp with time zone,
    CONSTRAINT pk_password_reset_tokens PRIMARY KEY (id),
    CONSTRAINT fk_password_reset_tokens_users_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX ix_password_reset_tokens_token_hash ON password_reset_tokens (token_hash);
CREATE INDEX ix_password_reset_tokens_user_id_created_utc ON password_reset_tokens (user_id, created_utc);

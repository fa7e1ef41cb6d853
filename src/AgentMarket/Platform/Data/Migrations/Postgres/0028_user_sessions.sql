-- 0028 user_sessions (postgres): one row per cookie sign-in, so the server can end a session and every copy of its
-- cookie (ADR-132), and a user can see and end their sessions.
CREATE TABLE user_sessions (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    created_utc timestamp with time zone NOT NULL,
    last_seen_utc timestamp with time zone NOT NULL,
    device character varying(100) NOT NULL,
    ip_address character varying(45),
    ended_utc timestamp with time zone,
    CONSTRAINT pk_user_sessions PRIMARY KEY (id),
    CONSTRAINT fk_user_sessions_users_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX ix_user_sessions_user_id ON user_sessions (user_id);

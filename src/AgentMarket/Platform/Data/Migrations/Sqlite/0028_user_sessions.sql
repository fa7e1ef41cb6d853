-- 0028 user_sessions (sqlite): one row per cookie sign-in, so the server can end a session and every copy of its
-- cookie (ADR-132), and a user can see and end their sessions.
CREATE TABLE "user_sessions" (
    "id" TEXT NOT NULL CONSTRAINT "pk_user_sessions" PRIMARY KEY,
    "user_id" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL,
    "last_seen_utc" TEXT NOT NULL,
    "device" TEXT NOT NULL,
    "ip_address" TEXT NULL,
    "ended_utc" TEXT NULL,
    CONSTRAINT "fk_user_sessions_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_user_sessions_user_id" ON "user_sessions" ("user_id");

-- 0034 email_change_tokens (sqlite): links that move an account to a new email address, single use, stored as hashes (ADR-139).
CREATE TABLE "email_change_tokens" (
    "id" TEXT NOT NULL CONSTRAINT "pk_email_change_tokens" PRIMARY KEY,
    "user_id" TEXT NOT NULL,
    "new_email" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL,
    "expires_utc" TEXT NOT NULL,
    "used_utc" TEXT NULL,
    CONSTRAINT "fk_email_change_tokens_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE UNIQUE INDEX "ix_email_change_tokens_token_hash" ON "email_change_tokens" ("token_hash");
CREATE INDEX "ix_email_change_tokens_user_id_created_utc" ON "email_change_tokens" ("user_id", "created_utc");

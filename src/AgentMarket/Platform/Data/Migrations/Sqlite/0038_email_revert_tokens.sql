-- 0038 email_revert_tokens (sqlite): links to the address an account left that undo an email change, single use, stored as hashes (ADR-142).
CREATE TABLE "email_revert_tokens" (
    "id" TEXT NOT NULL CONSTRAINT "pk_email_revert_tokens" PRIMARY KEY,
    "user_id" TEXT NOT NULL,
    "old_email" TEXT NOT NULL,
    "new_email" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL,
    "expires_utc" TEXT NOT NULL,
    "used_utc" TEXT NULL,
    CONSTRAINT "fk_email_revert_tokens_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE UNIQUE INDEX "ix_email_revert_tokens_token_hash" ON "email_revert_tokens" ("token_hash");
CREATE INDEX "ix_email_revert_tokens_user_id_created_utc" ON "email_revert_tokens" ("user_id", "created_utc");

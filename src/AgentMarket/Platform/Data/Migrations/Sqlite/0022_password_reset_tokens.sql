-- 0022 password_reset_tokens (sqlite): "forgot your password" links, single use, stored as hashes.
CREATE TABLE "password_reset_tokens" (
    "id" TEXT NOT NULL CONSTRAINT "pk_password_reset_tokens" PRIMARY KEY,
    "user_id" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL,
    "expires_utc" TEXT NOT NULL,
    "used_utc" TEXT NULL,
    CONSTRAINT "fk_password_reset_tokens_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE UNIQUE INDEX "ix_password_reset_tokens_token_hash" ON "password_reset_tokens" ("token_hash");
CREATE INDEX "ix_password_reset_tokens_user_id_created_utc" ON "password_reset_tokens" ("user_id", "created_utc");

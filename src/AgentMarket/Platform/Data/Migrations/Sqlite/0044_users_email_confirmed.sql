-- 0044 users_email_confirmed (sqlite): when an account last proved it reads its address; null when the address was only
-- typed at sign-up, so a single sign-on reaching the account by that address ends whatever the typist set up (ADR-151).
-- Accounts single sign-on already reached had their address vouched for by the provider then.
ALTER TABLE "users" ADD COLUMN "email_confirmed_utc" TEXT NULL;
UPDATE "users" SET "email_confirmed_utc" = (SELECT MIN("l"."created_utc") FROM "external_logins" AS "l" WHERE "l"."user_id" = "users"."id")
WHERE EXISTS (SELECT 1 FROM "external_logins" AS "l" WHERE "l"."user_id" = "users"."id");

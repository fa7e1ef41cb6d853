-- 0010 widget (sqlite): publishable keys keep their key encrypted, so the Widget tab can show the embed code again.
ALTER TABLE "api_keys" ADD COLUMN "publishable_key_protected" TEXT NULL;

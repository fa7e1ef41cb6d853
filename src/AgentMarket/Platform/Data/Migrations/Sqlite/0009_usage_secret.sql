-- 0009 usage secret (sqlite): the secret a provider's own runtime signs usage reports with (POST /api/runtime/usage/).
ALTER TABLE "providers" ADD COLUMN "usage_secret_protected" TEXT NULL;
ALTER TABLE "providers" ADD COLUMN "usage_secret_created_utc" TEXT NULL;

-- 0009 usage secret (postgres): the secret a provider's own runtime signs usage reports with (POST /api/runtime/usage/).
ALTER TABLE providers ADD COLUMN usage_secret_protected character varying(1000) NULL;
ALTER TABLE providers ADD COLUMN usage_secret_created_utc timestamp with time zone NULL;

-- 0039 webhook_older_secret (sqlite): the secret a webhook endpoint's previous secret replaced, while its own grace
-- lasts, so two rotations in a row keep signing with the secret the receiver actually verifies with (ADR-141).
ALTER TABLE "webhook_endpoints" ADD COLUMN "older_secret_ciphertext" TEXT NULL;
ALTER TABLE "webhook_endpoints" ADD COLUMN "older_secret_expires_utc" TEXT NULL;

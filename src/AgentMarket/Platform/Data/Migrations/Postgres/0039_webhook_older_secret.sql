-- 0039 webhook_older_secret (postgres): the secret a webhook endpoint's previous secret replaced, while its own grace
-- lasts, so two rotations in a row keep signing with the secret the receiver actually verifies with (ADR-141).
ALTER TABLE webhook_endpoints ADD COLUMN older_secret_ciphertext character varying(1000);
ALTER TABLE webhook_endpoints ADD COLUMN older_secret_expires_utc timestamp with time zone;

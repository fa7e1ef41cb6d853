-- 0037 api_key_older_grace (postgres): the secret a key's grace secret replaced, while its own grace lasts, so two
-- rotations in a row keep the secret actually deployed working (ADR-141). Indexed: the key lookup matches it by hash.
ALTER TABLE api_keys ADD COLUMN older_grace_key_hash character varying(64);
ALTER TABLE api_keys ADD COLUMN older_grace_until_utc timestamp with time zone;
CREATE INDEX ix_api_keys_older_grace_key_hash ON api_keys (older_grace_key_hash);

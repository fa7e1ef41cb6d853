-- 0030 run_request_hash (postgres): the fingerprint of the request that claimed a run's Idempotency-Key (SHA-256 in hex
-- over what the run was asked), so a retry with the same key and another request is refused (422
-- idempotency_key_reused, ADR-136). Null for runs without a key and for runs claimed before this script; those replay to
-- any retry, as before.
ALTER TABLE agent_runs ADD COLUMN request_hash character varying(64) NULL;

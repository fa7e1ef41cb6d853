-- 0042 auto_top_up_backoff_and_pause (postgres): when an automatic payment the provider did not answer is tried next
-- (the wait doubles up to an hour), and when the daily cap of automatic purchases last paused auto top-up and the owners
-- were told (ADR-149).
ALTER TABLE payments ADD COLUMN next_attempt_utc timestamp with time zone;
ALTER TABLE organization_plans ADD COLUMN auto_top_up_paused_utc timestamp with time zone;

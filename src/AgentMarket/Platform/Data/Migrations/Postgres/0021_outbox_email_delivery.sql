-- 0021 outbox_email_delivery (postgres): when an outbox email may be tried again (also the sender's claim), when it was given up, and after when it must not be sent.
ALTER TABLE outbox_emails ADD COLUMN next_attempt_utc timestamp with time zone;
ALTER TABLE outbox_emails ADD COLUMN failed_utc timestamp with time zone;
ALTER TABLE outbox_emails ADD COLUMN expires_utc timestamp with time zone;

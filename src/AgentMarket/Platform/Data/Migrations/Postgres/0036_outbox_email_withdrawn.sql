-- 0036 outbox_email_withdrawn (postgres): when an email was withdrawn unsent (its invitation revoked, its reset link
-- replaced), so operators see it apart from delivery failures. Emails withdrawn before this column are recognised by
-- the reason withdrawal wrote and the body it emptied.
ALTER TABLE outbox_emails ADD COLUMN withdrawn_utc timestamp with time zone;
UPDATE outbox_emails SET withdrawn_utc = failed_utc
WHERE failed_utc IS NOT NULL AND sent_utc IS NULL AND body = '' AND last_error LIKE 'Withdrawn before it was sent: %';

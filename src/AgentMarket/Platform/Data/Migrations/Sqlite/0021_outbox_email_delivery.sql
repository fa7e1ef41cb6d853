-- 0021 outbox_email_delivery (sqlite): when an outbox email may be tried again (also the sender's claim), and when it was given up.
ALTER TABLE "outbox_emails" ADD COLUMN "next_attempt_utc" TEXT NULL;
ALTER TABLE "outbox_emails" ADD COLUMN "failed_utc" TEXT NULL;

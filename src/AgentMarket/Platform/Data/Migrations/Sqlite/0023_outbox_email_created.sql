-- 0023 outbox_email_created (sqlite): the operator's list of emails, newest first, without reading the whole outbox.
CREATE INDEX "ix_outbox_emails_created_utc" ON "outbox_emails" ("created_utc");

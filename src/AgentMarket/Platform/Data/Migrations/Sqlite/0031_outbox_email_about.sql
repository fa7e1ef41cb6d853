-- 0031 outbox_email_about (sqlite): what an outbox email is about (an invitation, a user's reset links), so revoking or
-- replacing that withdraws the email if it has not gone out yet.
ALTER TABLE "outbox_emails" ADD COLUMN "about" TEXT NULL;
CREATE INDEX "ix_outbox_emails_about" ON "outbox_emails" ("about") WHERE about IS NOT NULL;

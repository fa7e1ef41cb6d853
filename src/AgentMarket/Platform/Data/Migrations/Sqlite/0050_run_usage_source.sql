-- 0050 run_usage_source (sqlite): whether a run's tokens are the model endpoint's own figures ('reported'), held to
-- what the text can hold ('bounded') or estimated because the endpoint reported none ('estimated') (ADR-172). Null for
-- runs the engine did not run on the platform and for runs recorded before this script.
ALTER TABLE "agent_runs" ADD COLUMN "usage_source" TEXT;

-- 0026 reports_usage (sqlite): when a provider declared that an agent runs on its own runtime and reports each run's usage
-- (POST /api/runtime/usage/ accepts reports only for such agents; ADR-127), with a copy on the agent's listing for buyers
-- and the gateway. Null (every existing agent) means the platform runs it and no report for it is accepted.
ALTER TABLE "provider_agents" ADD COLUMN "reports_usage_since_utc" TEXT NULL;
ALTER TABLE "listings" ADD COLUMN "reports_usage_since_utc" TEXT NULL;

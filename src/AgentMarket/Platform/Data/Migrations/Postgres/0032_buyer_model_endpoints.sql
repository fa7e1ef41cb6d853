-- 0032 buyer_model_endpoints (postgres): whether buyers may send an agent's model calls, its prompts included, to an
-- endpoint of their own (ADR-138). Every existing agent keeps allowing it.
ALTER TABLE provider_agents ADD COLUMN buyer_model_endpoints_allowed boolean NOT NULL DEFAULT TRUE;

-- 0025 one_live_subscription (sqlite): one live subscription per agent and project, so concurrent subscribes cannot both
-- store one and pay twice. Duplicates such a race stored before are ended first, keeping the earliest: their keys are
-- revoked and they are terminated as of their last update.
UPDATE api_keys SET revoked_utc = (SELECT c.updated_utc FROM customer_agent_configs c WHERE c.id = api_keys.config_id)
WHERE revoked_utc IS NULL AND config_id IN (
    SELECT c.id FROM customer_agent_configs c
    WHERE c.state <> 'terminated' AND EXISTS (
        SELECT 1 FROM customer_agent_configs e
        WHERE e.project_id = c.project_id AND e.listing_id = c.listing_id AND e.state <> 'terminated'
          AND (e.subscribed_utc < c.subscribed_utc OR (e.subscribed_utc = c.subscribed_utc AND e.id < c.id))));
UPDATE customer_agent_configs SET state = 'terminated', terminated_utc = updated_utc, next_charge_utc = NULL
WHERE id IN (
    SELECT c.id FROM customer_agent_configs c
    WHERE c.state <> 'terminated' AND EXISTS (
        SELECT 1 FROM customer_agent_configs e
        WHERE e.project_id = c.project_id AND e.listing_id = c.listing_id AND e.state <> 'terminated'
          AND (e.subscribed_utc < c.subscribed_utc OR (e.subscribed_utc = c.subscribed_utc AND e.id < c.id))));
CREATE UNIQUE INDEX "ix_customer_agent_configs_project_id_listing_id" ON "customer_agent_configs" ("project_id", "listing_id") WHERE state <> 'terminated';

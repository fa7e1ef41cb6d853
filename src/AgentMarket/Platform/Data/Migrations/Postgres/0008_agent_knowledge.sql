-- 0008 agent knowledge (postgres): a provider's agent may carry its own knowledge base, which every run of it reads.
ALTER TABLE provider_agents ADD COLUMN knowledge_base_id uuid NULL;
ALTER TABLE provider_agents ADD CONSTRAINT fk_provider_agents_knowledge_bases_knowledge_base_id
    FOREIGN KEY (knowledge_base_id) REFERENCES knowledge_bases (id) ON DELETE SET NULL;

CREATE INDEX ix_provider_agents_knowledge_base_id ON provider_agents (knowledge_base_id);

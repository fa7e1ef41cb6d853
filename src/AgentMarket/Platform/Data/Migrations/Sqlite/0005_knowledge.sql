-- 0005 knowledge (sqlite): knowledge bases, training documents, their chunks, and the chunks' FTS5 index.
-- Tables and indexes generated with scripts/schema-delta.py sqlite, then reviewed; the FTS5 part is hand-written.

CREATE TABLE "knowledge_bases" (
    "id" TEXT NOT NULL CONSTRAINT "pk_knowledge_bases" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_utc" TEXT NOT NULL,
    CONSTRAINT "fk_knowledge_bases_organizations_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);

CREATE TABLE "training_documents" (
    "id" TEXT NOT NULL CONSTRAINT "pk_training_documents" PRIMARY KEY,
    "organization_id" TEXT NOT NULL,
    "knowledge_base_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "body" TEXT NULL,
    "content_type" TEXT NULL,
    "file_type" TEXT NULL,
    "size_bytes" INTEGER NOT NULL,
    "content_hash" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "failure_reason" TEXT NULL,
    "chunk_count" INTEGER NOT NULL,
    "truncated" INTEGER NOT NULL,
    "attempts" INTEGER NOT NULL,
    "processing_claim" TEXT NULL,
    "claim_expires_utc" TEXT NULL,
    "created_utc" TEXT NOT NULL,
    "processed_utc" TEXT NULL,
    CONSTRAINT "fk_training_documents_knowledge_bases_knowledge_base_id" FOREIGN KEY ("knowledge_base_id") REFERENCES "knowledge_bases" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_training_documents_organizations_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations" ("id") ON DELETE CASCADE
);

CREATE TABLE "knowledge_chunks" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_knowledge_chunks" PRIMARY KEY AUTOINCREMENT,
    "organization_id" TEXT NOT NULL,
    "knowledge_base_id" TEXT NOT NULL,
    "document_id" TEXT NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "title" TEXT NULL,
    "source" TEXT NOT NULL,
    "embedding" BLOB NULL,
    CONSTRAINT "fk_knowledge_chunks_knowledge_bases_knowledge_base_id" FOREIGN KEY ("knowledge_base_id") REFERENCES "knowledge_bases" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_knowledge_chunks_training_documents_document_id" FOREIGN KEY ("document_id") REFERENCES "training_documents" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_knowledge_bases_organization_id_created_utc" ON "knowledge_bases" ("organization_id", "created_utc");

CREATE UNIQUE INDEX "ix_knowledge_chunks_document_id_ordinal" ON "knowledge_chunks" ("document_id", "ordinal");

CREATE INDEX "ix_knowledge_chunks_knowledge_base_id" ON "knowledge_chunks" ("knowledge_base_id");

CREATE INDEX "ix_training_documents_knowledge_base_id_content_hash" ON "training_documents" ("knowledge_base_id", "content_hash");

CREATE INDEX "ix_training_documents_knowledge_base_id_created_utc" ON "training_documents" ("knowledge_base_id", "created_utc");

CREATE INDEX "ix_training_documents_organization_id" ON "training_documents" ("organization_id");

CREATE INDEX "ix_training_documents_state_claim_expires_utc" ON "training_documents" ("state", "claim_expires_utc");

-- Full-text index of the chunks, outside the EF model (SchemaScriptsTests allow-lists it). An external-content FTS5
-- table: it stores only the index and reads text from knowledge_chunks by rowid, which is the chunk's INTEGER PRIMARY
-- KEY AUTOINCREMENT id, so rowids are stable and never reused. The porter tokenizer stems English words ("refunds"
-- finds "refund"); unicode61 with remove_diacritics folds accents ("cafe" finds "café").
CREATE VIRTUAL TABLE knowledge_chunks_fts USING fts5(
    title,
    text,
    content = 'knowledge_chunks',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- The triggers keep the index equal to the table; deletes include the ON DELETE CASCADE from training_documents.
CREATE TRIGGER knowledge_chunks_fts_insert AFTER INSERT ON knowledge_chunks BEGIN
    INSERT INTO knowledge_chunks_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;

CREATE TRIGGER knowledge_chunks_fts_delete AFTER DELETE ON knowledge_chunks BEGIN
    INSERT INTO knowledge_chunks_fts (knowledge_chunks_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
END;

CREATE TRIGGER knowledge_chunks_fts_update AFTER UPDATE OF title, text ON knowledge_chunks BEGIN
    INSERT INTO knowledge_chunks_fts (knowledge_chunks_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO knowledge_chunks_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;

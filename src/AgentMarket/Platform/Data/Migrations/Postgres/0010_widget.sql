-- 0010 widget (postgres): publishable keys keep their key encrypted, so the Widget tab can show the embed code again.
ALTER TABLE api_keys ADD COLUMN publishable_key_protected character varying(1000) NULL;

ALTER TABLE refresh_tokens DROP COLUMN parent_id;
DROP TABLE api_keys;

ALTER TABLE refresh_tokens DROP COLUMN access_token_expires_at;
ALTER TABLE refresh_tokens DROP COLUMN access_token_jti;
DROP TABLE status_changes;

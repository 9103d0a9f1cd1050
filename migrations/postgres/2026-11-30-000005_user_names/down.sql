DELETE FROM users WHERE email IS NULL;
ALTER TABLE users DROP CONSTRAINT users_email_or_username;
ALTER TABLE users DROP CONSTRAINT users_tenant_username;
ALTER TABLE users DROP COLUMN username_normalized;
ALTER TABLE users DROP COLUMN username;
ALTER TABLE users ALTER COLUMN email_normalized SET NOT NULL;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;

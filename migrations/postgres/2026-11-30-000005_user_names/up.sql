-- Users sign in with a user name, an email address, or either: both are optional,
-- one is required, and each is unique within a tenant (compared normalised).
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
ALTER TABLE users ALTER COLUMN email_normalized DROP NOT NULL;
ALTER TABLE users ADD COLUMN username TEXT;
ALTER TABLE users ADD COLUMN username_normalized TEXT;
ALTER TABLE users ADD CONSTRAINT users_tenant_username UNIQUE (tenant_id, username_normalized);
ALTER TABLE users ADD CONSTRAINT users_email_or_username
    CHECK (email_normalized IS NOT NULL OR username_normalized IS NOT NULL);

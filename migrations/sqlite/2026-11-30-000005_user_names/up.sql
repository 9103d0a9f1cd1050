-- Users sign in with a user name, an email address, or either: both are optional,
-- one is required, and each is unique within a tenant (compared normalised).
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE users_new (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email TEXT,
    email_normalized TEXT,
    display_name TEXT NOT NULL,
    given_name TEXT,
    family_name TEXT,
    password_hash TEXT,
    roles TEXT NOT NULL DEFAULT '[]',
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    username TEXT,
    username_normalized TEXT,
    UNIQUE (tenant_id, email_normalized),
    UNIQUE (tenant_id, username_normalized),
    CHECK (email_normalized IS NOT NULL OR username_normalized IS NOT NULL)
);
INSERT INTO users_new (id, tenant_id, email, email_normalized, display_name, given_name,
    family_name, password_hash, roles, disabled, created_at, updated_at)
SELECT id, tenant_id, email, email_normalized, display_name, given_name, family_name,
    password_hash, roles, disabled, created_at, updated_at
FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
COMMIT;
PRAGMA foreign_keys = ON;

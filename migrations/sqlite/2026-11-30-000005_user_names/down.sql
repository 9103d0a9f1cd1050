PRAGMA foreign_keys = OFF;
BEGIN;
DELETE FROM users WHERE email IS NULL;
CREATE TABLE users_old (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    display_name TEXT NOT NULL,
    given_name TEXT,
    family_name TEXT,
    password_hash TEXT,
    roles TEXT NOT NULL DEFAULT '[]',
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, email_normalized)
);
INSERT INTO users_old SELECT id, tenant_id, email, email_normalized, display_name,
    given_name, family_name, password_hash, roles, disabled, created_at, updated_at
FROM users;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
COMMIT;
PRAGMA foreign_keys = ON;

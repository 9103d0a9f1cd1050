-- API keys (issue 10): long-lived credentials of a user or a client application.
-- The key is shown once; only its SHA-256 is kept (it is 256 random bits). `id` is
-- the public part of the key (`lidp_{id}_{secret}`), so a lookup is by primary key.
-- The owner is a user or a client (no foreign key: it may be either); a key whose
-- owner is gone is refused when presented.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('user', 'client')),
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    roles TEXT NOT NULL DEFAULT '[]',
    scopes TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_keys_owner ON api_keys (tenant_id, owner_kind, owner_id);

-- Refresh retry grace: the token a successor was rotated from, so that a retry of a
-- rotation is told apart from a replay after the successor was used.
ALTER TABLE refresh_tokens ADD COLUMN parent_id TEXT;

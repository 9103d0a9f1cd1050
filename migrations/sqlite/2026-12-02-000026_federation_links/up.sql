-- Brokered sign-in (issue 14): which upstream identity (a provider's `oid`, else
-- `sub`) is which local user, and the sign-ins sent to an upstream provider and not
-- yet back. A pending request is found by the SHA-256 of its `state`, is bound to
-- the browser by the SHA-256 of a cookie, expires after 10 minutes and is used once.
CREATE TABLE federation_links (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    issuer TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX federation_links_user ON federation_links (user_id);
CREATE TABLE federation_requests (
    state_hash TEXT PRIMARY KEY NOT NULL,
    provider TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    browser_hash TEXT NOT NULL,
    params TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX federation_requests_expiry ON federation_requests (expires_at);

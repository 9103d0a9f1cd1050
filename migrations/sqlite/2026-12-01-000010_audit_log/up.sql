-- The audit log (src/audit/): who signed in, failed, or changed what. No foreign
-- keys: an event outlives the user, client and tenant it names. Never a secret.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY NOT NULL,
    occurred_at BIGINT NOT NULL,
    category TEXT NOT NULL,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    actor TEXT,
    tenant_id TEXT,
    client_id TEXT,
    user_id TEXT,
    ip TEXT,
    user_agent TEXT,
    correlation_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
-- Newest first (and the retention purge), and one user's history. Every index costs
-- each token issued a little: the other filters of `localidp audit` scan by time.
CREATE INDEX audit_events_time ON audit_events (occurred_at);
CREATE INDEX audit_events_user ON audit_events (user_id, occurred_at);

-- Microsoft Graph application permissions granted to a client (issue 12): the
-- `roles` of its app-only tokens for Graph (`User.ReadWrite.All`, ...).
CREATE TABLE graph_permissions (
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, permission)
);

-- A client's further secrets (issue 12): Microsoft Graph's `passwordCredentials`,
-- added with `addPassword` and removed with `removePassword`. The secret is kept
-- only as SHA-256; `hint` is its first three characters, as Graph shows it.
CREATE TABLE client_secrets (
    key_id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    display_name TEXT,
    hint TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    start_at BIGINT NOT NULL,
    end_at BIGINT NOT NULL
);
CREATE INDEX client_secrets_client ON client_secrets (client_id);

-- Users' assignments of app roles of the tenant's clients (issue 12): Microsoft
-- Graph's `appRoleAssignments`. `role_value` is the role's value, or empty for
-- Graph's default access (appRoleId 00000000-0000-0000-0000-000000000000). The
-- roles assigned for a client are in the `roles` of the user's tokens for it.
CREATE TABLE app_role_assignments (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    role_value TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, client_id, role_value)
);
CREATE INDEX app_role_assignments_client ON app_role_assignments (client_id);

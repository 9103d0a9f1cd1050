-- Entra's built-in directory roles held by users (issue 12): `Global Administrator`
-- and `User Administrator`, by role template id. They let a user's delegated Graph
-- token write the directory and are the `wids` claim of the user's tokens.
CREATE TABLE directory_role_members (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_template_id TEXT NOT NULL,
    assigned_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, role_template_id)
);
CREATE INDEX directory_role_members_role ON directory_role_members (role_template_id);

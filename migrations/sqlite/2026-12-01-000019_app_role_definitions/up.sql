-- App roles kept whole (Graph's appRole: id, value, displayName, description,
-- allowedMemberTypes, isEnabled): a JSON array on the client. Empty means the roles
-- are the values in `app_roles`, each with displayName and description = value, both
-- member types, enabled, and the id localidp has always given it (a UUID v5 of the
-- client id and value, which SQL cannot compute: the application derives these).
-- `app_roles` keeps the values of the enabled roles, as tokens carry them.
ALTER TABLE clients ADD COLUMN app_role_definitions TEXT NOT NULL DEFAULT '';

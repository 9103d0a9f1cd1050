-- A key published ahead of its use (automatic rotation): it signs from activates_at on.
-- NULL: it signed from its creation.
ALTER TABLE signing_keys ADD COLUMN activates_at BIGINT;

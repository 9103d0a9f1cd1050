-- A refresh token stays with the B2C user flow it was issued under (NULL: Entra or
-- the short endpoints), and remembers when the user signed in (OIDC auth_time).
ALTER TABLE refresh_tokens ADD COLUMN policy TEXT;
ALTER TABLE refresh_tokens ADD COLUMN auth_time BIGINT;

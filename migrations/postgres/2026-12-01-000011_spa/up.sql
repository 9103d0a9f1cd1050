-- Redirect URIs typed as Entra types them: the existing list is the "web" platform;
-- "spa" URIs may redeem codes cross-origin (CORS) and get 24-hour refresh tokens;
-- "publicClient" URIs are mobile and desktop ones. JSON arrays.
ALTER TABLE clients ADD COLUMN spa_redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN public_client_redirect_uris TEXT NOT NULL DEFAULT '[]';
-- B2C's "Require ID Token in logout requests".
ALTER TABLE tenant_user_flows ADD COLUMN logout_requires_id_token INTEGER NOT NULL DEFAULT 0;
-- A refresh family that does not slide (SPA): every token of it expires then.
ALTER TABLE refresh_tokens ADD COLUMN family_expires_at BIGINT;

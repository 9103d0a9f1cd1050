ALTER TABLE refresh_tokens DROP COLUMN family_expires_at;
ALTER TABLE tenant_user_flows DROP COLUMN logout_requires_id_token;
ALTER TABLE clients DROP COLUMN public_client_redirect_uris;
ALTER TABLE clients DROP COLUMN spa_redirect_uris;

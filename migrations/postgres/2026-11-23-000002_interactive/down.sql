DROP TABLE tenant_user_flows;
DROP TABLE server_secrets;
DROP TABLE revoked_access_tokens;
DROP TABLE authorization_codes;
DROP TABLE sso_sessions;

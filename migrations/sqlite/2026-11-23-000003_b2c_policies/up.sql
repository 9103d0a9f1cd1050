-- B2C user flows (policies) served per tenant, lower-case, as a JSON array; and the
-- issuer format of B2C tokens: 'default' ({host}/{tid}/v2.0/) or 'tfp'.
ALTER TABLE tenants ADD COLUMN policies TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tenants ADD COLUMN b2c_issuer TEXT NOT NULL DEFAULT 'default';

ALTER TABLE tenants DROP COLUMN b2c_issuer;
ALTER TABLE tenants DROP COLUMN policies;

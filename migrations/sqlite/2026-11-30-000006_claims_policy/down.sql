ALTER TABLE clients DROP COLUMN claims_mapping;
ALTER TABLE clients DROP COLUMN optional_claims;

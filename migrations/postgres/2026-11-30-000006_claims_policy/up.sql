-- An application's optional claims and claims mapping (Entra's optionalClaims and
-- claims-mapping policy), as JSON; '{}' keeps the tokens localidp always issued.
ALTER TABLE clients ADD COLUMN optional_claims TEXT NOT NULL DEFAULT '{}';
ALTER TABLE clients ADD COLUMN claims_mapping TEXT NOT NULL DEFAULT '{}';

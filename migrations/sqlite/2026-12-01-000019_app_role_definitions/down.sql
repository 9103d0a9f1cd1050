ALTER TABLE clients DROP COLUMN app_role_definitions;

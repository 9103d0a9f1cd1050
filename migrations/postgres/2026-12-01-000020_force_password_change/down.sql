ALTER TABLE users DROP COLUMN force_change_password;

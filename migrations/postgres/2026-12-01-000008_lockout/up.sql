-- Smart lockout, counted in the database so that every replica sees the same state:
-- wrong passwords in a row, the end of the current (or last) lock, and how many locks
-- came in a row (each lasts longer than the one before).
ALTER TABLE users ADD COLUMN failed_sign_ins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until BIGINT;
ALTER TABLE users ADD COLUMN lockouts INTEGER NOT NULL DEFAULT 0;

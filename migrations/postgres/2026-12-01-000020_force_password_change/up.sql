-- Graph's passwordProfile.forceChangePasswordNextSignIn: the user must choose a new
-- password at the next sign-in (the password grant answers AADSTS50055; the sign-in
-- form asks for a new password). Cleared when the password is set again.
ALTER TABLE users ADD COLUMN force_change_password INTEGER NOT NULL DEFAULT 0;

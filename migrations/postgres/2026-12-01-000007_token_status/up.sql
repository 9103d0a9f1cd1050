-- Token status (issue 10): every change that makes issued access tokens unacceptable,
-- appended in the transaction of the change; each server keeps the current state in
-- memory and reads the rows it has not seen (`id > last seen`) within its bound.
-- kind: token_revoked (subject = jti), user_disabled, user_enabled, user_deleted
-- (subject = user id). expires_at: when the row stops mattering (a revoked token's
-- exp); NULL for user rows, which matter for one access-token lifetime after created_at.
CREATE TABLE status_changes (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    expires_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX status_changes_subject ON status_changes (subject);

-- What was already true: tokens on the deny list, users disabled (their tokens are
-- refused from now on, as those of users disabled later).
INSERT INTO status_changes (kind, subject, expires_at, created_at)
    SELECT 'token_revoked', jti, expires_at, revoked_at FROM revoked_access_tokens;
INSERT INTO status_changes (kind, subject, expires_at, created_at)
    SELECT 'user_disabled', id, NULL, updated_at FROM users WHERE disabled <> 0;

-- The access token issued together with each refresh token, so that revoking the
-- family can put its access tokens on the deny list.
ALTER TABLE refresh_tokens ADD COLUMN access_token_jti TEXT;
ALTER TABLE refresh_tokens ADD COLUMN access_token_expires_at BIGINT;

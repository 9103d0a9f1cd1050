-- Microsoft Graph's group properties (issue 12): a group created over Graph keeps
-- its description, mailNickname and the mail/security flags.
ALTER TABLE groups ADD COLUMN description TEXT;
ALTER TABLE groups ADD COLUMN mail_nickname TEXT;
ALTER TABLE groups ADD COLUMN mail_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE groups ADD COLUMN security_enabled BOOLEAN NOT NULL DEFAULT TRUE;

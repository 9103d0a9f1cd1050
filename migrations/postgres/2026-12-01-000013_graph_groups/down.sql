ALTER TABLE groups DROP COLUMN security_enabled;
ALTER TABLE groups DROP COLUMN mail_enabled;
ALTER TABLE groups DROP COLUMN mail_nickname;
ALTER TABLE groups DROP COLUMN description;

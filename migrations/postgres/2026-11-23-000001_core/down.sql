DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE group_members;
DROP TABLE groups;
DROP TABLE clients;
DROP TABLE users;
DROP TABLE tenants;

DROP TABLE directory_role_members;

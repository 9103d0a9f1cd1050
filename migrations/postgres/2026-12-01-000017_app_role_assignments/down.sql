DROP TABLE app_role_assignments;

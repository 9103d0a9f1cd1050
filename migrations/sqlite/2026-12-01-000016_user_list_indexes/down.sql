DROP INDEX users_tenant_display_name;
DROP INDEX users_tenant_id;

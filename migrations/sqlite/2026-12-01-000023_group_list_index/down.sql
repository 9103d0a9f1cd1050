DROP INDEX groups_tenant_name;

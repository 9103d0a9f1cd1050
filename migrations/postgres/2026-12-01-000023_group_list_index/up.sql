-- GET /v1.0/groups?$orderby=displayName pages by (lower-cased name, id) within a
-- tenant, as users are paged: the index lets a page seek to its place.
CREATE INDEX groups_tenant_name ON groups (tenant_id, lower(name), id);

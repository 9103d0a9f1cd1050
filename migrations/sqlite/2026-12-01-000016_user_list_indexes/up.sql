-- Graph's user lists at scale (issue 12): GET /v1.0/users?$orderby=displayName pages
-- by (lower-cased display name, id) within a tenant; this index lets a page seek to
-- its place instead of sorting every user of the tenant.
CREATE INDEX users_tenant_display_name ON users (tenant_id, lower(display_name), id);
-- ... and GET /v1.0/users in id order seeks to the page's first id within the tenant
-- (without it SQLite read the tenant's users through another index and sorted them:
-- 230 ms a page with 1,000,000 users).
CREATE INDEX users_tenant_id ON users (tenant_id, id);

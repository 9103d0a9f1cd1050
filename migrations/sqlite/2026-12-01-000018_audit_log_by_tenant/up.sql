-- Graph's audit logs (/v1.0/auditLogs/signIns, /directoryAudits) list one tenant's
-- events of one category newest first, and page by (time, id): this index lets a page
-- seek to its place instead of sorting the tenant's events.
CREATE INDEX audit_events_tenant_category_time ON audit_events (tenant_id, category, occurred_at, id);

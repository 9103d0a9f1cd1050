//! The directory as Microsoft Graph v1.0 shows it: Graph as a resource of every
//! tenant, its permissions, the OData options of its lists, its `user` shape and the
//! audit logs' `signIn` and `directoryAudit`. The HTTP handlers are in `http::graph`.

pub mod app_role_defs;
pub mod application;
pub mod application_writes;
pub mod audit_log;
pub mod directory;
pub mod directory_audit;
pub mod group;
pub mod odata;
pub mod permissions;
pub mod roles;
pub mod sign_in_log;
pub mod user;

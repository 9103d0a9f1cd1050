//! Microsoft Graph v1.0 (and `/beta`, the same handlers): the directory's users,
//! groups and applications, and the audit logs, for applications that call Graph. Every request carries a Graph access token from this
//! server (`scope=https://graph.microsoft.com/.default`, or `User.Read`), checked as
//! `/auth/verify` checks tokens (signature, times, issuer, token status).

mod api_keys;
mod app_roles;
mod applications;
mod audit_logs;
mod auth;
mod directory_roles;
mod error;
mod groups;
mod me;
mod relations;
mod users;

use actix_web::web;

/// The Graph routes under `/v1.0` and `/beta`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    for version in ["/v1.0", "/beta"] {
        let mut scope = web::scope(version);
        // Graph names an application or service principal by object id or by appId.
        for (apps, sps) in [
            ("/applications/{id}", "/servicePrincipals/{id}"),
            (
                "/applications(appId='{app_id}')",
                "/servicePrincipals(appId='{app_id}')",
            ),
        ] {
            scope = scope
                .route(apps, web::get().to(applications::get_application))
                .route(apps, web::patch().to(applications::update))
                .route(apps, web::delete().to(applications::delete))
                .route(
                    &format!("{apps}/addPassword"),
                    web::post().to(applications::add_password),
                )
                .route(
                    &format!("{apps}/removePassword"),
                    web::post().to(applications::remove_password),
                )
                .route(
                    &format!("{apps}/apiKeys"),
                    web::get().to(api_keys::list_apps),
                )
                .route(
                    &format!("{apps}/apiKeys"),
                    web::post().to(api_keys::create_apps),
                )
                .route(
                    &format!("{apps}/apiKeys/{{key_id}}"),
                    web::delete().to(api_keys::delete_apps),
                )
                .route(sps, web::get().to(applications::get_service_principal))
                .route(
                    &format!("{sps}/appRoleAssignedTo"),
                    web::get().to(app_roles::assigned_to),
                );
        }
        cfg.service(
            scope
                .route(
                    "/applications",
                    web::get().to(applications::list_applications),
                )
                .route("/applications", web::post().to(applications::create))
                .route(
                    "/servicePrincipals",
                    web::get().to(applications::list_service_principals),
                )
                .route("/me", web::get().to(users::me))
                .route("/me", web::patch().to(me::update))
                .route("/me/changePassword", web::post().to(me::change_password))
                .route("/me/memberOf", web::get().to(relations::my_member_of))
                .route("/me/apiKeys", web::get().to(api_keys::list_mine))
                .route("/me/apiKeys", web::post().to(api_keys::create_mine))
                .route(
                    "/me/apiKeys/{key_id}",
                    web::delete().to(api_keys::delete_mine),
                )
                .route("/users/{id}/apiKeys", web::get().to(api_keys::list_users))
                .route(
                    "/users/{id}/apiKeys",
                    web::post().to(api_keys::create_users),
                )
                .route(
                    "/users/{id}/apiKeys/{key_id}",
                    web::delete().to(api_keys::delete_users),
                )
                .route(
                    "/me/appRoleAssignments",
                    web::get().to(app_roles::list_mine),
                )
                .route(
                    "/users/{id}/appRoleAssignments",
                    web::get().to(app_roles::list),
                )
                .route(
                    "/users/{id}/appRoleAssignments",
                    web::post().to(app_roles::create),
                )
                .route(
                    "/users/{id}/appRoleAssignments/{assignment}",
                    web::delete().to(app_roles::delete),
                )
                .route("/users/{id}/memberOf", web::get().to(relations::member_of))
                .route(
                    "/auditLogs/signIns",
                    web::get().to(audit_logs::list_sign_ins),
                )
                .route(
                    "/auditLogs/signIns/{id}",
                    web::get().to(audit_logs::get_sign_in),
                )
                .route(
                    "/auditLogs/directoryAudits",
                    web::get().to(audit_logs::list_directory_audits),
                )
                .route(
                    "/auditLogs/directoryAudits/{id}",
                    web::get().to(audit_logs::get_directory_audit),
                )
                .route("/directoryRoles", web::get().to(directory_roles::list))
                .route("/directoryRoles/{id}", web::get().to(directory_roles::get))
                .route(
                    "/directoryRoles/{id}/members",
                    web::get().to(directory_roles::members),
                )
                .route("/groups", web::get().to(groups::list))
                .route("/groups", web::post().to(groups::create))
                .route("/groups/{id}", web::get().to(groups::get))
                .route("/groups/{id}", web::patch().to(groups::update))
                .route("/groups/{id}", web::delete().to(groups::delete))
                .route("/groups/{id}/members", web::get().to(relations::members))
                .route(
                    "/groups/{id}/members/$ref",
                    web::post().to(groups::add_member),
                )
                .route(
                    "/groups/{id}/members/{member}/$ref",
                    web::delete().to(groups::remove_member),
                )
                .route("/users", web::get().to(users::list))
                .route("/users", web::post().to(users::create))
                .route("/users/{id}", web::get().to(users::get))
                .route("/users/{id}", web::patch().to(users::update))
                .route("/users/{id}", web::delete().to(users::delete))
                .route(
                    "/users/{id}/revokeSignInSessions",
                    web::post().to(users::revoke_sign_in_sessions),
                )
                .default_service(web::to(users::unknown)),
        );
    }
}

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

use super::route_table::Routes;

/// The Graph routes under `/v1.0` and `/beta`; other paths there answer Graph's 400.
pub fn routes(r: &mut Routes<'_>) {
    for version in ["/v1.0", "/beta"] {
        r.scope(version, web::to(users::unknown), version_routes);
    }
}

fn version_routes(r: &mut Routes<'_>) {
    // Graph names an application or service principal by object id or by appId.
    for (apps, sps) in [
        ("/applications/{id}", "/servicePrincipals/{id}"),
        (
            "/applications(appId='{app_id}')",
            "/servicePrincipals(appId='{app_id}')",
        ),
    ] {
        r.get(apps, web::to(applications::get_application))
            .patch(apps, web::to(applications::update))
            .delete(apps, web::to(applications::delete))
            .post(
                &format!("{apps}/addPassword"),
                web::to(applications::add_password),
            )
            .post(
                &format!("{apps}/removePassword"),
                web::to(applications::remove_password),
            )
            .get(&format!("{apps}/apiKeys"), web::to(api_keys::list_apps))
            .post(&format!("{apps}/apiKeys"), web::to(api_keys::create_apps))
            .delete(
                &format!("{apps}/apiKeys/{{key_id}}"),
                web::to(api_keys::delete_apps),
            )
            .get(sps, web::to(applications::get_service_principal))
            .get(
                &format!("{sps}/appRoleAssignedTo"),
                web::to(app_roles::assigned_to),
            );
    }
    r.get("/applications", web::to(applications::list_applications))
        .post("/applications", web::to(applications::create))
        .get(
            "/servicePrincipals",
            web::to(applications::list_service_principals),
        )
        .get("/me", web::to(users::me))
        .patch("/me", web::to(me::update))
        .post("/me/changePassword", web::to(me::change_password))
        .get("/me/memberOf", web::to(relations::my_member_of))
        .get("/me/apiKeys", web::to(api_keys::list_mine))
        .post("/me/apiKeys", web::to(api_keys::create_mine))
        .delete("/me/apiKeys/{key_id}", web::to(api_keys::delete_mine))
        .get("/users/{id}/apiKeys", web::to(api_keys::list_users))
        .post("/users/{id}/apiKeys", web::to(api_keys::create_users))
        .delete(
            "/users/{id}/apiKeys/{key_id}",
            web::to(api_keys::delete_users),
        )
        .get("/me/appRoleAssignments", web::to(app_roles::list_mine))
        .get("/users/{id}/appRoleAssignments", web::to(app_roles::list))
        .post("/users/{id}/appRoleAssignments", web::to(app_roles::create))
        .delete(
            "/users/{id}/appRoleAssignments/{assignment}",
            web::to(app_roles::delete),
        )
        .get("/users/{id}/memberOf", web::to(relations::member_of))
        .get("/auditLogs/signIns", web::to(audit_logs::list_sign_ins))
        .get("/auditLogs/signIns/{id}", web::to(audit_logs::get_sign_in))
        .get(
            "/auditLogs/directoryAudits",
            web::to(audit_logs::list_directory_audits),
        )
        .get(
            "/auditLogs/directoryAudits/{id}",
            web::to(audit_logs::get_directory_audit),
        )
        .get("/directoryRoles", web::to(directory_roles::list))
        .get("/directoryRoles/{id}", web::to(directory_roles::get))
        .get(
            "/directoryRoles/{id}/members",
            web::to(directory_roles::members),
        )
        .get("/groups", web::to(groups::list))
        .post("/groups", web::to(groups::create))
        .get("/groups/{id}", web::to(groups::get))
        .patch("/groups/{id}", web::to(groups::update))
        .delete("/groups/{id}", web::to(groups::delete))
        .get("/groups/{id}/members", web::to(relations::members))
        .post("/groups/{id}/members/$ref", web::to(groups::add_member))
        .delete(
            "/groups/{id}/members/{member}/$ref",
            web::to(groups::remove_member),
        )
        .get("/users", web::to(users::list))
        .post("/users", web::to(users::create))
        .get("/users/{id}", web::to(users::get))
        .patch("/users/{id}", web::to(users::update))
        .delete("/users/{id}", web::to(users::delete))
        .post(
            "/users/{id}/revokeSignInSessions",
            web::to(users::revoke_sign_in_sessions),
        );
}

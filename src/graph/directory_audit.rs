//! `/auditLogs/directoryAudits`: the audit log's changes to the directory — users,
//! groups, applications, directory roles, app role assignments, Graph permissions,
//! API keys, unlocks — made over Graph, from the CLI or by the seed file, as Graph's
//! `directoryAudit`. Signing-key events belong to no tenant and are not listed.

use serde_json::{Map, Value, json};

use crate::audit::{Category, actor, kind};
use crate::db::audit_events::{AuditRow, LogCondition, LogSources};
use crate::graph::application::{application_id, service_principal_id};
use crate::graph::audit_log::{
    LogFilter, LogResource, Names, detail, equals_text, graph_time, key_value, property,
};
use crate::graph::odata::{Clause, unsupported_clause};
use crate::graph::roles;

pub static DIRECTORY_AUDITS: LogResource = LogResource {
    collection: "auditLogs/directoryAudits",
    type_name: "directoryAudit",
    time_property: "activityDateTime",
    id_prefix: "d1a0d170-0000-4000-8000-",
    properties: &PROPERTIES,
    sources,
    filter,
    to_json,
};

const PROPERTIES: [&str; 12] = [
    "id",
    "category",
    "correlationId",
    "result",
    "resultReason",
    "activityDisplayName",
    "activityDateTime",
    "loggedByService",
    "operationType",
    "initiatedBy",
    "targetResources",
    "additionalDetails",
];

fn sources() -> LogSources {
    vec![
        (Category::Admin.as_str().into(), None),
        (
            Category::ApiKey.as_str().into(),
            Some(vec![
                kind::API_KEY_CREATED.into(),
                kind::API_KEY_REVOKED.into(),
            ]),
        ),
        (
            Category::Lockout.as_str().into(),
            Some(vec![kind::ACCOUNT_UNLOCKED.into()]),
        ),
    ]
}

/// What an event changed, for `targetResources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    User,
    /// The user and the directory roles in `detail.roles`.
    UserAndRoles,
    /// The user and the service principal of `detail.resource`.
    UserAndResource,
    Group,
    /// The member (user) and the group.
    GroupMember,
    Application,
    ServicePrincipal,
    /// The key's owner: its user, else its client's service principal.
    KeyOwner,
    Tenant,
    Nothing,
}

/// An audit kind as Entra's activity.
struct Activity {
    kind: &'static str,
    category: &'static str,
    name: &'static str,
    operation: &'static str,
    target: Target,
}

const fn activity(
    kind: &'static str,
    category: &'static str,
    name: &'static str,
    operation: &'static str,
    target: Target,
) -> Activity {
    Activity {
        kind,
        category,
        name,
        operation,
        target,
    }
}

const USERS: &str = "UserManagement";
const GROUPS: &str = "GroupManagement";
const APPS: &str = "ApplicationManagement";
const ROLES: &str = "RoleManagement";
const KEYS: &str = "KeyManagement";
const DIRECTORY: &str = "DirectoryManagement";
const SECRETS: &str = "Update application – Certificates and secrets management";

#[rustfmt::skip]
const ACTIVITIES: [Activity; 30] = [
    activity(kind::TENANT_CREATED, DIRECTORY, "Create company", "Add", Target::Tenant),
    activity(kind::USER_CREATED, USERS, "Add user", "Add", Target::User),
    activity(kind::USER_IMPORTED, USERS, "Bulk create users - finished (bulk)", "Add", Target::Nothing),
    activity(kind::USER_PASSWORD_SET, USERS, "Reset user password", "Update", Target::User),
    activity(kind::USER_UPDATED, USERS, "Update user", "Update", Target::User),
    activity(kind::USER_SESSIONS_REVOKED, USERS, "Update user", "Update", Target::User),
    activity(kind::USER_DISABLED, USERS, "Disable account", "Update", Target::User),
    activity(kind::USER_ENABLED, USERS, "Enable account", "Update", Target::User),
    activity(kind::USER_DELETED, USERS, "Delete user", "Delete", Target::User),
    activity(kind::ACCOUNT_UNLOCKED, USERS, "Unlock user", "Update", Target::User),
    activity(kind::USER_ROLES_ASSIGNED, ROLES, "Add member to role", "Assign", Target::UserAndRoles),
    activity(kind::USER_ROLES_REMOVED, ROLES, "Remove member from role", "Unassign", Target::UserAndRoles),
    activity(kind::USER_APP_ROLE_ASSIGNED, USERS, "Add app role assignment grant to user", "Assign", Target::UserAndResource),
    activity(kind::USER_APP_ROLE_REMOVED, USERS, "Remove app role assignment from user", "Unassign", Target::UserAndResource),
    activity(kind::GROUP_CREATED, GROUPS, "Add group", "Add", Target::Group),
    activity(kind::GROUP_UPDATED, GROUPS, "Update group", "Update", Target::Group),
    activity(kind::GROUP_DELETED, GROUPS, "Delete group", "Delete", Target::Group),
    activity(kind::GROUP_MEMBER_ADDED, GROUPS, "Add member to group", "Assign", Target::GroupMember),
    activity(kind::GROUP_MEMBER_REMOVED, GROUPS, "Remove member from group", "Unassign", Target::GroupMember),
    activity(kind::CLIENT_CREATED, APPS, "Add application", "Add", Target::Application),
    activity(kind::CLIENT_UPDATED, APPS, "Update application", "Update", Target::Application),
    activity(kind::CLIENT_CLAIMS_SET, APPS, "Update application", "Update", Target::Application),
    activity(kind::CLIENT_DELETED, APPS, "Delete application", "Delete", Target::Application),
    activity(kind::CLIENT_DEFAULT_SET, DIRECTORY, "Set default application", "Update", Target::Application),
    activity(kind::CLIENT_SECRET_ADDED, APPS, SECRETS, "Update", Target::Application),
    activity(kind::CLIENT_SECRET_REMOVED, APPS, SECRETS, "Update", Target::Application),
    activity(kind::CLIENT_GRAPH_GRANTED, APPS, "Add app role assignment to service principal", "Assign", Target::ServicePrincipal),
    activity(kind::CLIENT_GRAPH_REVOKED, APPS, "Remove app role assignment from service principal", "Unassign", Target::ServicePrincipal),
    activity(kind::API_KEY_CREATED, KEYS, "Add API key", "Add", Target::KeyOwner),
    activity(kind::API_KEY_REVOKED, KEYS, "Revoke API key", "Delete", Target::KeyOwner),
];

/// An admin kind this table does not know yet.
const OTHER: Activity = activity("", "Other", "", "Other", Target::Nothing);

fn activity_of(kind: &str) -> &'static Activity {
    ACTIVITIES.iter().find(|a| a.kind == kind).unwrap_or(&OTHER)
}

/// `initiatedBy`: a signed-in user, an application, or localidp itself (the CLI, the
/// seed file, the first start) as an application without an id.
fn initiated_by(row: &AuditRow, d: &Map<String, Value>, names: &Names) -> Value {
    let tool = |name: &str| {
        json!({"user": null, "app": {"appId": null, "displayName": name,
               "servicePrincipalId": null, "servicePrincipalName": null}})
    };
    let app = |id: &str| {
        let name = names.clients.get(id);
        json!({"user": null, "app": {"appId": id, "displayName": name,
               "servicePrincipalId": service_principal_id(id), "servicePrincipalName": name}})
    };
    let Some(actor) = row.actor.as_deref() else {
        return tool("localidp");
    };
    match actor {
        actor::CLI => tool("localidp CLI"),
        actor::SEED => tool("localidp seed"),
        actor::SYSTEM => tool("localidp"),
        id if names.clients.contains_key(id) => app(id),
        id if !names.users.contains_key(id)
            && (row.client_id.as_deref() == Some(id)
                || d.get("caller").and_then(Value::as_str) == Some(id)) =>
        {
            app(id)
        }
        id => {
            let user = names.users.get(id);
            json!({"user": {
                "id": id,
                "displayName": user.map(|u| &u.display_name),
                "userPrincipalName": user.map(|u| &u.user_principal_name),
                "ipAddress": row.ip,
            }, "app": null})
        }
    }
}

fn target(id: impl Into<Value>, name: impl Into<Value>, kind: &str) -> Value {
    json!({"id": id.into(), "displayName": name.into(), "type": kind,
           "userPrincipalName": null, "groupType": null, "modifiedProperties": []})
}

fn user_target(row: &AuditRow, d: &Map<String, Value>, names: &Names) -> Option<Value> {
    let id = row.user_id.as_deref()?;
    let user = names.users.get(id);
    let mut t = target(id, json!(user.map(|u| &u.display_name)), "User");
    // A user deleted since: the name the event recorded.
    t["userPrincipalName"] = match user {
        Some(u) => json!(u.user_principal_name),
        None => json!(d.get("sign_in_name")),
    };
    if row.kind == kind::USER_SESSIONS_REVOKED {
        t["modifiedProperties"] = json!([{"displayName": "StsRefreshTokensValidFrom",
            "oldValue": null, "newValue": format!("[\"{}\"]", graph_time(row.occurred_at))}]);
    }
    Some(t)
}

fn client_target(
    client_id: Option<&str>,
    names: &Names,
    d: &Map<String, Value>,
    sp: bool,
) -> Option<Value> {
    let id = client_id?;
    let name = names
        .clients
        .get(id)
        .map(|n| json!(n))
        .or_else(|| d.get("name").cloned())
        .unwrap_or(Value::Null);
    Some(if sp {
        target(service_principal_id(id), name, "ServicePrincipal")
    } else {
        target(application_id(id), name, "Application")
    })
}

fn target_resources(
    row: &AuditRow,
    d: &Map<String, Value>,
    names: &Names,
    tenant_id: &str,
    what: Target,
) -> Vec<Value> {
    let client = row.client_id.as_deref();
    let text = |key: &str| d.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut out: Vec<Option<Value>> = Vec::new();
    match what {
        Target::User => out.push(user_target(row, d, names)),
        Target::UserAndRoles => {
            out.push(user_target(row, d, names));
            let listed = text("roles").unwrap_or_default();
            for name in listed.split(',').map(str::trim) {
                if let Some(r) = roles::find(name) {
                    out.push(Some(target(r.object_id(tenant_id), r.display_name, "Role")));
                }
            }
        }
        Target::UserAndResource => {
            out.push(user_target(row, d, names));
            out.push(client_target(
                text("resource").as_deref(),
                names,
                &Map::new(),
                true,
            ));
        }
        Target::Group | Target::GroupMember => {
            if what == Target::GroupMember {
                out.push(user_target(row, d, names));
            }
            out.push(text("group_id").map(|id| target(id, json!(text("name")), "Group")));
        }
        Target::Application => out.push(client_target(client, names, d, false)),
        Target::ServicePrincipal => out.push(client_target(client, names, d, true)),
        Target::KeyOwner => match row.user_id {
            Some(_) => out.push(user_target(row, d, names)),
            None => out.push(client_target(client, names, &Map::new(), true)),
        },
        Target::Tenant => out.push(Some(target(tenant_id, json!(text("name")), "Directory"))),
        Target::Nothing => {
            out.push(user_target(row, d, names));
            out.push(client_target(client, names, &Map::new(), false));
        }
    }
    out.into_iter().flatten().collect()
}

fn to_json(row: &AuditRow, names: &Names, tenant_id: &str) -> Map<String, Value> {
    let d = detail(row);
    let a = activity_of(&row.kind);
    let name = if a.name.is_empty() {
        row.kind.as_str()
    } else {
        a.name
    };
    let mut details = vec![key_value("kind", &json!(row.kind))];
    details.extend(d.iter().map(|(k, v)| key_value(k, v)));
    let properties = [
        ("id", json!(DIRECTORY_AUDITS.entry_id(row.id))),
        ("category", json!(a.category)),
        ("correlationId", json!(row.correlation_id)),
        ("result", json!(row.outcome)),
        (
            "resultReason",
            json!(row.reason.clone().unwrap_or_default()),
        ),
        ("activityDisplayName", json!(name)),
        ("activityDateTime", json!(graph_time(row.occurred_at))),
        ("loggedByService", json!("Core Directory")),
        ("operationType", json!(a.operation)),
        ("initiatedBy", initiated_by(row, &d, names)),
        (
            "targetResources",
            json!(target_resources(row, &d, names, tenant_id, a.target)),
        ),
        ("additionalDetails", json!(details)),
    ];
    properties
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

/// The kinds whose activity has this property value (any case); `Other` is every kind
/// the table does not know.
fn kinds_where(value: &str, of: fn(&Activity) -> &'static str) -> LogCondition {
    if of(&OTHER).eq_ignore_ascii_case(value) {
        return LogCondition::KindNotIn(ACTIVITIES.iter().map(|a| a.kind.to_owned()).collect());
    }
    let kinds: Vec<String> = ACTIVITIES
        .iter()
        .filter(|a| of(a).eq_ignore_ascii_case(value))
        .map(|a| a.kind.to_owned())
        .collect();
    if kinds.is_empty() {
        LogCondition::Never
    } else {
        LogCondition::KindIn(kinds)
    }
}

/// `category`, `activityDisplayName`, `operationType`, `result`, `correlationId`,
/// `initiatedBy/user/id` and `initiatedBy/app/appId`, each with eq.
fn filter(clause: &Clause, f: &mut LogFilter) -> Result<(), String> {
    let p = property(clause).to_ascii_lowercase();
    let known = [
        "category",
        "activitydisplayname",
        "operationtype",
        "result",
        "correlationid",
        "initiatedby/user/id",
        "initiatedby/app/appid",
    ];
    if !known.contains(&p.as_str()) {
        return Err(unsupported_clause(property(clause), "directoryAudit"));
    }
    let value = equals_text(clause, "directoryAudit")?.to_owned();
    f.conditions.push(match p.as_str() {
        "category" => kinds_where(&value, |a| a.category),
        "activitydisplayname" => kinds_where(&value, |a| a.name),
        "operationtype" => kinds_where(&value, |a| a.operation),
        "result" => match value.to_ascii_lowercase().as_str() {
            v @ ("success" | "failure") => LogCondition::Outcome(v.to_owned()),
            _ => LogCondition::Never,
        },
        "correlationid" => LogCondition::Correlation(value),
        _ => LogCondition::Actor(value),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_activity_names_a_kind_once() {
        for (i, a) in ACTIVITIES.iter().enumerate() {
            assert!(!a.kind.is_empty() && !a.name.is_empty());
            assert!(
                ACTIVITIES[..i].iter().all(|b| b.kind != a.kind),
                "{}",
                a.kind
            );
        }
    }

    #[test]
    fn filters_read_as_kinds_and_columns() {
        let f = |s: &str| DIRECTORY_AUDITS.parse_filter(s).map(|f| f.conditions);
        assert_eq!(
            f("category eq 'groupManagement' and result eq 'success'").unwrap(),
            vec![
                LogCondition::KindIn(
                    [
                        kind::GROUP_CREATED,
                        kind::GROUP_UPDATED,
                        kind::GROUP_DELETED,
                        kind::GROUP_MEMBER_ADDED,
                        kind::GROUP_MEMBER_REMOVED
                    ]
                    .map(String::from)
                    .to_vec()
                ),
                LogCondition::Outcome("success".into()),
            ]
        );
        assert_eq!(
            f("initiatedBy/user/id eq 'u1'").unwrap(),
            vec![LogCondition::Actor("u1".into())]
        );
        assert_eq!(f("category eq 'Nope'").unwrap(), vec![LogCondition::Never]);
        assert!(matches!(
            f("category eq 'Other'").unwrap()[0],
            LogCondition::KindNotIn(_)
        ));
        for bad in [
            "userId eq 'x'",
            "category ne 'x'",
            "createdDateTime ge 2026-12-01",
        ] {
            assert!(f(bad).is_err(), "{bad}");
        }
    }
}

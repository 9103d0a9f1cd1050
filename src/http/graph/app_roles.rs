//! `/users/{id}/appRoleAssignments` and `/me/appRoleAssignments`: the app roles of the
//! tenant's applications (service principals) assigned to a user. Read with
//! `User.Read.All`, `Directory.Read.All` or `AppRoleAssignment.ReadWrite.All`; written
//! with `AppRoleAssignment.ReadWrite.All` (an application, or a signed-in User
//! Administrator or Global Administrator). An assigned role is in the `roles` of the
//! user's next token for that application. `/servicePrincipals/{id}/appRoleAssignedTo`
//! lists who holds an application's roles.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Caller, authenticate};
use super::error::GraphError;
use super::users::{Answer, READ_ME, answer, event, find, no_store, parse_body, signed_in};
use crate::audit::kind;
use crate::db::app_role_assignments::{self as assignments, Assignment};
use crate::db::clients::{self, Client};
use crate::db::users::User;
use crate::graph::app_role_defs as role_defs;
use crate::graph::application::{app_role_id, service_principal_id, time};
use crate::http::base_url::base_url;
use crate::state::AppState;

const READ: [&str; 4] = [
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "AppRoleAssignment.ReadWrite.All",
];
const READ_DELEGATED: [&str; 5] = [
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.AccessAsUser.All",
    "AppRoleAssignment.ReadWrite.All",
];
const WRITE: [&str; 1] = ["AppRoleAssignment.ReadWrite.All"];
const WRITE_DELEGATED: [&str; 2] = [
    "AppRoleAssignment.ReadWrite.All",
    "Directory.AccessAsUser.All",
];
/// Graph's app role id for default access: the user is assigned the application
/// without a role.
const DEFAULT_ACCESS: &str = "00000000-0000-0000-0000-000000000000";

/// The body of `POST /users/{id}/appRoleAssignments`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewAssignment {
    principal_id: Option<String>,
    resource_id: Option<String>,
    app_role_id: Option<String>,
}

/// An assignment in Graph's shape.
fn to_json(a: &Assignment, user: &User, resource: Option<&Client>) -> Value {
    let role_id = if a.role_value.is_empty() {
        DEFAULT_ACCESS.to_owned()
    } else {
        // The role's id as defined now (a role removed since: its default id).
        resource
            .and_then(|r| {
                role_defs::of(r)
                    .into_iter()
                    .find(|d| d.value == a.role_value)
            })
            .map_or_else(|| app_role_id(&a.client_id, &a.role_value), |d| d.id)
    };
    json!({
        "id": a.id,
        "deletedDateTime": null,
        "appRoleId": role_id,
        "createdDateTime": time(a.created_at),
        "principalDisplayName": user.display_name,
        "principalId": user.id,
        "principalType": "User",
        "resourceDisplayName": resource.map(|c| c.name.clone()),
        "resourceId": service_principal_id(&a.client_id),
    })
}

fn context(state: &AppState, req: &HttpRequest, user_id: &str, entity: bool) -> String {
    let suffix = if entity { "/$entity" } else { "" };
    format!(
        "{}/v1.0/$metadata#users('{user_id}')/appRoleAssignments{suffix}",
        base_url(state, req)
    )
}

/// The user's assignments, newest last.
async fn list_of(state: &AppState, req: &HttpRequest, caller: &Caller, user: &User) -> Answer {
    let (uid, tid) = (user.id.clone(), caller.tenant_id.clone());
    let (rows, clients) = state
        .db(move |c| Ok((assignments::of_user(c, &uid)?, clients::list(c, &tid)?)))
        .await?;
    let values: Vec<Value> = rows
        .iter()
        .map(|a| {
            let resource = clients.iter().find(|c| c.client_id == a.client_id);
            to_json(a, user, resource)
        })
        .collect();
    Ok(no_store(StatusCode::OK).json(json!({
        "@odata.context": context(state, req, &user.id, false),
        "value": values,
    })))
}

/// `GET /users/{id}/appRoleAssignments`.
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let result = async {
        let caller = authenticate(&state, &req).await?;
        caller.require(caller.may(&READ, &READ_DELEGATED))?;
        let user = find(&state, &caller, id.into_inner()).await?;
        list_of(&state, &req, &caller, &user).await
    }
    .await;
    answer(&state, &req, result).await
}

/// `GET /me/appRoleAssignments`: the signed-in user's.
pub async fn list_mine(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let (caller, user) = signed_in(&state, &req, &READ_ME).await?;
        list_of(&state, &req, &caller, &user).await
    }
    .await;
    answer(&state, &req, result).await
}

/// Permissions that read who is assigned a service principal's roles.
const READ_ASSIGNED_TO: [&str; 4] = [
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "AppRoleAssignment.ReadWrite.All",
];

/// `GET /servicePrincipals/{id}/appRoleAssignedTo` (or `(appId='{appId}')`): the
/// assignments of the service principal's roles, oldest first.
pub async fn assigned_to(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let caller = authenticate(&state, &req).await?;
        caller.require(caller.may(&READ_ASSIGNED_TO, &READ_ASSIGNED_TO))?;
        let key = super::applications::key(&req);
        let (tid, wanted) = (caller.tenant_id.clone(), key.clone());
        let found = state
            .db(move |c| {
                let Some(client) = clients::list(c, &tid)?
                    .into_iter()
                    .find(|cl| wanted.names(cl, true))
                else {
                    return Ok(None);
                };
                let rows = assignments::to_client(c, &client.client_id)?;
                Ok(Some((client, rows)))
            })
            .await?;
        let (client, rows) = found.ok_or_else(|| GraphError::not_found(key.as_str()))?;
        let values: Vec<Value> = rows
            .iter()
            .map(|(a, u)| to_json(a, u, Some(&client)))
            .collect();
        Ok(no_store(StatusCode::OK).json(json!({
            "@odata.context": format!(
                "{}/v1.0/$metadata#servicePrincipals('{}')/appRoleAssignedTo",
                base_url(&state, &req),
                service_principal_id(&client.client_id)
            ),
            "value": values,
        })))
    }
    .await;
    answer(&state, &req, result).await
}

/// A required GUID property of the body.
fn required(value: Option<String>, name: &str) -> Result<String, GraphError> {
    let v = value.unwrap_or_default();
    if uuid::Uuid::parse_str(&v).is_err() {
        return Err(GraphError::bad_request(format!(
            "Invalid value specified for property '{name}' of resource 'AppRoleAssignment'."
        )));
    }
    Ok(v)
}

/// The resource service principal of the tenant and the value of the role (empty for
/// default access) the body names.
async fn resolve(
    state: &AppState,
    caller: &Caller,
    resource_id: &str,
    role_id: &str,
) -> Result<(Client, String), GraphError> {
    let tid = caller.tenant_id.clone();
    let all = state.db(move |c| clients::list(c, &tid)).await?;
    let resource = all
        .into_iter()
        .find(|c| service_principal_id(&c.client_id).eq_ignore_ascii_case(resource_id))
        .ok_or_else(|| {
            GraphError::bad_request(format!(
                "Resource '{resource_id}' does not exist or one of its queried reference-property objects are not present."
            ))
        })?;
    if role_id == DEFAULT_ACCESS {
        return Ok((resource, String::new()));
    }
    let role = role_defs::of(&resource)
        .into_iter()
        .find(|d| d.id.eq_ignore_ascii_case(role_id))
        .ok_or_else(|| {
            GraphError::bad_request(format!(
                "Permission being assigned was not found on application '{resource_id}'."
            ))
        })?;
    // A disabled role is not assigned anew; an Application-only role not to a user.
    if !role.is_enabled {
        return Err(GraphError::bad_request(format!(
            "Permission being assigned is disabled on application '{resource_id}'."
        )));
    }
    if !role.for_users() {
        return Err(GraphError::bad_request(format!(
            "The app role '{}' may only be assigned to applications (allowedMemberTypes), not to a user.",
            role.value
        )));
    }
    Ok((resource, role.value))
}

/// A new assignment id: 32 random bytes, base64url, as Graph's ids look.
fn new_id() -> String {
    let mut bytes = crate::crypto::secrets::uuid_v4().as_bytes().to_vec();
    bytes.extend_from_slice(crate::crypto::secrets::uuid_v4().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The caller of a write, if it may assign app roles, and the user the path names.
async fn writer(
    state: &AppState,
    req: &HttpRequest,
    id: String,
) -> Result<(Caller, User), GraphError> {
    let caller = authenticate(state, req).await?;
    caller
        .require_write(state, &WRITE, &WRITE_DELEGATED)
        .await?;
    let user = find(state, &caller, id).await?;
    Ok((caller, user))
}

/// `POST /users/{id}/appRoleAssignments`: 201 with the assignment.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let result = async {
        let (caller, user) = writer(&state, &req, id.into_inner()).await?;
        let body: NewAssignment = parse_body(&body)?;
        let principal = required(body.principal_id, "principalId")?;
        let resource_id = required(body.resource_id, "resourceId")?;
        let role_id = required(body.app_role_id, "appRoleId")?;
        if !principal.eq_ignore_ascii_case(&user.id) {
            return Err(GraphError::bad_request(format!(
                "The principalId '{principal}' does not match the user '{}' of the request URL.",
                user.id
            )));
        }
        let (resource, value) = resolve(&state, &caller, &resource_id, &role_id).await?;
        let row = Assignment {
            id: new_id(),
            user_id: user.id.clone(),
            client_id: resource.client_id.clone(),
            role_value: value,
            created_at: state.clock.now(),
        };
        let stored = row.clone();
        if !state.db(move |c| assignments::insert(c, &stored)).await? {
            return Err(GraphError::bad_request(
                "Permission being assigned already exists on the object.",
            ));
        }
        let event = event(
            &state,
            &req,
            &caller,
            kind::USER_APP_ROLE_ASSIGNED,
            &user.id,
        )
        .detail("assignment_id", row.id.clone())
        .detail("resource", resource.client_id.clone())
        .detail("app_role", row.role_value.clone());
        state.audit.record(event).await;
        let mut entity = to_json(&row, &user, Some(&resource));
        entity["@odata.context"] = json!(context(&state, &req, &user.id, true));
        Ok(no_store(StatusCode::CREATED).json(entity))
    }
    .await;
    answer(&state, &req, result).await
}

/// `DELETE /users/{id}/appRoleAssignments/{assignmentId}`: 204.
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let result = async {
        let (id, assignment) = path.into_inner();
        let (caller, user) = writer(&state, &req, id).await?;
        let (uid, aid) = (user.id.clone(), assignment.clone());
        let removed = state
            .db(move |c| assignments::delete(c, &uid, &aid))
            .await?
            .ok_or_else(|| GraphError::not_found(&assignment))?;
        let event = event(&state, &req, &caller, kind::USER_APP_ROLE_REMOVED, &user.id)
            .detail("assignment_id", removed.id)
            .detail("resource", removed.client_id)
            .detail("app_role", removed.role_value);
        state.audit.record(event).await;
        Ok(HttpResponse::NoContent().finish())
    }
    .await;
    answer(&state, &req, result).await
}

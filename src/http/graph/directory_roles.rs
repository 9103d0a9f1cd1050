//! `/directoryRoles`: the tenant's activated directory roles (Global Administrator
//! always, User Administrator once a user holds it) and their members; read with
//! `RoleManagement.Read.Directory` or `Directory.Read.All`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::auth::{Caller, authenticate};
use super::error::GraphError;
use super::relations::user_list;
use super::users::{Answer, answer, no_store};
use crate::graph::roles::{self, DirectoryRole, GLOBAL_ADMINISTRATOR};
use crate::http::base_url::base_url;
use crate::state::AppState;

/// Application and delegated permissions that read directory roles.
const READ: [&str; 3] = [
    "RoleManagement.Read.Directory",
    "Directory.Read.All",
    "Directory.AccessAsUser.All",
];

async fn reader(state: &AppState, req: &HttpRequest) -> Result<Caller, GraphError> {
    let caller = authenticate(state, req).await?;
    caller.require(caller.may(&READ, &READ))?;
    Ok(caller)
}

/// The tenant's activated roles: Global Administrator, and any role a user holds.
async fn activated(state: &AppState, caller: &Caller) -> Result<Vec<DirectoryRole>, GraphError> {
    let tid = caller.tenant_id.clone();
    let held = state
        .db(move |c| crate::db::directory_roles::held_in_tenant(c, &tid))
        .await?;
    Ok(roles::ROLES
        .into_iter()
        .filter(|r| *r == GLOBAL_ADMINISTRATOR || held.iter().any(|h| h == r.template_id))
        .collect())
}

/// The activated role by object id or `roleTemplateId=…`, else 404.
async fn find(state: &AppState, caller: &Caller, id: &str) -> Result<DirectoryRole, GraphError> {
    let role =
        roles::by_object_id(&caller.tenant_id, id).ok_or_else(|| GraphError::not_found(id))?;
    if activated(state, caller).await?.contains(&role) {
        Ok(role)
    } else {
        Err(GraphError::not_found(id))
    }
}

fn without_type(mut map: Map<String, Value>) -> Map<String, Value> {
    map.remove("@odata.type");
    map
}

/// `GET /directoryRoles`.
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let caller = reader(&state, &req).await?;
        let values: Vec<Value> = activated(&state, &caller)
            .await?
            .iter()
            .map(|r| Value::Object(without_type(r.to_json(&caller.tenant_id, None))))
            .collect();
        let context = format!("{}/v1.0/$metadata#directoryRoles", base_url(&state, &req));
        Ok(no_store(StatusCode::OK).json(json!({"@odata.context": context, "value": values})))
    }
    .await;
    answer(&state, &req, result).await
}

/// `GET /directoryRoles/{id}` (or `/directoryRoles/roleTemplateId={templateId}`).
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let result = async {
        let caller = reader(&state, &req).await?;
        let role = find(&state, &caller, &id).await?;
        let mut map = without_type(role.to_json(&caller.tenant_id, None));
        let context = format!(
            "{}/v1.0/$metadata#directoryRoles/$entity",
            base_url(&state, &req)
        );
        map.insert("@odata.context".into(), json!(context));
        Ok(no_store(StatusCode::OK).json(Value::Object(map)))
    }
    .await;
    answer(&state, &req, result).await
}

/// `GET /directoryRoles/{id}/members`: the users holding the role, paged as
/// `/groups/{id}/members`.
pub async fn members(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let result = members_inner(&state, &req, id.into_inner()).await;
    answer(&state, &req, result).await
}

async fn members_inner(state: &AppState, req: &HttpRequest, id: String) -> Answer {
    let caller = reader(state, req).await?;
    let role = find(state, &caller, &id).await?;
    let tid = caller.tenant_id.clone();
    user_list(state, req, &caller.tenant_name, move |c, after, limit| {
        crate::db::directory_roles::holders(c, &tid, role.template_id, after, limit)
    })
    .await
}

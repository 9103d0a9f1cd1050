//! `apiKeys`: localidp's own Graph resource (Graph has none) for the API keys of
//! `localidp api-key`, shaped like a `passwordCredential`: a signed-in user's own keys
//! under `/me` (delegated `User.ReadWrite` or higher), a user's under `/users/{id}`
//! (as other user writes: `User.ReadWrite.All`, delegated with a directory role that
//! writes users), an application's under `/applications/{id}` (as `addPassword`:
//! `Application.ReadWrite.All`). The checks are the CLI's (`directory::api_keys`); a
//! key made here works at once with `x-api-key`, and is refused once deleted.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::applications::{self, WRITE as APP_WRITE};
use super::auth::{Caller, authenticate};
use super::error::GraphError;
use super::me::WRITE_ME;
use super::users::{
    Answer, WRITE_ALL, WRITE_ALL_DELEGATED, answer, may_manage, no_store, parse_body, signed_in,
};
use crate::audit::{self, AuditEvent, kind};
use crate::db::api_keys::ApiKey;
use crate::db::clients::{self, Client};
use crate::db::users::{self, User};
use crate::db::{DbConnection, write_tx};
use crate::directory::api_keys::{self as keys, NewApiKey, Owner};
use crate::directory::{DirectoryError, DirectoryResult};
use crate::graph::application::{Kind, time};
use crate::http::base_url::base_url;
use crate::http::request_context::request_context;
use crate::state::AppState;

/// Where the keys are: which route the request came by.
#[derive(Clone, Copy)]
enum On {
    Me,
    User,
    Application,
}

/// The owner a request names, as found when the caller was checked.
enum Target {
    User(User),
    Client(Client),
}

impl Target {
    fn owner(&self) -> Owner<'_> {
        match self {
            Target::User(u) => Owner::User(u),
            Target::Client(c) => Owner::Client(c),
        }
    }

    /// The owner read again inside a write's transaction (gone: not found).
    fn reread(&self, conn: &mut DbConnection) -> DirectoryResult<Target> {
        let found = match self {
            Target::User(u) => users::find(conn, &u.id)?
                .filter(|now| now.tenant_id == u.tenant_id)
                .map(Target::User),
            Target::Client(c) => clients::find(conn, &c.client_id)?
                .filter(|now| now.tenant_id == c.tenant_id)
                .map(Target::Client),
        };
        found.ok_or_else(|| DirectoryError::NotFound("the key's owner".into()))
    }
}

/// `POST …/apiKeys`: what a new key is.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewKeyBody {
    display_name: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    scopes: Vec<String>,
    expiration_date_time: Option<String>,
}

/// The caller, after the permission checks of the route, and the owner it names.
async fn target(
    state: &AppState,
    req: &HttpRequest,
    on: On,
) -> Result<(Caller, Target), GraphError> {
    match on {
        On::Me => {
            let (caller, me) = signed_in(state, req, &WRITE_ME).await?;
            Ok((caller, Target::User((*me).clone())))
        }
        On::User => {
            let caller = authenticate(state, req).await?;
            let held = caller
                .require_write(state, &WRITE_ALL, &WRITE_ALL_DELEGATED)
                .await?;
            let id = req.match_info().get("id").unwrap_or_default().to_owned();
            let user = super::users::find(state, &caller, id).await?;
            may_manage(state, &caller, &held, &user).await?;
            Ok((caller, Target::User(user)))
        }
        On::Application => {
            let caller = authenticate(state, req).await?;
            caller.require(caller.has_role(&APP_WRITE))?;
            let key = applications::key(req);
            let (client, _) = applications::find(state, &caller, Kind::Application, &key).await?;
            Ok((caller, Target::Client(client)))
        }
    }
}

/// The collection's `@odata.context`.
fn context(state: &AppState, req: &HttpRequest, target: &Target, entity: bool) -> String {
    let base = base_url(state, req);
    let owner = match target {
        Target::User(u) => format!("users('{}')", u.id),
        Target::Client(c) => format!(
            "applications('{}')",
            Kind::Application.object_id(&c.client_id)
        ),
    };
    let suffix = if entity { "/$entity" } else { "" };
    format!("{base}/v1.0/$metadata#{owner}/apiKeys{suffix}")
}

/// A key as Graph shows it, never with the key itself.
fn to_json(k: &ApiKey) -> Value {
    json!({
        "id": k.id,
        "displayName": k.name,
        "roles": k.role_list().unwrap_or_default(),
        "scopes": k.scope_list().unwrap_or_default(),
        "createdDateTime": time(k.created_at),
        "expirationDateTime": k.expires_at.map(time),
        "lastUsedDateTime": k.last_used_at.map(time),
        "hint": keys::hint(k),
    })
}

fn write_error(e: DirectoryError, key_id: &str) -> GraphError {
    match e {
        DirectoryError::Invalid(m) => GraphError::bad_request(m),
        DirectoryError::NotFound(_) => GraphError::not_found(key_id),
        DirectoryError::Db(e) => e.into(),
        other => {
            tracing::error!(error = %other, "graph API key write failed");
            GraphError::unavailable()
        }
    }
}

/// An `api_key` event written by a Graph caller: the key's id and name, never the key.
fn event(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    kind: &'static str,
    key: &ApiKey,
) -> AuditEvent {
    let event = AuditEvent::api_key(kind)
        .actor(caller.actor())
        .tenant(&key.tenant_id)
        .request(&request_context(state, req))
        .detail("via", "graph")
        .detail("caller", caller.claims.azp.clone())
        .detail("key_id", key.id.as_str())
        .detail("name", audit::bounded_text(&key.name));
    if key.owner_kind == crate::db::api_keys::OWNER_CLIENT {
        event.client(&key.owner_id)
    } else {
        event.client(&caller.claims.azp).user(&key.owner_id)
    }
}

async fn list(state: &AppState, req: &HttpRequest, on: On) -> Answer {
    let (_, target) = target(state, req, on).await?;
    let ctx = context(state, req, &target, false);
    let rows = state
        .db(move |c| Ok(keys::list_for(c, target.owner())))
        .await?
        .map_err(|e| write_error(e, ""))?;
    let values: Vec<Value> = rows.iter().map(to_json).collect();
    Ok(no_store(StatusCode::OK).json(json!({"@odata.context": ctx, "value": values})))
}

/// An ISO 8601 time (RFC 3339) as a Unix time.
fn parse_expiry(text: Option<&str>) -> Result<Option<i64>, GraphError> {
    text.map(|s| {
        chrono::DateTime::parse_from_rfc3339(s.trim())
            .map(|t| t.timestamp())
            .map_err(|_| {
                GraphError::bad_request(format!(
                    "Invalid value '{s}' for 'expirationDateTime': use an ISO 8601 time such as 2030-01-01T00:00:00Z."
                ))
            })
    })
    .transpose()
}

async fn create(state: &AppState, req: &HttpRequest, on: On, body: &[u8]) -> Answer {
    let (caller, target) = target(state, req, on).await?;
    let asked: NewKeyBody = parse_body(body)?;
    let new = NewApiKey {
        name: asked.display_name.unwrap_or_default(),
        roles: asked.roles,
        scopes: asked.scopes,
        expires_at: parse_expiry(asked.expiration_date_time.as_deref())?,
    };
    let ctx = context(state, req, &target, true);
    let now = state.clock.now();
    let created = state
        .db(move |c| {
            Ok(write_tx(c, |c| {
                let owner = target.reread(c)?;
                keys::create_for(c, owner.owner(), &new, now)
            }))
        })
        .await?
        .map_err(|e| write_error(e, ""))?;
    let ev = event(state, req, &caller, kind::API_KEY_CREATED, &created.row);
    state.audit.record(ev).await;
    let mut body = to_json(&created.row);
    body["key"] = json!(created.key);
    body["@odata.context"] = json!(ctx);
    Ok(no_store(StatusCode::CREATED).json(body))
}

async fn delete(state: &AppState, req: &HttpRequest, on: On) -> Answer {
    let (caller, target) = target(state, req, on).await?;
    let key_id = req
        .match_info()
        .get("key_id")
        .unwrap_or_default()
        .to_owned();
    let (id, now) = (key_id.clone(), state.clock.now());
    let revoked = state
        .db(move |c| {
            Ok(write_tx(c, |c| {
                keys::revoke_for(c, target.owner(), &id, now)
            }))
        })
        .await?
        .map_err(|e| write_error(e, &key_id))?;
    let ev = event(state, req, &caller, kind::API_KEY_REVOKED, &revoked);
    state.audit.record(ev).await;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /me/apiKeys`.
pub async fn list_mine(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = list(&state, &req, On::Me).await;
    answer(&state, &req, result).await
}

/// `POST /me/apiKeys`: 201 with the key, shown this once.
pub async fn create_mine(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let result = create(&state, &req, On::Me, &body).await;
    answer(&state, &req, result).await
}

/// `DELETE /me/apiKeys/{keyId}`: 204; the key is refused from now on.
pub async fn delete_mine(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = delete(&state, &req, On::Me).await;
    answer(&state, &req, result).await
}

/// `GET /users/{id}/apiKeys`.
pub async fn list_users(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = list(&state, &req, On::User).await;
    answer(&state, &req, result).await
}

/// `POST /users/{id}/apiKeys`.
pub async fn create_users(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let result = create(&state, &req, On::User, &body).await;
    answer(&state, &req, result).await
}

/// `DELETE /users/{id}/apiKeys/{keyId}`.
pub async fn delete_users(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = delete(&state, &req, On::User).await;
    answer(&state, &req, result).await
}

/// `GET /applications/{id}/apiKeys`.
pub async fn list_apps(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = list(&state, &req, On::Application).await;
    answer(&state, &req, result).await
}

/// `POST /applications/{id}/apiKeys`.
pub async fn create_apps(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let result = create(&state, &req, On::Application, &body).await;
    answer(&state, &req, result).await
}

/// `DELETE /applications/{id}/apiKeys/{keyId}`.
pub async fn delete_apps(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = delete(&state, &req, On::Application).await;
    answer(&state, &req, result).await
}

//! `/me` and `/users`: read with `User.Read` (the signed-in user) or `User.Read.All`
//! (an application or any signed-in user); write with `User.ReadWrite.All` (an
//! application, or a signed-in User Administrator or Global Administrator).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde_json::json;

use super::auth::{Caller, authenticate};
use super::error::GraphError;
use crate::audit::{AuditEvent, kind};
use crate::db::users::{Cursor, User};
use crate::graph::directory::{self as graph_dir, CreateUser, UpdateUser, WriteError};
use crate::graph::odata;
use crate::graph::user::{self, check_select};
use crate::http::base_url::base_url;
use crate::http::request_context::request_context;
use crate::oauth::user_flows::check_password;
use crate::state::AppState;

pub(super) const READ_ALL: [&str; 3] =
    ["User.Read.All", "User.ReadWrite.All", "Directory.Read.All"];
pub(super) const WRITE_ALL: [&str; 1] = ["User.ReadWrite.All"];
/// Delegated permissions that read the directory's users (any member user).
pub(super) const READ_ALL_DELEGATED: [&str; 5] = [
    "User.ReadBasic.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.AccessAsUser.All",
];
/// Delegated permissions that write users when the user holds a directory role.
pub(super) const WRITE_ALL_DELEGATED: [&str; 2] =
    ["User.ReadWrite.All", "Directory.AccessAsUser.All"];
pub(super) const READ_ME: [&str; 5] = [
    "User.Read",
    "User.ReadWrite",
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
];

/// Graph's words for a password it refuses.
pub(super) const WEAK_PASSWORD: &str = "The specified password does not comply with password complexity requirements. Please provide a different password.";

pub(super) type Answer = Result<HttpResponse, GraphError>;

/// Runs a handler and answers its refusal in Graph's shape.
pub(super) async fn answer(state: &AppState, req: &HttpRequest, result: Answer) -> HttpResponse {
    result.unwrap_or_else(|e| e.respond(state, req))
}

pub(super) fn select_of(query: &str) -> Result<Option<Vec<&'static str>>, GraphError> {
    odata::parse_select_only(query)
        .map_err(GraphError::bad_query)?
        .map(|s| check_select(&s).map_err(GraphError::bad_query))
        .transpose()
}

/// One user with its `@odata.context`, serialized straight to JSON.
#[derive(serde::Serialize)]
struct Entity<'a> {
    #[serde(rename = "@odata.context")]
    context: String,
    #[serde(flatten)]
    user: user::UserJson<'a>,
}

fn entity<'a>(
    state: &AppState,
    req: &HttpRequest,
    u: &'a User,
    select: Option<&'a [&'static str]>,
    issuer: &'a str,
) -> Entity<'a> {
    Entity {
        context: user::context(&base_url(state, req), select, true),
        user: user::UserJson {
            user: u.into(),
            select,
            issuer,
        },
    }
}

pub(super) fn no_store(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut res = HttpResponse::build(status);
    res.insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"));
    res
}

pub(super) async fn find(
    state: &AppState,
    caller: &Caller,
    id: String,
) -> Result<User, GraphError> {
    let tid = caller.tenant_id.clone();
    let lookup = id.clone();
    state
        .db(move |c| graph_dir::find(c, &tid, &lookup))
        .await?
        .ok_or_else(|| GraphError::not_found(&id))
}

/// Refuses (403) a signed-in user's change to a user their directory roles do not
/// cover: only a Global Administrator changes a Global Administrator.
pub(super) async fn may_manage(
    state: &AppState,
    caller: &Caller,
    held: &[String],
    target: &User,
) -> Result<(), GraphError> {
    if caller.app_only() {
        return Ok(());
    }
    let uid = target.id.clone();
    let target_roles = state
        .db(move |c| crate::db::directory_roles::of_user(c, &uid))
        .await?;
    caller.require(crate::graph::roles::may_manage(held, &target_roles))
}

/// The caller of a `/me` read and the signed-in user, when the token is a user's
/// (an app-only token gets Graph's 400) with one of these delegated permissions. The
/// user comes through the directory cache: a change made on another replica or with
/// the CLI shows within its bound (`DIRECTORY_TTL`).
pub(super) async fn signed_in(
    state: &AppState,
    req: &HttpRequest,
    delegated: &[&str],
) -> Result<(Caller, std::sync::Arc<User>), GraphError> {
    let caller = authenticate(state, req).await?;
    if caller.app_only() {
        return Err(GraphError::bad_request(
            "/me request is only valid with delegated authentication flow.",
        ));
    }
    caller.require(caller.has_scope(delegated))?;
    let oid = &caller.claims.oid;
    let u = state
        .directory
        .user(&caller.tenant_id, oid)
        .await?
        .ok_or_else(|| GraphError::not_found(oid))?;
    Ok((caller, u))
}

/// `GET /me`: the signed-in user.
pub async fn me(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let (caller, u) = signed_in(&state, &req, &READ_ME).await?;
        let select = select_of(req.query_string())?;
        let body = entity(&state, &req, &u, select.as_deref(), &caller.tenant_name);
        Ok(no_store(StatusCode::OK).json(body))
    }
    .await;
    answer(&state, &req, result).await
}

/// `GET /users/{id | userPrincipalName}`.
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let result = async {
        let caller = authenticate(&state, &req).await?;
        caller.require(caller.may(&READ_ALL, &READ_ALL_DELEGATED))?;
        let select = select_of(req.query_string())?;
        let u = find(&state, &caller, id.into_inner()).await?;
        let body = entity(&state, &req, &u, select.as_deref(), &caller.tenant_name);
        Ok(no_store(StatusCode::OK).json(body))
    }
    .await;
    answer(&state, &req, result).await
}

/// Whether the request asks for Graph's advanced queries (`ConsistencyLevel: eventual`).
fn eventual(req: &HttpRequest) -> bool {
    req.headers()
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"))
}

/// Refuses Graph's advanced queries without `ConsistencyLevel: eventual`: `$count`,
/// and (`sorted_filter`) `$orderby` together with `$filter`.
pub(super) fn check_advanced(
    req: &HttpRequest,
    count: bool,
    sorted_filter: bool,
) -> Result<(), GraphError> {
    if count && !eventual(req) {
        return Err(GraphError::unsupported_query(
            "$count is not supported because the 'ConsistencyLevel:eventual' header is missing. Refer to https://aka.ms/graph-docs/advanced-queries for more information",
        ));
    }
    if sorted_filter && !eventual(req) {
        return Err(GraphError::unsupported_query(
            "Sorting not supported for current query.",
        ));
    }
    Ok(())
}

/// `GET /users`: a page in id order (or `$orderby`), `@odata.nextLink` while more may
/// follow, `@odata.count` with `$count=true`.
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let caller = authenticate(&state, &req).await?;
        caller.require(caller.may(&READ_ALL, &READ_ALL_DELEGATED))?;
        let q = odata::parse_list(req.query_string()).map_err(GraphError::bad_query)?;
        let conditions = odata::user_conditions(&q.clauses, &caller.tenant_name)
            .map_err(GraphError::bad_query)?;
        let select = q
            .select
            .as_deref()
            .map(check_select)
            .transpose()
            .map_err(GraphError::bad_query)?;
        // As Graph: $count, and $orderby with $filter, are advanced queries.
        check_advanced(&req, q.count, q.order.is_some() && !conditions.is_empty())?;
        let tid = caller.tenant_id.clone();
        let (after, order, top, count) = (q.after.clone(), q.order, q.top, q.count);
        // One more than the page tells whether another page follows.
        let (mut rows, total) = state
            .db(move |c| {
                let rows =
                    crate::db::users::page(c, &tid, &conditions, order, after.as_ref(), top + 1)?;
                let total = if count {
                    Some(crate::db::users::count_matching(c, &tid, &conditions)?)
                } else {
                    None
                };
                Ok((rows, total))
            })
            .await?;
        let more = rows.len() as i64 > top;
        rows.truncate(top as usize);
        let base = base_url(&state, &req);
        let next_link = match rows.last() {
            Some((last, key)) if more => {
                let cursor = Cursor {
                    id: last.id.clone(),
                    key: order.map(|_| key.clone()),
                };
                Some(odata::next_link(&base, req.path(), &q.carried, &cursor))
            }
            _ => None,
        };
        let body = odata::Page {
            context: user::context(&base, select.as_deref(), false),
            count: total,
            next_link,
            value: rows
                .iter()
                .map(|(u, _)| user::UserJson {
                    user: u.into(),
                    select: select.as_deref(),
                    issuer: &caller.tenant_name,
                })
                .collect(),
        };
        Ok(no_store(StatusCode::OK).json(body))
    }
    .await;
    answer(&state, &req, result).await
}

pub(super) fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, GraphError> {
    serde_json::from_slice(body)
        .map_err(|e| GraphError::bad_request(format!("Unable to read JSON request payload: {e}")))
}

pub(super) fn write_error(e: WriteError) -> GraphError {
    match e {
        WriteError::Invalid(m) => GraphError::bad_request(m),
        WriteError::Duplicate(property) => GraphError::duplicate(property),
        WriteError::NotFound => GraphError::not_found(""),
        WriteError::Db(e) => e.into(),
    }
}

/// Hashes a new password on the hasher's threads, after Graph's complexity check.
async fn hashed(state: &AppState, password: Option<&str>) -> Result<Option<String>, GraphError> {
    let Some(pw) = password else { return Ok(None) };
    check_password(pw).map_err(|_| GraphError::bad_request(WEAK_PASSWORD))?;
    let hash = state
        .hasher
        .hash(SecretString::from(pw))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            GraphError::unavailable()
        })?;
    Ok(Some(hash))
}

/// An admin event written by a Graph caller.
pub(super) fn event(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    kind: &'static str,
    user_id: &str,
) -> AuditEvent {
    AuditEvent::admin(kind)
        .actor(caller.actor())
        .tenant(&caller.tenant_id)
        .client(&caller.claims.azp)
        .user(user_id)
        .request(&request_context(state, req))
        .detail("via", "graph")
}

/// `POST /users`: 201 with the user created.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let result = async {
        let caller = authenticate(&state, &req).await?;
        caller
            .require_write(&state, &WRITE_ALL, &WRITE_ALL_DELEGATED)
            .await?;
        let new: CreateUser = parse_body(&body)?;
        graph_dir::validate_create(&new).map_err(write_error)?;
        let profile = new.password_profile.as_ref();
        let hash = match graph_dir::given_hash(profile).map_err(write_error)? {
            Some(hash) => hash,
            None => {
                let password = profile.and_then(|p| p.password.as_deref());
                hashed(&state, password).await?.unwrap_or_default()
            }
        };
        let (hasher, tid, now) = (
            state.hasher.clone(),
            caller.tenant_id.clone(),
            state.clock.now(),
        );
        let created = state
            .db(move |c| Ok(graph_dir::create(c, &hasher, &tid, &new, hash, now)))
            .await?
            .map_err(write_error)?;
        state
            .audit
            .record(event(
                &state,
                &req,
                &caller,
                kind::USER_CREATED,
                &created.id,
            ))
            .await;
        Ok(no_store(StatusCode::CREATED).json(entity(
            &state,
            &req,
            &created,
            None,
            &caller.tenant_name,
        )))
    }
    .await;
    answer(&state, &req, result).await
}

/// `PATCH /users/{id}`: 204.
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let result = async {
        let caller = authenticate(&state, &req).await?;
        let held = caller
            .require_write(&state, &WRITE_ALL, &WRITE_ALL_DELEGATED)
            .await?;
        let changes: UpdateUser = parse_body(&body)?;
        let target = find(&state, &caller, id.into_inner()).await?;
        may_manage(&state, &caller, &held, &target).await?;
        let profile = changes.password_profile.as_ref();
        let hash = match graph_dir::given_hash(profile).map_err(write_error)? {
            Some(hash) => Some(hash),
            None => hashed(&state, profile.and_then(|p| p.password.as_deref())).await?,
        };
        let (row, now) = (target.clone(), state.clock.now());
        let done = state
            .db(move |c| Ok(graph_dir::update(c, &row, &changes, hash, now)))
            .await?
            .map_err(write_error)?;
        let record = |kind| event(&state, &req, &caller, kind, &target.id);
        if done.names {
            state.audit.record(record(kind::USER_UPDATED)).await;
        }
        if done.password {
            state.audit.record(record(kind::USER_PASSWORD_SET)).await;
        }
        if let Some(disabled) = done.disabled {
            // The user's tokens are refused from now on, here at once.
            state.invalidate_caches();
            let kind = if disabled {
                kind::USER_DISABLED
            } else {
                kind::USER_ENABLED
            };
            state.audit.record(record(kind)).await;
        }
        Ok(HttpResponse::NoContent().finish())
    }
    .await;
    answer(&state, &req, result).await
}

/// `DELETE /users/{id}`: 204; the user's tokens are refused.
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let result = async {
        let caller = authenticate(&state, &req).await?;
        let held = caller
            .require_write(&state, &WRITE_ALL, &WRITE_ALL_DELEGATED)
            .await?;
        let target = find(&state, &caller, id.into_inner()).await?;
        may_manage(&state, &caller, &held, &target).await?;
        let (uid, now) = (target.id.clone(), state.clock.now());
        state
            .db(move |c| crate::db::users::delete(c, &uid, now))
            .await?;
        state.invalidate_caches();
        let event = event(&state, &req, &caller, kind::USER_DELETED, &target.id)
            .detail("sign_in_name", target.sign_in_name());
        state.audit.record(event).await;
        Ok(HttpResponse::NoContent().finish())
    }
    .await;
    answer(&state, &req, result).await
}

/// What this slice of Graph does not serve: Graph's answer for a segment it does not
/// know (or a method the resource does not take).
pub async fn unknown(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let segment = req
        .path()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    GraphError::bad_query(format!("Resource not found for the segment '{segment}'."))
        .respond(&state, &req)
}

/// `POST /users/{id}/revokeSignInSessions`: the user's refresh tokens and SSO sessions
/// end (access tokens run out on their own, as in Entra).
pub async fn revoke_sign_in_sessions(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let result = async {
        let caller = authenticate(&state, &req).await?;
        let held = caller
            .require_write(&state, &WRITE_ALL, &WRITE_ALL_DELEGATED)
            .await?;
        let target = find(&state, &caller, id.into_inner()).await?;
        may_manage(&state, &caller, &held, &target).await?;
        let (uid, now) = (target.id.clone(), state.clock.now());
        let (refresh, sessions) = state
            .db(move |c| graph_dir::revoke_sign_in_sessions(c, &uid, now))
            .await?;
        let event = event(
            &state,
            &req,
            &caller,
            kind::USER_SESSIONS_REVOKED,
            &target.id,
        )
        .detail("refresh_tokens", refresh as i64)
        .detail("sessions", sessions as i64);
        state.audit.record(event).await;
        let context = format!("{}/v1.0/$metadata#Edm.Boolean", base_url(&state, &req));
        Ok(no_store(StatusCode::OK).json(json!({"@odata.context": context, "value": true})))
    }
    .await;
    answer(&state, &req, result).await
}

//! `/groups`, their `members`, and `memberOf` of users: read with `Group.Read.All`
//! (or `GroupMember.Read.All`, `Directory.Read.All`), written with
//! `Group.ReadWrite.All` (members also `GroupMember.ReadWrite.All`). A membership
//! changed here is in the user's next token's `groups` claim.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::auth::{Caller, authenticate};
use super::error::GraphError;
use super::users::{self, Answer, answer, no_store, parse_body};
use crate::audit::{AuditEvent, kind};
use crate::db::groups::{self as db_groups, Group};
use crate::graph::group::{self, GroupBody, check_select};
use crate::graph::odata;
use crate::http::base_url::base_url;
use crate::http::request_context::request_context;
use crate::state::AppState;

pub(super) const READ: [&str; 5] = [
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
    "Directory.Read.All",
];
const WRITE: [&str; 1] = ["Group.ReadWrite.All"];
/// Delegated permissions that read groups (any member user).
pub(super) const READ_DELEGATED: [&str; 5] = [
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "Directory.Read.All",
    "Directory.AccessAsUser.All",
];
/// Delegated permissions that write groups and members when the user holds a
/// directory role.
const WRITE_DELEGATED: [&str; 2] = ["Group.ReadWrite.All", "Directory.AccessAsUser.All"];
const WRITE_MEMBERS: [&str; 2] = ["Group.ReadWrite.All", "GroupMember.ReadWrite.All"];
fn select_of(query: &str) -> Result<Option<Vec<&'static str>>, GraphError> {
    odata::parse_select_only(query)
        .map_err(GraphError::bad_query)?
        .map(|s| check_select(&s).map_err(GraphError::bad_query))
        .transpose()
}

pub(super) async fn find(
    state: &AppState,
    caller: &Caller,
    id: String,
) -> Result<Group, GraphError> {
    let (tid, lookup) = (caller.tenant_id.clone(), id.clone());
    state
        .db(move |c| db_groups::find(c, &tid, &lookup))
        .await?
        .ok_or_else(|| GraphError::not_found(&id))
}

/// An admin event about a group, written by a Graph caller.
fn event(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    kind: &'static str,
    g: &Group,
) -> AuditEvent {
    AuditEvent::admin(kind)
        .actor(caller.actor())
        .tenant(&caller.tenant_id)
        .client(&caller.claims.azp)
        .request(&request_context(state, req))
        .detail("via", "graph")
        .detail("group_id", g.id.clone())
        .detail("name", g.name.clone())
}

fn entity(
    state: &AppState,
    req: &HttpRequest,
    g: &Group,
    select: Option<&[&'static str]>,
) -> Value {
    let mut map = group::to_json(g, select);
    map.insert(
        "@odata.context".into(),
        json!(group::context(&base_url(state, req), select, true)),
    );
    Value::Object(map)
}

fn duplicate_name(e: crate::db::DbError) -> GraphError {
    match e {
        crate::db::DbError::Conflict(_) => GraphError::duplicate("displayName"),
        e => e.into(),
    }
}

/// `GET /groups`: a page in id order (or `$orderby=displayName`), `@odata.nextLink`
/// while more may follow, `@odata.count` with `$count=true`.
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let caller = authenticate(&state, &req).await?;
        caller.require(caller.may(&READ, &READ_DELEGATED))?;
        let q = odata::parse_list(req.query_string()).map_err(GraphError::bad_query)?;
        let select = q
            .select
            .as_deref()
            .map(check_select)
            .transpose()
            .map_err(GraphError::bad_query)?;
        let conditions = group::name_conditions(&q.clauses).map_err(GraphError::bad_query)?;
        // As for users: $count, and $orderby with $filter, are advanced queries.
        super::users::check_advanced(&req, q.count, q.order.is_some() && !conditions.is_empty())?;
        let (tid, top, order, count) = (caller.tenant_id.clone(), q.top, q.order, q.count);
        let after = q.after.clone();
        let (mut rows, total) = state
            .db(move |c| {
                let rows = db_groups::page(c, &tid, &conditions, order, after.as_ref(), top + 1)?;
                let total = if count {
                    Some(db_groups::count_matching(c, &tid, &conditions)?)
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
                let cursor = crate::db::users::Cursor {
                    id: last.id.clone(),
                    key: order.map(|_| key.clone()),
                };
                Some(odata::next_link(&base, req.path(), &q.carried, &cursor))
            }
            _ => None,
        };
        let body = odata::Page {
            context: group::context(&base, select.as_deref(), false),
            count: total,
            next_link,
            value: rows
                .iter()
                .map(|(g, _)| Value::Object(group::to_json(g, select.as_deref())))
                .collect(),
        };
        Ok(no_store(StatusCode::OK).json(body))
    }
    .await;
    answer(&state, &req, result).await
}

/// `GET /groups/{id}`.
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let result = async {
        let caller = authenticate(&state, &req).await?;
        caller.require(caller.may(&READ, &READ_DELEGATED))?;
        let select = select_of(req.query_string())?;
        let g = find(&state, &caller, id.into_inner()).await?;
        Ok(no_store(StatusCode::OK).json(entity(&state, &req, &g, select.as_deref())))
    }
    .await;
    answer(&state, &req, result).await
}

/// `POST /groups`: 201 with the group.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let result = async {
        let caller = authenticate(&state, &req).await?;
        caller
            .require_write(&state, &WRITE, &WRITE_DELEGATED)
            .await?;
        let new: GroupBody = parse_body(&body)?;
        let g = new
            .new_group(
                crate::crypto::secrets::uuid_v4().to_string(),
                &caller.tenant_id,
                state.clock.now(),
            )
            .map_err(GraphError::bad_request)?;
        let row = g.clone();
        state
            .db(move |c| db_groups::insert(c, &row))
            .await
            .map_err(duplicate_name)?;
        state
            .audit
            .record(event(&state, &req, &caller, kind::GROUP_CREATED, &g))
            .await;
        Ok(no_store(StatusCode::CREATED).json(entity(&state, &req, &g, None)))
    }
    .await;
    answer(&state, &req, result).await
}

/// `PATCH /groups/{id}`: 204.
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let result = update_inner(state.clone(), req.clone(), id, body).await;
    answer(&state, &req, result).await
}

async fn update_inner(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Answer {
    let caller = authenticate(&state, &req).await?;
    caller
        .require_write(&state, &WRITE, &WRITE_DELEGATED)
        .await?;
    let changes = parse_body::<GroupBody>(&body)?
        .changes()
        .map_err(GraphError::bad_request)?;
    let g = find(&state, &caller, id.into_inner()).await?;
    let gid = g.id.clone();
    let renamed = changes.name.is_some();
    state
        .db(move |c| db_groups::update(c, &gid, &changes))
        .await
        .map_err(duplicate_name)?;
    if renamed {
        // Tokens that name groups carry the new name from now on.
        state.invalidate_caches();
    }
    state
        .audit
        .record(event(&state, &req, &caller, kind::GROUP_UPDATED, &g))
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /groups/{id}`: 204; its memberships end.
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let result = delete_inner(state.clone(), req.clone(), id).await;
    answer(&state, &req, result).await
}

async fn delete_inner(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Answer {
    let caller = authenticate(&state, &req).await?;
    caller
        .require_write(&state, &WRITE, &WRITE_DELEGATED)
        .await?;
    let g = find(&state, &caller, id.into_inner()).await?;
    let gid = g.id.clone();
    state.db(move |c| db_groups::delete(c, &gid)).await?;
    state.invalidate_caches();
    state
        .audit
        .record(event(&state, &req, &caller, kind::GROUP_DELETED, &g))
        .await;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(serde::Deserialize)]
struct Reference {
    #[serde(rename = "@odata.id")]
    odata_id: Option<String>,
}

/// `POST /groups/{id}/members/$ref`: 204; the user's next token has the group.
pub async fn add_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let result = add_member_inner(state.clone(), req.clone(), id, body).await;
    answer(&state, &req, result).await
}

async fn add_member_inner(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Answer {
    let caller = authenticate(&state, &req).await?;
    caller
        .require_write(&state, &WRITE_MEMBERS, &WRITE_DELEGATED)
        .await?;
    let reference: Reference = parse_body(&body)?;
    let odata_id = reference.odata_id.unwrap_or_default();
    let member_id = group::referenced_id(&odata_id).ok_or_else(|| {
        GraphError::bad_request(format!("Invalid object identifier '{odata_id}'."))
    })?;
    let g = find(&state, &caller, id.into_inner()).await?;
    let u = users::find(&state, &caller, member_id.to_owned()).await?;
    let (gid, uid) = (g.id.clone(), u.id.clone());
    let added = state
        .db(move |c| db_groups::add_new_member(c, &gid, &uid))
        .await?;
    if !added {
        return Err(GraphError::bad_request(
            "One or more added object references already exist for the following modified properties: 'members'.",
        ));
    }
    state.invalidate_caches();
    let event = event(&state, &req, &caller, kind::GROUP_MEMBER_ADDED, &g).user(&u.id);
    state.audit.record(event).await;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /groups/{id}/members/{userId}/$ref`: 204.
pub async fn remove_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let result = remove_member_inner(state.clone(), req.clone(), path).await;
    answer(&state, &req, result).await
}

async fn remove_member_inner(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Answer {
    let caller = authenticate(&state, &req).await?;
    caller
        .require_write(&state, &WRITE_MEMBERS, &WRITE_DELEGATED)
        .await?;
    let (group_id, member_id) = path.into_inner();
    let g = find(&state, &caller, group_id).await?;
    let (gid, uid) = (g.id.clone(), member_id.clone());
    let removed = state
        .db(move |c| db_groups::remove_member(c, &gid, &uid))
        .await?;
    if !removed {
        return Err(GraphError::not_found(&member_id));
    }
    state.invalidate_caches();
    let event = event(&state, &req, &caller, kind::GROUP_MEMBER_REMOVED, &g).user(&member_id);
    state.audit.record(event).await;
    Ok(HttpResponse::NoContent().finish())
}

//! `members` of groups and `memberOf` of users (groups and directory roles): pages in
//! object id order with `$top` and `@odata.nextLink` (`$skiptoken`), as `/users`
//! pages.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::auth::{Caller, authenticate};
use super::error::GraphError;
use super::groups::{self, READ, READ_DELEGATED};
use super::users::{self, Answer, answer, no_store};
use crate::db::groups as db_groups;
use crate::db::users::{Cursor, User};
use crate::db::{DbConnection, DbResult};
use crate::graph::odata::{self, ListQuery};
use crate::graph::{group, roles, user};
use crate::http::base_url::base_url;
use crate::state::AppState;

/// `/users/{id}/memberOf` for an application (Graph: `User.Read.All` and above).
const MEMBER_OF: [&str; 5] = [
    "User.Read.All",
    "User.ReadWrite.All",
    "GroupMember.Read.All",
    "Group.Read.All",
    "Directory.Read.All",
];

/// What `$select` may name on `memberOf`: a group's properties and a role's.
const ROLE_PROPERTIES: [&str; 5] = [
    "id",
    "deletedDateTime",
    "description",
    "displayName",
    "roleTemplateId",
];

/// `$top`, `$skiptoken` and `$select`; the rest of Graph's list options are not
/// served on these relationships.
fn page_query(query: &str) -> Result<ListQuery, GraphError> {
    let q = odata::parse_list(query).map_err(GraphError::bad_query)?;
    if !q.clauses.is_empty() || q.order.is_some() || q.count {
        return Err(GraphError::unsupported_query(
            "$filter, $orderby and $count are not supported on this relationship.",
        ));
    }
    Ok(q)
}

/// A page of directory objects: `value`, and `@odata.nextLink` after `last` when
/// more follow.
fn page(
    state: &AppState,
    req: &HttpRequest,
    q: &ListQuery,
    values: Vec<Value>,
    last: Option<String>,
) -> HttpResponse {
    let base = base_url(state, req);
    let mut body = json!({
        "@odata.context": format!("{base}/v1.0/$metadata#directoryObjects"),
        "value": values,
    });
    if let Some(id) = last {
        let cursor = Cursor { id, key: None };
        body["@odata.nextLink"] = json!(odata::next_link(&base, req.path(), &q.carried, &cursor));
    }
    no_store(StatusCode::OK).json(body)
}

/// `GET /groups/{id}/members`: the members as `#microsoft.graph.user` objects.
pub async fn members(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let result = members_inner(&state, &req, id.into_inner()).await;
    answer(&state, &req, result).await
}

async fn members_inner(state: &AppState, req: &HttpRequest, id: String) -> Answer {
    let caller = authenticate(state, req).await?;
    caller.require(caller.may(&READ, &READ_DELEGATED))?;
    let gid = groups::find(state, &caller, id).await?.id;
    user_list(state, req, &caller.tenant_name, move |c, after, limit| {
        db_groups::members(c, &gid, after, limit)
    })
    .await
}

/// A page of users (`$top`, `$skiptoken`, `$select`) read by `fetch(after id, limit)`.
pub(super) async fn user_list<F>(
    state: &AppState,
    req: &HttpRequest,
    issuer: &str,
    fetch: F,
) -> Answer
where
    F: FnOnce(&mut DbConnection, Option<&str>, i64) -> DbResult<Vec<User>> + Send + 'static,
{
    let q = page_query(req.query_string())?;
    let select = q
        .select
        .as_deref()
        .map(user::check_select)
        .transpose()
        .map_err(GraphError::bad_query)?;
    let (after, top) = (q.after.as_ref().map(|c| c.id.clone()), q.top);
    let rows = state
        .db(move |c| fetch(c, after.as_deref(), top + 1))
        .await?;
    Ok(user_page(state, req, &q, rows, select.as_deref(), issuer))
}

/// A page of users as `#microsoft.graph.user` objects, from up to one more row than
/// `$top` (which tells whether another page follows).
fn user_page(
    state: &AppState,
    req: &HttpRequest,
    q: &ListQuery,
    mut rows: Vec<User>,
    select: Option<&[&'static str]>,
    issuer: &str,
) -> HttpResponse {
    let more = rows.len() as i64 > q.top;
    rows.truncate(q.top as usize);
    let values = rows
        .iter()
        .map(|u| {
            let mut map = Map::new();
            map.insert("@odata.type".into(), json!("#microsoft.graph.user"));
            map.extend(user::to_json(u, select, issuer));
            Value::Object(map)
        })
        .collect();
    let last = rows.last().filter(|_| more).map(|u| u.id.clone());
    page(state, req, q, values, last)
}

/// `$select` on `memberOf`: the canonical names; one neither a group nor a role has
/// is an error.
fn member_of_select(select: &[String]) -> Result<Vec<&'static str>, String> {
    let mut out = Vec::new();
    for name in select {
        let known = group::DEFAULT_PROPERTIES
            .iter()
            .chain(ROLE_PROPERTIES.iter())
            .find(|p| p.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                format!("Could not find a property named '{name}' on type 'microsoft.graph.directoryObject'.")
            })?;
        if !out.contains(known) {
            out.push(*known);
        }
    }
    Ok(out)
}

/// The user's groups (`#microsoft.graph.group`) and directory roles
/// (`#microsoft.graph.directoryRole`), one page in object id order.
async fn member_of_answer(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    user_id: String,
) -> Answer {
    let q = page_query(req.query_string())?;
    let select = q
        .select
        .as_deref()
        .map(member_of_select)
        .transpose()
        .map_err(GraphError::bad_query)?;
    let (groups, held) = state
        .db(move |c| {
            let groups = db_groups::of_member(c, &user_id)?;
            let held = crate::db::directory_roles::of_user(c, &user_id)?;
            Ok((groups, held))
        })
        .await?;
    let group_select: Option<Vec<&'static str>> = select.as_ref().map(|s| {
        s.iter()
            .copied()
            .filter(|p| group::DEFAULT_PROPERTIES.contains(p))
            .collect()
    });
    let tid = caller.tenant_id.as_str();
    let mut entries: Vec<(String, Map<String, Value>)> = groups
        .iter()
        .map(|g| {
            let mut map = Map::new();
            map.insert("@odata.type".into(), json!("#microsoft.graph.group"));
            map.extend(group::to_json(g, group_select.as_deref()));
            (g.id.clone(), map)
        })
        .collect();
    entries.extend(
        held.iter()
            .filter_map(|t| roles::find(t))
            .map(|r| (r.object_id(tid), r.to_json(tid, select.as_deref()))),
    );
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let after = q.after.as_ref().map(|c| c.id.as_str());
    let mut rest: Vec<_> = entries
        .into_iter()
        .filter(|(id, _)| after.is_none_or(|a| id.as_str() > a))
        .collect();
    let more = rest.len() as i64 > q.top;
    rest.truncate(q.top as usize);
    let last = rest.last().filter(|_| more).map(|(id, _)| id.clone());
    let values = rest.into_iter().map(|(_, m)| Value::Object(m)).collect();
    Ok(page(state, req, &q, values, last))
}

/// `GET /me/memberOf`: the signed-in user's groups and directory roles (delegated
/// `User.Read` and above).
pub async fn my_member_of(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = my_member_of_inner(&state, &req).await;
    answer(&state, &req, result).await
}

async fn my_member_of_inner(state: &AppState, req: &HttpRequest) -> Answer {
    let mut allowed = users::READ_ME.to_vec();
    allowed.push("GroupMember.Read.All");
    let (caller, u) = users::signed_in(state, req, &allowed).await?;
    member_of_answer(state, req, &caller, u.id.clone()).await
}

/// `GET /users/{id}/memberOf`: the user's groups and directory roles (an application's
/// `User.Read.All` and above, or any signed-in user's).
pub async fn member_of(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let result = member_of_inner(&state, &req, id.into_inner()).await;
    answer(&state, &req, result).await
}

async fn member_of_inner(state: &AppState, req: &HttpRequest, id: String) -> Answer {
    let caller = authenticate(state, req).await?;
    let mut delegated = users::READ_ALL_DELEGATED.to_vec();
    delegated.push("GroupMember.Read.All");
    caller.require(caller.may(&MEMBER_OF, &delegated))?;
    let u = users::find(state, &caller, id).await?;
    member_of_answer(state, req, &caller, u.id).await
}

//! `/applications` and `/servicePrincipals`: the tenant's clients, read with
//! `Application.Read.All` (or `Application.ReadWrite.All`, `Directory.Read.All`),
//! written with `Application.ReadWrite.All`. A secret added here works at once; a
//! deleted application's client is gone as after `localidp client delete`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::auth::{Caller, authenticate};
use super::error::GraphError;
use super::users::{Answer, answer, no_store, parse_body};
use crate::audit::{AuditEvent, kind};
use crate::db::client_secrets::{self, ClientSecret};
use crate::db::clients::{self, Client};
use crate::db::users::{Cursor, SortOrder};
use crate::graph::application::{Kind, ObjectKey, password_credential};
use crate::graph::application_writes::{
    self as writes, AddPassword, AppWriteError, ApplicationBody, RemovePassword,
};
use crate::graph::odata;
use crate::http::base_url::base_url;
use crate::http::request_context::request_context;
use crate::state::AppState;

const READ: [&str; 3] = [
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
];
pub(super) const WRITE: [&str; 1] = ["Application.ReadWrite.All"];

/// The object a request names: `/{id}` or `(appId='{appId}')`.
pub(super) fn key(req: &HttpRequest) -> ObjectKey {
    match req.match_info().get("app_id") {
        Some(app_id) => ObjectKey::AppId(app_id.to_owned()),
        None => ObjectKey::Id(req.match_info().get("id").unwrap_or_default().to_owned()),
    }
}

fn write_error(e: AppWriteError) -> GraphError {
    match e {
        AppWriteError::Invalid(m) => GraphError::bad_request(m),
        AppWriteError::EnabledRole(m) => GraphError::enabled_entitlement(m),
        AppWriteError::Directory(crate::directory::DirectoryError::Invalid(m)) => {
            GraphError::bad_request(m)
        }
        AppWriteError::Directory(e) => {
            tracing::error!(error = %e, "graph application write failed");
            GraphError::unavailable()
        }
    }
}

/// The client the request names, in the caller's tenant, with its added secrets.
pub(super) async fn find(
    state: &AppState,
    caller: &Caller,
    kind: Kind,
    key: &ObjectKey,
) -> Result<(Client, Vec<ClientSecret>), GraphError> {
    let (tid, wanted, sp) = (
        caller.tenant_id.clone(),
        key.clone(),
        kind == Kind::ServicePrincipal,
    );
    state
        .db(move |c| {
            let Some(client) = clients::list(c, &tid)?
                .into_iter()
                .find(|cl| wanted.names(cl, sp))
            else {
                return Ok(None);
            };
            let secrets = client_secrets::list(c, &client.client_id)?;
            Ok(Some((client, secrets)))
        })
        .await?
        .ok_or_else(|| GraphError::not_found(key.as_str()))
}

/// An admin event about a client, written by a Graph caller.
fn event(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    kind: &'static str,
    c: &Client,
) -> AuditEvent {
    AuditEvent::admin(kind)
        .actor(caller.actor())
        .tenant(&caller.tenant_id)
        .client(&c.client_id)
        .request(&request_context(state, req))
        .detail("via", "graph")
        .detail("caller", caller.claims.azp.clone())
        .detail("name", c.name.clone())
}

fn entity(
    state: &AppState,
    req: &HttpRequest,
    kind: Kind,
    found: &(Client, Vec<ClientSecret>),
    select: Option<&[&'static str]>,
) -> Value {
    let mut map = kind.to_json(&found.0, &found.1, select);
    map.insert(
        "@odata.context".into(),
        json!(kind.context(&base_url(state, req), select, true)),
    );
    Value::Object(map)
}

/// `GET /applications` and `GET /servicePrincipals`: a page in object id order,
/// `@odata.nextLink` while more may follow.
async fn list(state: &AppState, req: &HttpRequest, kind: Kind) -> Answer {
    let caller = authenticate(state, req).await?;
    caller.require(caller.has_role(&READ))?;
    let q = odata::parse_list(req.query_string()).map_err(GraphError::bad_query)?;
    let select = q
        .select
        .as_deref()
        .map(|s| kind.check_select(s))
        .transpose()
        .map_err(GraphError::bad_query)?;
    kind.check_filter(&q.clauses)
        .map_err(GraphError::bad_query)?;
    // As for users: $count, and $orderby with $filter, are advanced queries.
    super::users::check_advanced(req, q.count, q.order.is_some() && !q.clauses.is_empty())?;
    let (tid, clauses, after, top, order) = (
        caller.tenant_id.clone(),
        q.clauses.clone(),
        q.after.clone(),
        q.top as usize,
        q.order,
    );
    // A directory of a development server: its clients are few, so they are filtered
    // and ordered here rather than in SQL (the object ids are not stored). Sorted by
    // object id, or by lower-cased display name then object id.
    let (rows, total) = state
        .db(move |c| {
            let mut page: Vec<(String, String, Client)> = Vec::new();
            for client in clients::list(c, &tid)? {
                if Kind::matches(&client, &clauses) {
                    let key = client.name.to_lowercase();
                    page.push((key, kind.object_id(&client.client_id), client));
                }
            }
            let total = page.len() as i64;
            let rank = |key: &str, id: &str| match order {
                None => (String::new(), id.to_owned()),
                Some(_) => (key.to_owned(), id.to_owned()),
            };
            page.sort_by_key(|(key, id, _)| rank(key, id));
            if order == Some(SortOrder::Descending) {
                page.reverse();
            }
            if let Some(after) = &after {
                let at = rank(after.key.as_deref().unwrap_or_default(), &after.id);
                page.retain(|(key, id, _)| match order {
                    Some(SortOrder::Descending) => rank(key, id) < at,
                    _ => rank(key, id) > at,
                });
            }
            page.truncate(top + 1);
            let mut rows = Vec::new();
            for (key, id, client) in page {
                let secrets = match kind {
                    Kind::Application => client_secrets::list(c, &client.client_id)?,
                    Kind::ServicePrincipal => Vec::new(),
                };
                rows.push((key, id, client, secrets));
            }
            Ok((rows, q.count.then_some(total)))
        })
        .await?;
    let more = rows.len() > top;
    let base = base_url(state, req);
    let next_link = match rows.get(top - 1) {
        Some((key, last, _, _)) if more => {
            let cursor = Cursor {
                id: last.clone(),
                key: order.map(|_| key.clone()),
            };
            Some(odata::next_link(&base, req.path(), &q.carried, &cursor))
        }
        _ => None,
    };
    let body = odata::Page {
        context: kind.context(&base, select.as_deref(), false),
        count: total,
        next_link,
        value: rows
            .iter()
            .take(top)
            .map(|(_, _, c, s)| Value::Object(kind.to_json(c, s, select.as_deref())))
            .collect(),
    };
    Ok(no_store(StatusCode::OK).json(body))
}

pub async fn list_applications(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = list(&state, &req, Kind::Application).await;
    answer(&state, &req, result).await
}

pub async fn list_service_principals(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = list(&state, &req, Kind::ServicePrincipal).await;
    answer(&state, &req, result).await
}

async fn get(state: &AppState, req: &HttpRequest, kind: Kind) -> Answer {
    let caller = authenticate(state, req).await?;
    caller.require(caller.has_role(&READ))?;
    let select = odata::parse_select_only(req.query_string())
        .map_err(GraphError::bad_query)?
        .map(|s| kind.check_select(&s).map_err(GraphError::bad_query))
        .transpose()?;
    let found = find(state, &caller, kind, &key(req)).await?;
    Ok(no_store(StatusCode::OK).json(entity(state, req, kind, &found, select.as_deref())))
}

/// `GET /applications/{id}` (or `(appId='{appId}')`).
pub async fn get_application(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = get(&state, &req, Kind::Application).await;
    answer(&state, &req, result).await
}

/// `GET /servicePrincipals/{id}` (or `(appId='{appId}')`).
pub async fn get_service_principal(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = get(&state, &req, Kind::ServicePrincipal).await;
    answer(&state, &req, result).await
}

/// Runs a blocking write; its refusals are Graph's.
async fn write<T, F>(state: &AppState, f: F) -> Result<T, GraphError>
where
    T: Send + 'static,
    F: FnOnce(&mut crate::db::DbConnection) -> Result<T, AppWriteError> + Send + 'static,
{
    state.db(move |c| Ok(f(c))).await?.map_err(write_error)
}

/// A write's caller (holding `Application.ReadWrite.All`), its body, and the
/// application the request names.
async fn writer<B: serde::de::DeserializeOwned>(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
) -> Result<(Caller, B, Client), GraphError> {
    let caller = authenticate(state, req).await?;
    caller.require(caller.has_role(&WRITE))?;
    // An empty body is the type's default (addPassword takes one).
    let parsed = if body.iter().all(u8::is_ascii_whitespace) {
        parse_body(b"{}")?
    } else {
        parse_body(body)?
    };
    let (client, _) = find(state, &caller, Kind::Application, &key(req)).await?;
    Ok((caller, parsed, client))
}

/// After a write: caches forgotten (tokens and client authentication see it at once),
/// and its audit event.
async fn written(state: &AppState, event: AuditEvent) {
    state.invalidate_caches();
    state.audit.record(event).await;
}

/// `POST /applications`: 201 with the application; the client exists at once.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let result = async {
        let caller = authenticate(&state, &req).await?;
        caller.require(caller.has_role(&WRITE))?;
        let new: ApplicationBody = parse_body(&body)?;
        let (tid, now) = (caller.tenant_id.clone(), state.clock.now());
        let created = write(&state, move |c| writes::create(c, &tid, &new, now)).await?;
        let ev = event(&state, &req, &caller, kind::CLIENT_CREATED, &created);
        written(&state, ev.detail("public", created.is_public())).await;
        let found = (created, Vec::new());
        let body = entity(&state, &req, Kind::Application, &found, None);
        Ok(no_store(StatusCode::CREATED).json(body))
    }
    .await;
    answer(&state, &req, result).await
}

/// `PATCH /applications/{id}`: 204.
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let result = async {
        let (caller, changes, client): (_, ApplicationBody, _) =
            writer(&state, &req, &body).await?;
        let target = client.clone();
        write(&state, move |c| writes::update(c, &target, &changes)).await?;
        let ev = event(&state, &req, &caller, kind::CLIENT_UPDATED, &client);
        written(&state, ev).await;
        Ok(HttpResponse::NoContent().finish())
    }
    .await;
    answer(&state, &req, result).await
}

/// `DELETE /applications/{id}`: 204; the client, its secrets and Graph permissions go.
pub async fn delete(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let (caller, (), client) = writer(&state, &req, b"null").await?;
        let (id, now) = (client.client_id.clone(), state.clock.now());
        write(&state, move |c| {
            Ok(crate::directory::delete_client(c, &id, now)?)
        })
        .await?;
        let ev = event(&state, &req, &caller, kind::CLIENT_DELETED, &client);
        written(&state, ev).await;
        Ok(HttpResponse::NoContent().finish())
    }
    .await;
    answer(&state, &req, result).await
}

/// `POST /applications/{id}/addPassword`: 200 with the `passwordCredential`, its
/// `secretText` shown this once.
pub async fn add_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let result = async {
        let (caller, asked, client): (_, AddPassword, _) = writer(&state, &req, &body).await?;
        let (target, now) = (client.clone(), state.clock.now());
        let key_id = crate::crypto::secrets::uuid_v4().to_string();
        let (stored, plain) = write(&state, move |c| {
            writes::add_password(c, &target, &asked, key_id, now)
        })
        .await?;
        let ev = event(&state, &req, &caller, kind::CLIENT_SECRET_ADDED, &client);
        written(&state, ev.detail("key_id", stored.key_id.clone())).await;
        let mut body = password_credential(&stored);
        body["secretText"] = json!(plain);
        body["@odata.context"] = json!(format!(
            "{}/v1.0/$metadata#microsoft.graph.passwordCredential",
            base_url(&state, &req)
        ));
        Ok(no_store(StatusCode::OK).json(body))
    }
    .await;
    answer(&state, &req, result).await
}

/// `POST /applications/{id}/removePassword`: 204; the secret stops working at once.
pub async fn remove_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let result = async {
        let (caller, asked, client): (_, RemovePassword, _) = writer(&state, &req, &body).await?;
        let key_id = asked
            .key_id
            .filter(|k| uuid::Uuid::parse_str(k.trim()).is_ok())
            .ok_or_else(|| GraphError::bad_request("Property 'keyId' must be a GUID."))?;
        let (target, k) = (client.clone(), key_id.clone());
        let removed = write(&state, move |c| writes::remove_password(c, &target, &k)).await?;
        if !removed {
            return Err(GraphError::bad_request(format!(
                "No password credential found with keyId '{key_id}'."
            )));
        }
        let ev = event(&state, &req, &caller, kind::CLIENT_SECRET_REMOVED, &client);
        written(&state, ev.detail("key_id", key_id)).await;
        Ok(HttpResponse::NoContent().finish())
    }
    .await;
    answer(&state, &req, result).await
}

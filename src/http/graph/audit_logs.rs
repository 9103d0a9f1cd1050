//! `/auditLogs/signIns` and `/auditLogs/directoryAudits` (and `/{id}` of each): the
//! caller's tenant's audit log in Graph's shapes, newest first, paged by `$skiptoken`.
//! Read with `AuditLog.Read.All`: an application's, or a signed-in Global
//! Administrator's delegated permission.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::auth::{Caller, authenticate};
use super::error::GraphError;
use super::users::{Answer, answer, no_store};
use crate::db::audit_events::{self, LogCondition, LogQuery};
use crate::db::users::find_by_sign_in_name;
use crate::graph::audit_log::{LogResource, Names, OptionError, cursor_after, selected};
use crate::graph::directory_audit::DIRECTORY_AUDITS;
use crate::graph::odata;
use crate::graph::roles::reads_audit_logs;
use crate::graph::sign_in_log::SIGN_INS;
use crate::http::base_url::base_url;
use crate::state::AppState;

const READ: [&str; 1] = ["AuditLog.Read.All"];

/// The caller, when it may read the audit logs (else 403).
async fn reader(state: &AppState, req: &HttpRequest) -> Result<Caller, GraphError> {
    let caller = authenticate(state, req).await?;
    if caller.app_only() {
        caller.require(caller.has_role(&READ))?;
    } else {
        caller.require(caller.has_scope(&READ))?;
        let held = caller.directory_roles(state).await?;
        caller.require(reads_audit_logs(&held))?;
    }
    Ok(caller)
}

fn option_error(e: OptionError) -> GraphError {
    match e {
        OptionError::Bad(m) => GraphError::bad_query(m),
        OptionError::Unsupported(m) => GraphError::unsupported_query(m),
    }
}

async fn list(state: &AppState, req: &HttpRequest, log: &'static LogResource) -> Answer {
    let caller = reader(state, req).await?;
    let options = log
        .parse_options(req.query_string())
        .map_err(option_error)?;
    let top = options.top;
    let tenant_id = caller.tenant_id.clone();
    let mut query = LogQuery {
        tenant_id: tenant_id.clone(),
        sources: (log.sources)(),
        conditions: options.filter.conditions,
        after: options.after,
        limit: top + 1,
    };
    let names = options.filter.user_principal_names;
    let (mut rows, names) = state
        .db(move |c| {
            // `userPrincipalName eq`: the events of the user who signs in with it now.
            for name in names {
                query
                    .conditions
                    .push(match find_by_sign_in_name(c, &query.tenant_id, &name)? {
                        Some(u) => LogCondition::UserIn(vec![u.id]),
                        None => LogCondition::Never,
                    });
            }
            let rows = audit_events::log_page(c, &query)?;
            let names = Names::load(c, &query.tenant_id, &rows)?;
            Ok((rows, names))
        })
        .await?;
    let more = rows.len() as i64 > top;
    rows.truncate(top as usize);
    let base = base_url(state, req);
    let select = options.select.as_deref();
    let values: Vec<Value> = rows
        .iter()
        .map(|r| selected((log.to_json)(r, &names, &tenant_id), select))
        .collect();
    let mut body = json!({
        "@odata.context": odata::context(&base, log.collection, select, false),
        "value": values,
    });
    if more && let Some(last) = rows.last() {
        let link = odata::next_link(&base, req.path(), &options.carried, &cursor_after(last));
        body["@odata.nextLink"] = json!(link);
    }
    Ok(no_store(StatusCode::OK).json(body))
}

async fn get(state: &AppState, req: &HttpRequest, log: &'static LogResource, id: String) -> Answer {
    let caller = reader(state, req).await?;
    let select = odata::parse_select_only(req.query_string())
        .map_err(GraphError::bad_query)?
        .map(|s| log.check_select(&s).map_err(GraphError::bad_query))
        .transpose()?;
    let row_id = log.row_id(&id).ok_or_else(|| GraphError::not_found(&id))?;
    let tenant_id = caller.tenant_id.clone();
    let query = LogQuery {
        tenant_id: tenant_id.clone(),
        sources: (log.sources)(),
        conditions: vec![LogCondition::Id(row_id)],
        after: None,
        limit: 1,
    };
    let (row, names) = state
        .db(move |c| {
            let rows = audit_events::log_page(c, &query)?;
            let names = Names::load(c, &query.tenant_id, &rows)?;
            Ok((rows.into_iter().next(), names))
        })
        .await?;
    let row = row.ok_or_else(|| GraphError::not_found(&id))?;
    let mut entity = selected((log.to_json)(&row, &names, &tenant_id), select.as_deref());
    let base = base_url(state, req);
    entity["@odata.context"] = json!(odata::context(
        &base,
        log.collection,
        select.as_deref(),
        true
    ));
    Ok(no_store(StatusCode::OK).json(entity))
}

/// `GET /auditLogs/signIns`.
pub async fn list_sign_ins(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = list(&state, &req, &SIGN_INS).await;
    answer(&state, &req, result).await
}

/// `GET /auditLogs/signIns/{id}`.
pub async fn get_sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let result = get(&state, &req, &SIGN_INS, id.into_inner()).await;
    answer(&state, &req, result).await
}

/// `GET /auditLogs/directoryAudits`.
pub async fn list_directory_audits(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = list(&state, &req, &DIRECTORY_AUDITS).await;
    answer(&state, &req, result).await
}

/// `GET /auditLogs/directoryAudits/{id}`.
pub async fn get_directory_audit(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let result = get(&state, &req, &DIRECTORY_AUDITS, id.into_inner()).await;
    answer(&state, &req, result).await
}

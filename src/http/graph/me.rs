//! `PATCH /me`: the signed-in user changes what Graph lets a user change about
//! themselves (delegated `User.ReadWrite`); the change is in their next token. And
//! `POST /me/changePassword`.

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::auth::authenticate;
use super::error::GraphError;
use super::users::{Answer, answer, event, find, parse_body, write_error};
use crate::audit::kind;
use crate::graph::directory::{self as graph_dir, UpdateUser};
use crate::graph::user::{SelfUpdateError, self_update};
use crate::http::request_context::request_context;
use crate::oauth::{ErrorCode, sign_in, user_flows::check_password};
use crate::state::AppState;

/// Delegated permissions that let a user update their own profile.
pub(super) const WRITE_ME: [&str; 4] = [
    "User.ReadWrite",
    "User.ReadWrite.All",
    "Directory.ReadWrite.All",
    "Directory.AccessAsUser.All",
];

/// `PATCH /me`: 204.
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let result = update_inner(&state, &req, &body).await;
    answer(&state, &req, result).await
}

async fn update_inner(state: &AppState, req: &HttpRequest, body: &[u8]) -> Answer {
    let caller = authenticate(state, req).await?;
    if caller.app_only() {
        return Err(GraphError::bad_request(
            "/me request is only valid with delegated authentication flow.",
        ));
    }
    caller.require(caller.has_scope(&WRITE_ME))?;
    let raw: Map<String, Value> = parse_body(body)?;
    let kept = self_update(&raw).map_err(|e| match e {
        SelfUpdateError::Denied(_) => GraphError::denied(),
        SelfUpdateError::Unknown(name) => {
            GraphError::bad_request(format!("Invalid property '{name}'."))
        }
    })?;
    let changes: UpdateUser = serde_json::from_value(Value::Object(kept)).map_err(|e| {
        GraphError::bad_request(format!("Unable to read JSON request payload: {e}"))
    })?;
    let me = find(state, &caller, caller.claims.oid.clone()).await?;
    let (row, now) = (me.clone(), state.clock.now());
    let done = state
        .db(move |c| Ok(graph_dir::update(c, &row, &changes, None, now)))
        .await?
        .map_err(write_error)?;
    if done.names {
        let event = event(state, req, &caller, kind::USER_UPDATED, &me.id);
        state.audit.record(event).await;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The body of `POST /me/changePassword`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangePassword {
    current_password: Option<String>,
    new_password: Option<String>,
}

/// `POST /me/changePassword`: 204. The current password is checked as a sign-in
/// checks it (wrong ones count toward lockout); the new one must meet Graph's
/// complexity rule; a demand for a new password (a temporary one) ends.
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let result = change_password_inner(&state, &req, &body).await;
    answer(&state, &req, result).await
}

async fn change_password_inner(state: &AppState, req: &HttpRequest, body: &[u8]) -> Answer {
    let caller = authenticate(state, req).await?;
    if caller.app_only() {
        return Err(GraphError::bad_request(
            "/me request is only valid with delegated authentication flow.",
        ));
    }
    // As Graph: the user acting through the application.
    caller.require(caller.has_scope(&["Directory.AccessAsUser.All"]))?;
    let asked: ChangePassword = parse_body(body)?;
    let (Some(current), Some(new)) = (asked.current_password, asked.new_password) else {
        return Err(GraphError::bad_request(
            "Properties 'currentPassword' and 'newPassword' are required.",
        ));
    };
    if check_password(&new).is_err() || new == current {
        return Err(GraphError::bad_request(super::users::WEAK_PASSWORD));
    }
    let me = find(state, &caller, caller.claims.oid.clone()).await?;
    let context = request_context(state, req);
    let source = sign_in::SignInSource {
        via: "graph_change_password",
        client_id: Some(&caller.claims.azp),
        request: &context,
    };
    let (current, new) = (SecretString::from(current), SecretString::from(new));
    sign_in::change_password(
        state,
        &caller.tenant_id,
        me.sign_in_name(),
        current,
        new,
        &source,
    )
    .await
    .map_err(|e| match e.code {
        ErrorCode::InvalidGrant => GraphError::bad_request(format!(
            "The current password is not valid: {}",
            e.description
        )),
        _ => GraphError::unavailable(),
    })?;
    Ok(HttpResponse::NoContent().finish())
}

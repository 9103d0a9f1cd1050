//! `GET/POST /authorize` and `/{tenant}/oauth2/v2.0/authorize` (RFC 6749 §4.1.1,
//! OIDC Core §3.1.2), and `POST /login`, the sign-in form they show.

use super::authority::base_url;
use crate::oauth::Reason;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use secrecy::SecretString;
use serde::Deserialize;

use super::pages::{self, FormPostPage, LoginPage};
use crate::crypto::secrets;
use crate::directory::service::TenantInfo;
use crate::oauth::authorization_code::{
    self, AuthorizationParams, AuthorizationRequest, AuthorizeError, Prompt, ReplyTo, ResponseMode,
};
use crate::oauth::session::{self, CSRF_COOKIE};
use crate::oauth::{ErrorCode, OAuthError, sign_in, user_flows};
use crate::state::AppState;

/// The path the login form posts to.
pub const LOGIN_PATH: &str = "/login";

/// Query string or form body, parsed the same way; bad encoding shows a page.
pub(super) fn parse<T: serde::de::DeserializeOwned>(raw: &[u8]) -> Result<T, OAuthError> {
    let text = std::str::from_utf8(raw).map_err(|_| {
        OAuthError::invalid_request(Reason::MalformedRequest, "The request is not valid UTF-8.")
    })?;
    serde_urlencoded::from_str(text).map_err(|e| {
        OAuthError::invalid_request(
            Reason::MalformedRequest,
            format!("The request parameters cannot be read: {e}."),
        )
    })
}

pub async fn default_tenant_authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    match state.directory.default_tenant().await {
        Ok(tenant) => authorize(&state, &req, tenant, &body).await,
        Err(e) => pages::error_page("localidp", &e.into()),
    }
}

pub async fn tenant_authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    match find_tenant(&state, &path).await {
        Ok(tenant) => authorize(&state, &req, tenant, &body).await,
        Err(e) => pages::error_page("localidp", &e),
    }
}

/// B2C's `/{tenant}/{policy}/oauth2/v2.0/authorize` (and `/tfp/...`): the policy
/// must be one of the tenant's user flows.
pub async fn policy_authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (tenant, policy) = path.into_inner();
    match find_policy_tenant(&state, &tenant, &policy).await {
        Ok(tenant) => authorize(&state, &req, tenant, &body).await,
        Err(e) => pages::error_page("localidp", &e),
    }
}

pub(super) async fn find_policy_tenant(
    state: &AppState,
    name: &str,
    policy: &str,
) -> Result<Arc<TenantInfo>, OAuthError> {
    let tenant = find_tenant(state, name).await?;
    if tenant.has_policy(policy) {
        Ok(tenant)
    } else {
        Err(OAuthError::invalid_request(
            Reason::PolicyNotFound,
            format!(
                "The policy '{policy}' does not exist in tenant '{}'.",
                tenant.name
            ),
        ))
    }
}

pub(super) async fn find_tenant(
    state: &AppState,
    name: &str,
) -> Result<Arc<TenantInfo>, OAuthError> {
    state.directory.tenant(name).await?.ok_or_else(|| {
        OAuthError::invalid_request(
            Reason::MalformedRequest,
            format!("Tenant {name:?} not found."),
        )
    })
}

/// GET carries the request in the query, POST in a form body (OIDC Core §3.1.2.1).
async fn authorize(
    state: &AppState,
    req: &HttpRequest,
    tenant: Arc<TenantInfo>,
    body: &[u8],
) -> HttpResponse {
    let raw = if req.method() == actix_web::http::Method::POST {
        body
    } else {
        req.query_string().as_bytes()
    };
    let params: AuthorizationParams = match parse(raw) {
        Ok(p) => p,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    };
    let request =
        match authorization_code::validate(state, &tenant, &base_url(state, req), params).await {
            Ok(r) => r,
            Err(e) => return authorize_error(&tenant, e),
        };
    let session = match sso_cookie(req, &tenant) {
        Some(cookie) => session::current(state, &tenant.id, &cookie).await,
        None => Ok(None),
    };
    let session = match session {
        Ok(s) => s,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    };
    let now = state.clock.now();
    if let Some(session) = session.filter(|s| request.accepts_session(s, now)) {
        return match authorization_code::issue_code(state, &request, &session).await {
            Ok(code) => reply_code(&request.reply, &code, HttpResponse::Found()),
            Err(e) => pages::error_page(&tenant.display_name, &e),
        };
    }
    if request.prompt == Prompt::None {
        // OIDC Core §3.1.2.6: no page may be shown.
        return reply_error(
            &request.reply,
            "login_required",
            "The user is not signed in and prompt=none forbids asking.",
        );
    }
    let email = request.login_hint.clone().unwrap_or_default();
    login_page(state, req, &tenant, &request, StatusCode::OK, email, None).await
}

fn sso_cookie(req: &HttpRequest, tenant: &TenantInfo) -> Option<String> {
    req.cookie(&session::cookie_name(&tenant.id))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

pub(super) fn authorize_error(tenant: &TenantInfo, e: AuthorizeError) -> HttpResponse {
    match e {
        AuthorizeError::Page(e) => pages::error_page(&tenant.display_name, &e),
        AuthorizeError::Redirect {
            reply,
            error,
            description,
        } => reply_error(&reply, error, &description),
    }
}

/// Renders the sign-in form, with a CSRF cookie (reused if the browser has one).
async fn login_page(
    state: &AppState,
    req: &HttpRequest,
    tenant: &TenantInfo,
    request: &AuthorizationRequest,
    status: StatusCode,
    email: String,
    error: Option<String>,
) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    let csrf_token = match csrf_for_form(state, req, &mut res).await {
        Ok(t) => t,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    };
    let flows = match user_flows::flows(state, &tenant.id).await {
        Ok(f) => f,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    };
    let page = LoginPage {
        tenant_name: tenant.display_name.clone(),
        tenant_id: tenant.id.clone(),
        client_name: request.client.name.clone(),
        action: LOGIN_PATH.into(),
        csrf_token,
        hidden: request.params.pairs(),
        email,
        error,
        sign_up: flows
            .sign_up
            .then(|| flow_link(SIGN_UP_PATH, tenant, request)),
        forgot_password: flows
            .forgot_password
            .then(|| flow_link(FORGOT_PASSWORD_PATH, tenant, request)),
    };
    pages::html_with(res, &page, "")
}

pub const SIGN_UP_PATH: &str = "/signup";
pub const FORGOT_PASSWORD_PATH: &str = "/forgot-password";
pub const CANCEL_PATH: &str = "/cancel";

/// A link to another page of the flow, carrying the authorization request along.
pub(super) fn flow_link(path: &str, tenant: &TenantInfo, request: &AuthorizationRequest) -> String {
    let mut pairs = vec![("tenant", tenant.id.clone())];
    pairs.extend(request.params.pairs());
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

/// The CSRF form field for this browser, setting the cookie on `res` if it has none.
pub(super) async fn csrf_for_form(
    state: &AppState,
    req: &HttpRequest,
    res: &mut HttpResponseBuilder,
) -> Result<String, OAuthError> {
    let existing = req
        .cookie(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() >= 32);
    let csrf_cookie = existing.clone().unwrap_or_else(session::new_csrf_cookie);
    let token = session::csrf_token(state, &csrf_cookie).await?;
    if existing.is_none() {
        let secure = pages::is_secure(state, req);
        res.cookie(pages::cookie(CSRF_COOKIE.into(), csrf_cookie, secure, None));
    }
    Ok(token)
}

/// True when a form POST carries this browser's CSRF token, and no browser says it
/// came from another site (`Sec-Fetch-Site`).
pub(super) async fn csrf_checked(
    state: &AppState,
    req: &HttpRequest,
    field: Option<&str>,
) -> Result<bool, OAuthError> {
    let cross_site = req
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site");
    let cookie = req.cookie(CSRF_COOKIE).map(|c| c.value().to_owned());
    Ok(!cross_site && session::csrf_valid(state, cookie.as_deref(), field).await?)
}

pub(super) const CSRF_FAILED: &str =
    "This form has expired or did not come from this site. Please sign in again.";

#[derive(Deserialize)]
pub struct LoginForm {
    tenant: Option<String>,
    email: Option<String>,
    password: Option<String>,
    csrf_token: Option<String>,
    #[serde(flatten)]
    params: AuthorizationParams,
}

/// `POST /login`: the sign-in form's answer.
pub async fn login(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form: LoginForm = match parse(&body) {
        Ok(f) => f,
        Err(e) => return pages::error_page("localidp", &e),
    };
    let tenant = match form.tenant.as_deref() {
        Some(t) if !t.is_empty() => find_tenant(&state, t).await,
        _ => state
            .directory
            .default_tenant()
            .await
            .map_err(OAuthError::from),
    };
    let tenant = match tenant {
        Ok(t) => t,
        Err(e) => return pages::error_page("localidp", &e),
    };
    let request =
        match authorization_code::validate(&state, &tenant, &base_url(&state, &req), form.params)
            .await
        {
            Ok(r) => r,
            Err(e) => return authorize_error(&tenant, e),
        };
    let email = form.email.unwrap_or_default().trim().to_owned();
    let again = |status, message: &str| {
        login_page(
            &state,
            &req,
            &tenant,
            &request,
            status,
            email.clone(),
            Some(message.to_owned()),
        )
    };
    match csrf_checked(&state, &req, form.csrf_token.as_deref()).await {
        Ok(true) => {}
        Ok(false) => return again(StatusCode::FORBIDDEN, CSRF_FAILED).await,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    }
    let password = form.password.unwrap_or_default();
    if email.is_empty() || password.is_empty() {
        return again(
            StatusCode::BAD_REQUEST,
            "Enter your email address and your password.",
        )
        .await;
    }
    let profile =
        match sign_in::authenticate_user(&state, &tenant.id, &email, SecretString::from(password))
            .await
        {
            Ok(p) => p,
            Err(e) if e.code == ErrorCode::InvalidGrant => {
                return again(StatusCode::UNAUTHORIZED, &e.description).await;
            }
            Err(e) => {
                return again(StatusCode::SERVICE_UNAVAILABLE, &e.description).await;
            }
        };
    complete_sign_in(&state, &req, &tenant, &request, &profile).await
}

/// After the password (or a sign-up): a new SSO session, and a code for the client.
pub(super) async fn complete_sign_in(
    state: &AppState,
    req: &HttpRequest,
    tenant: &TenantInfo,
    request: &AuthorizationRequest,
    profile: &sign_in::UserProfile,
) -> HttpResponse {
    // A new sign-in replaces whatever session this browser had in the tenant.
    if let Some(old) = sso_cookie(req, tenant)
        && let Err(e) = session::end(state, &old).await
    {
        return pages::error_page(&tenant.display_name, &e);
    }
    let (sso, secret) = match session::start(state, &tenant.id, profile).await {
        Ok(s) => s,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    };
    let code = match authorization_code::issue_code(state, request, &sso).await {
        Ok(c) => c,
        Err(e) => return pages::error_page(&tenant.display_name, &e),
    };
    let secure = pages::is_secure(state, req);
    let mut res = HttpResponse::SeeOther();
    res.cookie(pages::cookie(
        session::cookie_name(&tenant.id),
        secret,
        secure,
        Some(state.settings.session_lifetime),
    ));
    reply_code(&request.reply, &code, res)
}

fn reply_code(reply: &ReplyTo, code: &str, res: HttpResponseBuilder) -> HttpResponse {
    reply_with(reply, vec![("code", code.to_owned())], res)
}

/// RFC 6749 §4.1.2.1: errors go to the registered redirect URI with the state.
pub fn reply_error(reply: &ReplyTo, error: &str, description: &str) -> HttpResponse {
    let fields = vec![
        ("error", error.to_owned()),
        ("error_description", description.to_owned()),
    ];
    reply_with(reply, fields, HttpResponse::Found())
}

/// Sends parameters to the client as its response_mode asks, adding `state` and
/// `iss` (RFC 9207, against mix-up attacks).
fn reply_with(
    reply: &ReplyTo,
    mut fields: Vec<(&'static str, String)>,
    mut res: HttpResponseBuilder,
) -> HttpResponse {
    if let Some(state) = &reply.state {
        fields.push(("state", state.clone()));
    }
    fields.push(("iss", reply.issuer.clone()));
    match reply.response_mode {
        ResponseMode::FormPost => {
            let nonce = secrets::generate();
            let page = FormPostPage {
                action: reply.redirect_uri.clone(),
                fields,
                script_nonce: nonce.clone(),
            };
            res.status(StatusCode::OK);
            pages::html_with(res, &page, &format!("; script-src 'nonce-{nonce}'"))
        }
        mode => {
            let encoded = serde_urlencoded::to_string(&fields).unwrap_or_default();
            let uri = &reply.redirect_uri;
            let separator = match mode {
                ResponseMode::Fragment => '#',
                _ if uri.contains('?') => '&',
                _ => '?',
            };
            res.insert_header((header::LOCATION, format!("{uri}{separator}{encoded}")))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
    }
}

/// What the interactive flow adds to a discovery document (OIDC Discovery §3,
/// RFC 8414, RFC 9207).
pub struct InteractiveMetadata {
    pub authorization_endpoint: String,
    pub end_session_endpoint: String,
    pub public_url: String,
    pub plain_pkce: bool,
}

impl InteractiveMetadata {
    /// `base` is the public base URL; `authorize_base` the prefix of `/authorize` and
    /// `/logout` in the authority's form; `query` (B2C's `?p=`) follows both.
    pub fn new(state: &AppState, base: &str, authorize_base: &str, query: &str) -> Self {
        InteractiveMetadata {
            authorization_endpoint: format!("{authorize_base}/authorize{query}"),
            end_session_endpoint: format!("{authorize_base}/logout{query}"),
            public_url: base.to_owned(),
            plain_pkce: state.settings.pkce_allow_plain,
        }
    }

    pub fn extend(self, mut doc: serde_json::Value) -> serde_json::Value {
        use serde_json::{Value, json};
        let Some(map) = doc.as_object_mut() else {
            return doc;
        };
        let push = |map: &mut serde_json::Map<String, Value>, key: &str, items: &[&str]| {
            if let Some(Value::Array(list)) = map.get_mut(key) {
                for item in items {
                    if !list.iter().any(|v| v == item) {
                        list.push(json!(item));
                    }
                }
            }
        };
        push(map, "grant_types_supported", &["authorization_code"]);
        push(
            map,
            "claims_supported",
            &["nonce", "at_hash", "c_hash", "sid"],
        );
        let url = &self.public_url;
        let methods: &[&str] = if self.plain_pkce {
            &["S256", "plain"]
        } else {
            &["S256"]
        };
        let client_auth = json!(["client_secret_post", "client_secret_basic"]);
        for (key, value) in [
            ("authorization_endpoint", json!(self.authorization_endpoint)),
            ("end_session_endpoint", json!(self.end_session_endpoint)),
            ("userinfo_endpoint", json!(format!("{url}/userinfo"))),
            ("revocation_endpoint", json!(format!("{url}/revoke"))),
            ("introspection_endpoint", json!(format!("{url}/introspect"))),
            ("response_types_supported", json!(["code"])),
            (
                "response_modes_supported",
                json!(["query", "fragment", "form_post"]),
            ),
            ("code_challenge_methods_supported", json!(methods)),
            (
                "prompt_values_supported",
                json!(["none", "login", "consent", "select_account"]),
            ),
            (
                "authorization_response_iss_parameter_supported",
                json!(true),
            ),
            (
                "revocation_endpoint_auth_methods_supported",
                json!(["client_secret_post", "client_secret_basic", "none"]),
            ),
            ("introspection_endpoint_auth_methods_supported", client_auth),
        ] {
            map.insert(key.to_owned(), value);
        }
        doc
    }
}

//! The token endpoint (RFC 6749 §3.2) under every authority form:
//! `/auth/token`, `/{tenant}/oauth2/v2.0/token[?p=]`, `/{tenant}/{policy}/oauth2/v2.0/token`
//! and `/tfp/{tenant}/{policy}/oauth2/v2.0/token`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::base_url::base_url;
use super::cors;
use super::error::{ErrorFlavour, OAuthResponse};
use super::request_context::request_context;
use super::tenant::{PolicyQuery, resolve};
use crate::oauth::authority::{Authority, Flavour};
use crate::oauth::grant_type::GrantType;
use crate::oauth::grants;
use crate::oauth::token_request::{BasicCredentials, TokenForm, TokenRequest};
use crate::oauth::{OAuthError, Reason};
use crate::state::AppState;

pub async fn default_tenant_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let client_id = form.client_id.clone();
    let result = match state.directory.default_tenant().await {
        Ok(tenant) => Ok(Authority::short(tenant, base_url(&state, &req))),
        Err(e) => Err(OAuthResponse::plain(e.into())),
    };
    answer(&state, &req, result, form, client_id).await
}

pub async fn tenant_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<PolicyQuery>,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let client_id = form.client_id.clone();
    let policy = query.into_inner().p;
    let result = resolve(&state, base_url(&state, &req), &path, policy.as_deref())
        .await
        .map_err(|e| {
            OAuthResponse::flavoured(e, ErrorFlavour::from_policy(policy.as_deref()), &req)
        });
    answer(&state, &req, result, form, client_id).await
}

pub async fn policy_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let client_id = form.client_id.clone();
    let (tenant, policy) = path.into_inner();
    let result = resolve(&state, base_url(&state, &req), &tenant, Some(&policy))
        .await
        .map_err(|e| OAuthResponse::flavoured(e, ErrorFlavour::B2c, &req));
    answer(&state, &req, result, form, client_id).await
}

/// The token response or error, readable cross-origin by the client's SPA origins.
async fn answer(
    state: &AppState,
    req: &HttpRequest,
    authority: Result<Authority, OAuthResponse>,
    form: TokenForm,
    client_id: Option<String>,
) -> HttpResponse {
    use actix_web::ResponseError;
    let tenant_id = authority.as_ref().ok().map(|a| a.tenant.id.clone());
    let res = match authority {
        Ok(authority) => respond(state, &authority, req, form).await,
        Err(e) => Err(e),
    };
    let res = res.unwrap_or_else(|e| e.error_response());
    let tenant_id = tenant_id.as_deref();
    super::access_log::note_client(req, tenant_id, client_id.as_deref());
    cors::token_response(state, req, tenant_id, client_id.as_deref(), res).await
}

async fn respond(
    state: &AppState,
    authority: &Authority,
    req: &HttpRequest,
    form: TokenForm,
) -> Result<HttpResponse, OAuthResponse> {
    let flavour = ErrorFlavour::of(authority);
    let mut grant = "unknown";
    let result = async {
        let request = TokenRequest::parse(form, basic_credentials(req)?, &authority.flavour)?;
        grant = grant_label(request.grant.grant_type());
        grants::token(state, authority, request, &request_context(state, req)).await
    }
    .await;
    let flavour_label = flavour_label(&authority.flavour);
    match &result {
        Ok(_) => state.metrics.token_issued(grant, flavour_label),
        Err(e) => state
            .metrics
            .token_refused(grant, flavour_label, e.reason.audit_name()),
    }
    let issued = result.map_err(|e| OAuthResponse::flavoured(e, flavour, req))?;
    let mut body = serde_json::to_value(&issued.response).unwrap_or(Value::Null);
    if let (Flavour::B2c { .. }, Value::Object(map)) = (&authority.flavour, &mut body) {
        // B2C's response shape: lifetimes as strings, plus not_before/expires_on/resource.
        let lifetime = issued.response.expires_in;
        map.remove("ext_expires_in");
        map.insert("expires_in".into(), Value::from(lifetime.to_string()));
        map.insert("not_before".into(), Value::from(issued.claims.nbf));
        map.insert("expires_on".into(), Value::from(issued.claims.exp));
        map.insert("resource".into(), Value::from(issued.claims.aud.clone()));
        if map.contains_key("id_token") {
            map.insert(
                "id_token_expires_in".into(),
                Value::from(lifetime.to_string()),
            );
        }
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body))
}

/// The grant as a metrics label.
fn grant_label(grant: GrantType) -> &'static str {
    match grant {
        GrantType::JwtBearer => "jwt_bearer",
        GrantType::TokenExchange => "token_exchange",
        other => other.as_str(),
    }
}

/// The flavour as a metrics label: `plain` for `/auth/*`.
pub(super) fn flavour_label(flavour: &Flavour) -> &'static str {
    match flavour {
        Flavour::Short => "plain",
        Flavour::Entra => "entra",
        Flavour::B2c { .. } => "b2c",
    }
}

/// RFC 6749 §2.3.1: `Basic base64(urlencode(client_id) ":" urlencode(secret))`.
pub(super) fn basic_credentials(req: &HttpRequest) -> Result<Option<BasicCredentials>, OAuthError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        OAuthError::invalid_client(
            Reason::MalformedRequest,
            "The Authorization header is malformed.",
        )
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(malformed());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
            Reason::MalformedRequest,
            "Only Basic client authentication is accepted in the Authorization header.",
        ));
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    Ok(Some(BasicCredentials {
        client_id: form_decode(id).ok_or_else(malformed)?,
        client_secret: form_decode(secret).ok_or_else(malformed)?,
    }))
}

/// `application/x-www-form-urlencoded` decoding of one value.
fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::form_decode;

    #[test]
    fn decodes_form_encoding() {
        assert_eq!(form_decode("a%2Bb+c").as_deref(), Some("a+b c"));
        assert_eq!(form_decode("plain").as_deref(), Some("plain"));
        assert_eq!(form_decode("bad%zz"), None);
        assert_eq!(form_decode("cut%4"), None);
    }
}

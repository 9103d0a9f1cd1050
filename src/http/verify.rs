//! `GET /auth/verify`: the claims behind a Bearer access token, or behind an API key
//! sent as `x-api-key`, in a flat shape.

use std::borrow::Cow;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::base_url::base_url;
use super::bearer::bearer_token;
use super::error::BearerError;
use super::params;
use crate::oauth::api_key::{self, ApiKeyPrincipal, KeyOwner};
use crate::oauth::verify::{self, Verified, VerifyError};
use crate::state::AppState;

/// The header scripts and integrations send an API key in.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The answer: borrowed from a verified token (often a cached one, shared), owned
/// for an API key.
#[derive(Serialize)]
struct VerifyResponse<'a> {
    user_id: Cow<'a, str>,
    email: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    tid: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<Cow<'a, str>>,
    aud: Option<Cow<'a, str>>,
    azp: Option<Cow<'a, str>>,
    scp: Option<Cow<'a, str>>,
    roles: Cow<'a, [String]>,
    groups: Cow<'a, [String]>,
    idtyp: Cow<'a, str>,
    exp: Option<i64>,
    auth_method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key_name: Option<String>,
    /// The trusted issuer of an upstream token (pass-through verification).
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<Cow<'a, str>>,
}

impl<'a> From<&'a Verified> for VerifyResponse<'a> {
    fn from(v: &'a Verified) -> Self {
        let c = &v.claims;
        VerifyResponse {
            email: c.email_address().map(Cow::Borrowed),
            user_id: Cow::Borrowed(&c.oid),
            name: c.name.as_deref().map(Cow::Borrowed),
            // An upstream token names its own tenant.
            tid: Cow::Borrowed(match (&v.upstream, &c.tid) {
                (Some(_), Some(tid)) => tid,
                _ => &v.tenant.id,
            }),
            policy: v.policy.as_deref().map(Cow::Borrowed),
            aud: Some(Cow::Borrowed(&c.aud)),
            azp: Some(Cow::Borrowed(&c.azp)),
            scp: c.scp.as_deref().map(Cow::Borrowed),
            roles: Cow::Borrowed(&c.roles),
            groups: Cow::Borrowed(&c.groups),
            idtyp: Cow::Borrowed(c.idtyp.as_deref().unwrap_or("user")),
            exp: Some(c.exp),
            auth_method: "bearer",
            api_key_id: None,
            api_key_name: None,
            issuer: v.upstream.as_deref().map(Cow::Borrowed),
        }
    }
}

impl From<ApiKeyPrincipal> for VerifyResponse<'static> {
    fn from(p: ApiKeyPrincipal) -> Self {
        let scp = p.scope_string();
        let (email, name, azp, groups, idtyp) = match p.owner {
            KeyOwner::User(profile) => (
                profile.user.email,
                Some(profile.user.display_name),
                None,
                profile.groups,
                "user",
            ),
            KeyOwner::Client(client) => (None, None, Some(client.client_id), vec![], "app"),
        };
        VerifyResponse {
            user_id: p.key.owner_id.into(),
            email: email.map(Cow::Owned),
            name: name.map(Cow::Owned),
            tid: p.key.tenant_id.into(),
            policy: None,
            aud: None,
            azp: azp.map(Cow::Owned),
            scp: scp.map(Cow::Owned),
            roles: p.roles.into(),
            groups: groups.into(),
            idtyp: idtyp.into(),
            exp: p.key.expires_at,
            auth_method: "api_key",
            api_key_id: Some(p.key.id),
            api_key_name: Some(p.key.name),
            issuer: None,
        }
    }
}

/// `?audience=`: the application the caller expects the token to be for.
#[derive(Deserialize)]
struct VerifyQuery {
    audience: Option<String>,
}

pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, BearerError> {
    let query: VerifyQuery = params::parse(req.query_string().as_bytes())
        .map_err(|e| BearerError::BadRequest(e.description))?;
    if query
        .audience
        .as_deref()
        .is_some_and(|a| a.trim().is_empty())
    {
        return Err(BearerError::BadRequest(
            "The audience parameter is empty.".into(),
        ));
    }
    let answer = |body: &VerifyResponse| {
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(body)
    };
    match req.headers().get(API_KEY_HEADER) {
        Some(key) => {
            let body = verify_api_key(&state, &req, key, query.audience.is_some()).await?;
            Ok(answer(&body))
        }
        None => {
            let token = bearer_token(&req)?;
            let verified =
                verify::verify_access_token(&state, &base_url(&state, &req), token).await?;
            verify::check_served(&state, &verified, query.audience.as_deref().map(str::trim))?;
            Ok(answer(&VerifyResponse::from(&*verified)))
        }
    }
}

async fn verify_api_key(
    state: &AppState,
    req: &HttpRequest,
    key: &header::HeaderValue,
    audience: bool,
) -> Result<VerifyResponse<'static>, BearerError> {
    if req.headers().contains_key(header::AUTHORIZATION) {
        return Err(BearerError::BadRequest(
            "Send either Authorization: Bearer or x-api-key, not both.".into(),
        ));
    }
    let key = key
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| BearerError::Invalid("The x-api-key header is malformed.".into()))?;
    // A key is not bound to an application: a caller that expects one gets a refusal
    // rather than a key it might take for a token issued to it.
    if audience {
        return Err(BearerError::Invalid(
            "An API key is not issued for an audience: verify it without ?audience=, or exchange it for a token for that audience.".into(),
        ));
    }
    let principal = api_key::authenticate(state, key).await?;
    let tenant = state
        .directory
        .tenant(&principal.key.tenant_id)
        .await
        .map_err(|e| VerifyError::Unavailable(e.to_string()))?
        .ok_or_else(|| VerifyError::Invalid("The API key's tenant no longer exists.".into()))?;
    if !verify::serves(state, &tenant) {
        return Err(BearerError::Invalid(
            "The API key belongs to a tenant this endpoint does not serve (see verify_tenants)."
                .into(),
        ));
    }
    Ok(VerifyResponse::from(principal))
}

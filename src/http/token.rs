//! `POST /auth/token` and `POST /{tenant}/oauth2/v2.0/token` (RFC 6749 §3.2).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::error::OAuthResponse;
use crate::oauth::OAuthError;
use crate::oauth::grants::{self, BasicCredentials, TokenRequest};
use crate::state::{AppState, TenantInfo};

pub async fn default_tenant_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenRequest>,
) -> Result<HttpResponse, OAuthResponse> {
    let tenant = state.default_tenant().await.map_err(OAuthError::from)?;
    respond(&state, &tenant, &req, form.into_inner()).await
}

pub async fn tenant_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<TokenRequest>,
) -> Result<HttpResponse, OAuthResponse> {
    let tenant = state
        .tenant(&path)
        .await
        .map_err(OAuthError::from)?
        .ok_or_else(|| {
            OAuthError::invalid_request(format!("Tenant {:?} not found.", path.as_str()))
        })?;
    respond(&state, &tenant, &req, form.into_inner()).await
}

async fn respond(
    state: &AppState,
    tenant: &TenantInfo,
    req: &HttpRequest,
    form: TokenRequest,
) -> Result<HttpResponse, OAuthResponse> {
    let basic = basic_credentials(req)?;
    let issued = grants::token(state, tenant, form, basic).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(issued.response))
}

/// RFC 6749 §2.3.1: `Basic base64(urlencode(client_id) ":" urlencode(secret))`.
pub(super) fn basic_credentials(req: &HttpRequest) -> Result<Option<BasicCredentials>, OAuthError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || OAuthError::invalid_client("The Authorization header is malformed.");
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(malformed());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
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

//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2-§3): who asks,
//! and where the browser may go afterwards.

use crate::oauth::Reason;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::OAuthError;
use crate::directory::service::TenantInfo;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub client_id: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, Deserialize)]
struct HintClaims {
    iss: String,
    aud: String,
    tid: String,
}

/// Where to send the browser after the session is ended, if anywhere.
#[derive(Debug)]
pub struct LogoutTarget {
    pub redirect_uri: String,
    pub state: Option<String>,
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The tenant named by an ID token hint (its `tid`), read before it is verified:
/// `/logout` serves every tenant. The signature is checked in `validate`.
pub fn hinted_tenant(params: &LogoutParams) -> Option<String> {
    let token = present(&params.id_token_hint)?;
    let payload = token.split('.').nth(1)?;
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice::<HintClaims>(&bytes)
        .ok()
        .map(|c| c.tid)
}

/// Checks the hint (our signature and issuer; an expired token is fine, §2) and the
/// post-logout redirect URI, which must be one the client registered.
pub async fn validate(
    state: &AppState,
    base: &str,
    tenant: &TenantInfo,
    params: &LogoutParams,
) -> Result<Option<LogoutTarget>, OAuthError> {
    let mut client_id = present(&params.client_id).map(str::to_owned);
    let hint = present(&params.id_token_hint);
    if hint.is_none()
        && crate::oauth::user_flows::flows(state, &tenant.id)
            .await?
            .logout_requires_id_token
    {
        // B2C's "Require ID Token in logout requests".
        return Err(OAuthError::invalid_request(
            Reason::MalformedRequest,
            "This tenant requires id_token_hint in logout requests (B2C's \"Require ID Token in logout requests\").",
        ));
    }
    if let Some(hint) = hint {
        let claims = verify_hint(state, hint).await?;
        let from_tenant = crate::oauth::authority::IssuerForm::parse(base, &claims.iss)
            .is_some_and(|f| f.tenant_id() == tenant.id);
        if !from_tenant {
            return Err(OAuthError::invalid_request(
                Reason::MalformedRequest,
                "id_token_hint was issued by another tenant.",
            ));
        }
        if client_id.as_ref().is_some_and(|c| c != &claims.aud) {
            return Err(OAuthError::invalid_request(
                Reason::MalformedRequest,
                "client_id differs from the audience of id_token_hint.",
            ));
        }
        client_id = Some(claims.aud);
    }
    let Some(redirect_uri) = present(&params.post_logout_redirect_uri) else {
        return Ok(None);
    };
    let target = LogoutTarget {
        redirect_uri: redirect_uri.to_owned(),
        state: params.state.clone().filter(|s| !s.is_empty()),
    };
    let Some(client_id) = client_id else {
        // MSAL.js's logoutRedirect names no application: as Entra and B2C do, go back
        // when the URI is registered on an application of the tenant, else stay on
        // the signed-out page.
        let (tid, uri) = (tenant.id.clone(), target.redirect_uri.clone());
        let registered = state
            .db(move |c| {
                let clients = crate::db::clients::list(c, &tid)?;
                Ok(clients
                    .iter()
                    .any(|cl| cl.redirect_uri_list().is_ok_and(|l| l.contains(&uri))))
            })
            .await?;
        return Ok(registered.then_some(target));
    };
    let client = state
        .directory
        .tenant_client(&tenant.id, &client_id)
        .await?
        .ok_or_else(|| {
            OAuthError::invalid_request(
                Reason::MalformedRequest,
                format!("The application {client_id:?} is not registered in this tenant."),
            )
        })?;
    // Entra: the URI must be one of the application's registered redirect URIs.
    if !client
        .redirect_uri_list()?
        .iter()
        .any(|u| u == redirect_uri)
    {
        return Err(OAuthError::invalid_request(
            Reason::MalformedRequest,
            format!(
                "The post_logout_redirect_uri {redirect_uri:?} is not registered for the application {:?}.",
                client.name
            ),
        ));
    }
    Ok(Some(target))
}

async fn verify_hint(state: &AppState, token: &str) -> Result<HintClaims, OAuthError> {
    let bad = || {
        OAuthError::invalid_request(
            Reason::MalformedRequest,
            "id_token_hint is not an ID token of this server.",
        )
    };
    let header = jsonwebtoken::decode_header(token).map_err(|_| bad())?;
    if header.alg != Algorithm::RS256 {
        return Err(bad());
    }
    let kid = header.kid.ok_or_else(bad)?;
    let key = state
        .keys
        .find(&kid)
        .await
        .map_err(|e| OAuthError::unavailable(e.to_string()))?
        .ok_or_else(bad)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_required_spec_claims(&["iss", "aud"]);
    validation.validate_exp = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<HintClaims>(token, &key.decoding, &validation)
        .map(|d| d.claims)
        .map_err(|_| bad())
}

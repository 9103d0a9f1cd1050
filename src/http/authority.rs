//! Resolving the authority a URL names: `{tenant}` (GUID, name, or Entra's
//! `common`/`organizations`/`consumers`) and an optional B2C policy, from the path or
//! from `?p=`. Tenant and policy match case-insensitively.

use actix_web::HttpRequest;
use serde::Deserialize;

use crate::oauth::authority::{Authority, Flavour};
use crate::oauth::{OAuthError, Reason};
use crate::state::AppState;

/// `?p={policy}` on Entra-shaped paths selects a B2C user flow.
#[derive(Debug, Default, Deserialize)]
pub struct PolicyQuery {
    pub p: Option<String>,
}

const ALIASES: [&str; 3] = ["common", "organizations", "consumers"];

/// The public base URL of this request: the configured public URL; else, from a
/// trusted proxy, `X-Forwarded-Proto://X-Forwarded-Host`; else the default.
pub fn base_url(state: &AppState, req: &HttpRequest) -> String {
    if state.settings.public_url.is_some() || state.settings.trusted_proxies.is_empty() {
        return state.public_url.clone();
    }
    let trusted = req.peer_addr().is_some_and(|peer| {
        state
            .settings
            .trusted_proxies
            .iter()
            .any(|r| r.contains(peer.ip()))
    });
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    match (trusted, header("x-forwarded-host")) {
        (true, Some(host)) if valid_host(host) => {
            let proto = match header("x-forwarded-proto") {
                Some(p) if p.eq_ignore_ascii_case("https") => "https",
                Some(p) if p.eq_ignore_ascii_case("http") => "http",
                _ => "http",
            };
            format!("{proto}://{}", host.to_ascii_lowercase())
        }
        _ => state.public_url.clone(),
    }
}

/// A host[:port] with nothing that could break out of a URL.
fn valid_host(host: &str) -> bool {
    host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

pub async fn resolve(
    state: &AppState,
    base: String,
    tenant: &str,
    policy: Option<&str>,
) -> Result<Authority, OAuthError> {
    let lower = tenant.to_ascii_lowercase();
    let alias = ALIASES.iter().copied().find(|a| *a == lower);
    let info = match alias {
        Some(_) if policy.is_none() => Some(state.directory.default_tenant().await?),
        _ => state.directory.tenant(tenant).await?,
    };
    let info = info.ok_or_else(|| {
        OAuthError::invalid_request(
            Reason::TenantNotFound,
            format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
        )
    })?;
    let flavour = match policy.filter(|p| !p.is_empty()) {
        None => Flavour::Entra,
        Some(p) => {
            if !info.has_policy(p) {
                return Err(OAuthError::invalid_request(
                    Reason::PolicyNotFound,
                    format!("The policy '{p}' does not exist in tenant '{}'.", info.name),
                ));
            }
            Flavour::B2c {
                policy: p.to_ascii_lowercase(),
            }
        }
    };
    Ok(Authority {
        tenant: info,
        flavour,
        alias,
        base,
    })
}

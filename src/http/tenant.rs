//! The one tenant resolver. A URL names `{tenant}` (GUID, name, or Entra's
//! `common`/`organizations`/`consumers`) and an optional B2C policy, in the path or
//! in `?p=`; together with the base URL that is the request's `Authority`. Tenant
//! and policy match case-insensitively. Each caller answers a failure in its own
//! shape: JSON in the endpoint's flavour, or an error page.

use std::sync::Arc;

use actix_web::HttpRequest;
use serde::Deserialize;

use super::params;
use crate::directory::service::TenantInfo;
use crate::oauth::authority::{Authority, Flavour};
use crate::oauth::{OAuthError, Reason};
use crate::state::AppState;

/// `?p={policy}` on Entra-shaped paths selects a B2C user flow.
#[derive(Debug, Default, Deserialize)]
pub struct PolicyQuery {
    pub p: Option<String>,
}

impl PolicyQuery {
    /// `?p=` of a request whose query string also carries other parameters.
    pub fn of(req: &HttpRequest) -> Result<Option<String>, OAuthError> {
        params::parse::<PolicyQuery>(req.query_string().as_bytes()).map(|q| q.p)
    }
}

const ALIASES: [&str; 3] = ["common", "organizations", "consumers"];

/// The authority a URL names. The aliases stand for the default tenant, except
/// with a policy (B2C has no aliases).
pub async fn resolve(
    state: &AppState,
    base: String,
    tenant: &str,
    policy: Option<&str>,
) -> Result<Authority, OAuthError> {
    let lower = tenant.to_ascii_lowercase();
    let alias = ALIASES.iter().copied().find(|a| *a == lower);
    let info = match alias {
        Some(_) if policy.is_none() => state.directory.default_tenant().await?,
        _ => find(state, tenant).await?,
    };
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

/// The tenant a request names outside its path (the sign-in forms' hidden `tenant`
/// field, an ID token hint's `tid`), or the default tenant when it names none.
pub async fn named_or_default(
    state: &AppState,
    tenant: Option<&str>,
) -> Result<Arc<TenantInfo>, OAuthError> {
    match tenant.filter(|t| !t.is_empty()) {
        Some(t) => find(state, t).await,
        None => Ok(state.directory.default_tenant().await?),
    }
}

async fn find(state: &AppState, tenant: &str) -> Result<Arc<TenantInfo>, OAuthError> {
    state.directory.tenant(tenant).await?.ok_or_else(|| {
        OAuthError::invalid_request(
            Reason::TenantNotFound,
            format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
        )
    })
}

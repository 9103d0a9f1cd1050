//! Resolving the authority a URL names: `{tenant}` (GUID, name, or Entra's
//! `common`/`organizations`/`consumers`) and an optional B2C policy, from the path or
//! from `?p=`. Tenant and policy match case-insensitively.

use std::sync::Arc;

use serde::Deserialize;

use crate::directory::service::TenantInfo;
use crate::oauth::authority::{Authority, Flavour};
use crate::oauth::{OAuthError, Reason};
use crate::state::AppState;

/// `?p={policy}` on Entra-shaped paths selects a B2C user flow.
#[derive(Debug, Default, Deserialize)]
pub struct PolicyQuery {
    pub p: Option<String>,
}

const ALIASES: [&str; 3] = ["common", "organizations", "consumers"];

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

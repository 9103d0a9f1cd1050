//! Resource owner password credentials (RFC 6749 §4.3), as Entra's ROPC flow.

use super::context::{GrantContext, user_scope_or_default};
use crate::oauth::issue::{Issued, RefreshPlan};
use crate::oauth::scope::RequestedScope;
use crate::oauth::sign_in;
use crate::oauth::token_request::{PasswordParams, required};
use crate::oauth::{OAuthError, Reason};

pub(super) async fn grant(
    cx: &GrantContext<'_>,
    params: PasswordParams,
    requested: RequestedScope,
) -> Result<Issued, OAuthError> {
    let authority = cx.authority;
    if matches!(authority.alias, Some("common" | "consumers")) {
        return Err(OAuthError::invalid_request(
            Reason::TenantNotFound,
            "The password grant needs a tenant-specific authority, not /common or /consumers.",
        ));
    }
    let username = required(params.username, "username")?;
    let password = {
        use secrecy::ExposeSecret;
        params
            .password
            .filter(|p| !p.expose_secret().is_empty())
            .ok_or_else(|| OAuthError::missing("password"))?
    };
    let scope = user_scope_or_default(requested)?;
    let audience = cx.audience_for(&scope).await?;
    let source = sign_in::SignInSource {
        via: "password_grant",
        client_id: Some(&cx.client.client.client_id),
        request: cx.request,
    };
    let profile =
        sign_in::authenticate_user(cx.state, &authority.tenant.id, &username, password, &source)
            .await?;
    cx.user_tokens(
        audience,
        &profile,
        scope,
        RefreshPlan::NewFamily,
        Default::default(),
    )
    .await
}

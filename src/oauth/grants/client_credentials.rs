//! Client credentials (RFC 6749 §4.4): an app-only token, requested the Entra way as
//! `{resource}/.default`.

use super::context::{GrantContext, require_secret};
use crate::oauth::OAuthError;
use crate::oauth::issue::{self, Issued};
use crate::oauth::scope::RequestedScope;

pub(super) async fn grant(
    cx: &GrantContext<'_>,
    requested: RequestedScope,
) -> Result<Issued, OAuthError> {
    require_secret(cx, "client_credentials")?;
    if requested.openid || requested.offline_access || !requested.permissions.is_empty() {
        return Err(OAuthError::invalid_scope(
            "client_credentials takes one scope of the form {resource}/.default.",
        ));
    }
    let audience = cx.audience_for(&requested).await?;
    issue::app_token(cx.state, cx.authority, cx.client, audience, &requested).await
}

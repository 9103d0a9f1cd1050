//! What the grants share: the request's context once the client is known, and the
//! checks several grants make.

use crate::audit::RequestContext;
use crate::db::clients::Client;
use crate::graph::permissions as graph;
use crate::oauth::OAuthError;
use crate::oauth::authority::Authority;
use crate::oauth::client_auth::{AuthenticatedClient, ClientAuthMethod};
use crate::oauth::issue::{self, IdTokenContext, Issued, RefreshPlan, UserTokens};
use crate::oauth::scope::{self, RequestedScope};
use crate::oauth::sign_in::UserProfile;
use crate::state::AppState;

/// What every grant works with once the client is known.
pub(crate) struct GrantContext<'a> {
    pub state: &'a AppState,
    pub authority: &'a Authority,
    pub client: &'a AuthenticatedClient,
    /// The caller asked for MSAL's `client_info`.
    pub client_info: bool,
    /// Where the request came from, for audit events.
    pub request: &'a RequestContext,
}

impl GrantContext<'_> {
    /// The audience of a token for this scope (see [`resolve_audience`]).
    pub(crate) async fn audience_for(&self, scope: &RequestedScope) -> Result<String, OAuthError> {
        resolve_audience(
            self.state,
            &self.authority.tenant.id,
            &self.client.client,
            scope,
        )
        .await
    }

    /// A user's token response from this client through this authority.
    pub(crate) async fn user_tokens(
        &self,
        audience: String,
        profile: &UserProfile,
        mut scope: RequestedScope,
        refresh: RefreshPlan,
        context: IdTokenContext,
    ) -> Result<Issued, OAuthError> {
        // A user's `.default` for Graph: the permission every Entra app is registered
        // with, `User.Read` (sign in and read the user's profile).
        if scope.resource.as_deref().is_some_and(graph::is_graph) && scope.permissions.is_empty() {
            scope.permissions.push("User.Read".to_owned());
        }
        issue::user_tokens(
            self.state,
            UserTokens {
                authority: self.authority,
                client: self.client,
                audience,
                profile,
                scope,
                refresh,
                client_info: self.client_info,
                context,
            },
        )
        .await
    }
}

/// The audience a user token is for: the requested resource, else the client itself.
pub(crate) async fn resolve_audience(
    state: &AppState,
    tenant_id: &str,
    client: &Client,
    requested: &RequestedScope,
) -> Result<String, OAuthError> {
    let Some(resource) = &requested.resource else {
        return Ok(client.client_id.clone());
    };
    if resource == &client.client_id {
        return Ok(resource.clone());
    }
    // Graph, a resource of every tenant: `aud` as the scope named it (its URI or its
    // app id), as Entra issues it.
    if graph::is_graph(resource) {
        return Ok(if resource.eq_ignore_ascii_case(graph::GRAPH_URI) {
            graph::GRAPH_URI.to_owned()
        } else {
            graph::GRAPH_APP_ID.to_owned()
        });
    }
    let audiences = state.directory.audiences(tenant_id).await?;
    if audiences.contains(resource) {
        Ok(resource.clone())
    } else {
        // Entra's AADSTS500011; B2C's AADB2C90117.
        Err(OAuthError::resource_not_found(format!(
            "The resource principal named {resource} was not found in the tenant named {tenant_id}: it is not an application registered in this tenant."
        )))
    }
}

/// The scope a user grant issues: the request's, or `openid profile` when it named
/// none.
pub(crate) fn user_scope_or_default(
    requested: RequestedScope,
) -> Result<RequestedScope, OAuthError> {
    if requested.tokens.is_empty() {
        scope::parse("openid profile")
    } else {
        Ok(requested)
    }
}

/// The grants that only a confidential client may use.
pub(crate) fn require_secret(cx: &GrantContext<'_>, what: &str) -> Result<(), OAuthError> {
    if cx.client.method == ClientAuthMethod::Secret {
        Ok(())
    } else {
        Err(OAuthError::unauthorized_client(format!(
            "Only confidential clients may use {what}."
        )))
    }
}

//! `/auth/login`: an email and password for a token to the tenant's default client
//! (or the one named), with that client's own rules (`client_auth::login_client`).

use secrecy::SecretString;

use crate::audit::RequestContext;
use crate::oauth::OAuthError;
use crate::oauth::authority::Authority;
use crate::oauth::client_auth;
use crate::oauth::issue::{self, Issued, RefreshPlan, UserTokens};
use crate::oauth::scope;
use crate::oauth::sign_in;
use crate::state::AppState;

/// The credentials `/auth/login` takes.
#[derive(Debug)]
pub struct LoginRequest {
    pub email: String,
    pub password: SecretString,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

pub async fn login(
    state: &AppState,
    authority: &Authority,
    request: LoginRequest,
    context: &RequestContext,
) -> Result<Issued, OAuthError> {
    let claimed_client = request.client_id.clone();
    let result = issue(state, authority, request, context).await;
    let claimed = claimed_client.as_deref();
    super::audit::record(state, authority, "auth_login", claimed, context, &result).await;
    result
}

async fn issue(
    state: &AppState,
    authority: &Authority,
    request: LoginRequest,
    context: &RequestContext,
) -> Result<Issued, OAuthError> {
    let tenant = &authority.tenant;
    let client =
        client_auth::login_client(state, tenant, request.client_id, request.client_secret).await?;
    let source = sign_in::SignInSource {
        via: "auth_login",
        client_id: Some(&client.client.client_id),
        request: context,
    };
    let profile =
        sign_in::authenticate_user(state, &tenant.id, &request.email, request.password, &source)
            .await?;
    let audience = client.client.client_id.clone();
    issue::user_tokens(
        state,
        UserTokens {
            authority,
            client: &client,
            audience,
            profile: &profile,
            scope: scope::parse("profile")?,
            refresh: RefreshPlan::NewFamily,
            client_info: false,
            context: Default::default(),
        },
    )
    .await
}

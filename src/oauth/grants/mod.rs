//! The token endpoint (RFC 6749 §3.2): one dispatcher, one file per grant.
//!
//! Every grant runs the same steps first — the grant type is served by this
//! authority, the scope parses, the client authenticates (or, for a password form on
//! `/auth/token` that names none, is the tenant's default client) and is registered
//! for the grant — then its own checks, then `issue` builds the response. An API key
//! exchanged for a token (`api_key`) is the one grant that needs no client.

pub mod api_key;
mod audit;
mod authorization_code;
mod client_credentials;
pub(crate) mod context;
pub mod login;
mod on_behalf_of;
mod password;
mod refresh_token;
mod token_exchange;

use self::context::GrantContext;
use super::OAuthError;
use super::authority::{Authority, Flavour};
use super::client_auth;
use super::grant_type::GrantType;
use super::issue::Issued;
use super::scope;
use super::token_request::{GrantParams, TokenRequest, unsupported};
use crate::audit::RequestContext;
use crate::state::AppState;

#[tracing::instrument(skip_all, fields(grant_type = %request.grant.grant_type(), client_id))]
pub async fn token(
    state: &AppState,
    authority: &Authority,
    request: TokenRequest,
    context: &RequestContext,
) -> Result<Issued, OAuthError> {
    let grant_type = request.grant.grant_type();
    let credentials = &request.credentials;
    let claimed_client = credentials
        .basic
        .as_ref()
        .map(|b| b.client_id.clone())
        .or_else(|| credentials.client_id.clone());
    let result = dispatch(state, authority, request, context).await;
    let grant = grant_type.as_str();
    audit::record(
        state,
        authority,
        grant,
        claimed_client.as_deref(),
        context,
        &result,
    )
    .await;
    result
}

async fn dispatch(
    state: &AppState,
    authority: &Authority,
    request: TokenRequest,
    context: &RequestContext,
) -> Result<Issued, OAuthError> {
    let grant_type = request.grant.grant_type();
    // B2C has no on-behalf-of flow and no token exchange.
    if matches!(authority.flavour, Flavour::B2c { .. }) && !grant_type.offered_by_b2c() {
        return Err(unsupported(grant_type.as_str()));
    }
    let requested = scope::parse(&request.scope)?;
    let request = match request.grant {
        // An API key authenticates its caller itself: exchanged before any client is.
        GrantParams::TokenExchange(p) if api_key::is_api_key_exchange(&p) => {
            return api_key::grant(state, authority, p, request.credentials, requested).await;
        }
        grant => TokenRequest { grant, ..request },
    };
    let client = if authority.flavour == Flavour::Short
        && grant_type == GrantType::Password
        && !request.credentials.names_client()
    {
        // A password form naming no client (FastAPI, Swagger UI, scripts) signs in with
        // the tenant's default client, as `/auth/login` does; only on `/auth/token`:
        // Entra's paths require a client.
        let secret = request.credentials.client_secret;
        client_auth::login_client(state, &authority.tenant, None, secret).await?
    } else {
        client_auth::authenticate(state, &authority.tenant, request.credentials).await?
    };
    tracing::Span::current().record("client_id", client.client.client_id.as_str());
    if !client.client.allows(grant_type) {
        return Err(OAuthError::unauthorized_client(format!(
            "The client is not allowed to use the {grant_type} grant."
        )));
    }
    // Only single-page apps redeem tokens cross-origin, and only codes and refresh
    // tokens (checked by those grants, which know whether theirs is a SPA's) — on the
    // Entra and B2C paths, as Azure does; the short `/auth/token` does not check.
    let short_path;
    let context = if matches!(authority.flavour, Flavour::Short) {
        short_path = RequestContext {
            cross_origin: None,
            ..context.clone()
        };
        &short_path
    } else {
        context
    };
    if let Some(origin) = &context.cross_origin
        && !matches!(
            request.grant,
            GrantParams::AuthorizationCode(_) | GrantParams::RefreshToken(_)
        )
    {
        return Err(OAuthError::cross_origin_not_spa(origin));
    }
    let cx = GrantContext {
        state,
        authority,
        client: &client,
        client_info: request.client_info,
        request: context,
    };
    let mut issued = match request.grant {
        GrantParams::Password(p) => password::grant(&cx, p, requested).await?,
        GrantParams::ClientCredentials => client_credentials::grant(&cx, requested).await?,
        GrantParams::RefreshToken(p) => refresh_token::grant(&cx, p, requested).await?,
        GrantParams::AuthorizationCode(p) => authorization_code::grant(&cx, p).await?,
        GrantParams::OnBehalfOf(p) => on_behalf_of::grant(&cx, p, requested).await?,
        GrantParams::TokenExchange(p) => token_exchange::grant(&cx, p, requested).await?,
    };
    if issued.claims.idtyp.as_deref() == Some("app") {
        issued.response.client_info = None;
    }
    Ok(issued)
}

//! The audit event of each token response: `token.issued` with the grant, client,
//! user, scope and audience (never a token), or `token.refused` with the reason.

use crate::audit::{AuditEvent, RequestContext, kind};
use crate::oauth::authority::Authority;
use crate::oauth::issue::Issued;
use crate::oauth::{OAuthError, Reason};
use crate::state::AppState;

/// Records how a token request ended. A refusal on the user's credentials is left
/// out: the sign-in already wrote it (`sign_in.password`); so is an overloaded server.
pub(crate) async fn record(
    state: &AppState,
    authority: &Authority,
    grant: &str,
    claimed_client: Option<&str>,
    request: &RequestContext,
    result: &Result<Issued, OAuthError>,
) {
    let mut event = match result {
        Ok(issued) => {
            let claims = &issued.claims;
            let mut event = AuditEvent::token(kind::TOKEN_ISSUED)
                .client(&claims.azp)
                .detail("scope", issued.response.scope.as_str())
                .detail("audience", claims.aud.as_str())
                .detail("jti", claims.jti.as_str())
                .detail("refresh_issued", issued.response.refresh_token.is_some())
                .detail("id_issued", issued.response.id_token.is_some());
            if claims.idtyp.as_deref() != Some("app") {
                event = event.user(&claims.oid);
            }
            event
        }
        Err(e) => match e.reason {
            Reason::InvalidCredentials
            | Reason::UserDisabled
            | Reason::AccountLocked
            | Reason::Unavailable => return,
            reason => {
                let mut event = AuditEvent::token(kind::TOKEN_REFUSED).failure(reason.audit_name());
                if let Some(client) = claimed_client.filter(|c| !c.is_empty()) {
                    event = event.client(client);
                }
                event.detail("error", e.code.as_str())
            }
        },
    };
    event = event
        .request(request)
        .tenant(&authority.tenant.id)
        .detail("grant_type", grant);
    if let Some(policy) = authority.policy() {
        event = event.detail("policy", policy);
    }
    state.audit.record(event).await;
}

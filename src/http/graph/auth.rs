//! The caller behind a Graph request: its access token, verified as `/auth/verify`
//! verifies tokens, and for Graph's audience.

use actix_web::HttpRequest;

use super::error::GraphError;
use crate::graph::permissions::is_graph;
use crate::graph::roles::writes_directory;
use crate::http::base_url::base_url;
use crate::http::bearer::bearer_token;
use crate::http::error::BearerError;
use crate::oauth::claims::AccessTokenClaims;
use crate::oauth::verify::{self, VerifyError};
use crate::state::AppState;

/// Who calls Graph: an application (app-only token, permissions in `roles`) or a
/// signed-in user (delegated token, permissions in `scp`).
pub(crate) struct Caller {
    pub claims: AccessTokenClaims,
    pub tenant_id: String,
    /// The tenant's domain name: the issuer of its users' local identities.
    pub tenant_name: String,
}

impl Caller {
    pub fn app_only(&self) -> bool {
        self.claims.idtyp.as_deref() == Some("app")
    }

    /// Holds one of these application permissions (app-only tokens).
    pub fn has_role(&self, any: &[&str]) -> bool {
        self.app_only() && self.claims.roles.iter().any(|r| any.contains(&r.as_str()))
    }

    /// Holds one of these delegated permissions (a user's token).
    pub fn has_scope(&self, any: &[&str]) -> bool {
        !self.app_only()
            && self
                .claims
                .scp
                .as_deref()
                .unwrap_or_default()
                .split(' ')
                .any(|s| any.contains(&s))
    }

    /// The audit log's actor: the application, or the signed-in user.
    pub fn actor(&self) -> &str {
        if self.app_only() {
            &self.claims.azp
        } else {
            &self.claims.oid
        }
    }

    /// Holds one of these application permissions (an application), or one of these
    /// delegated permissions (a signed-in user).
    pub fn may(&self, app: &[&str], delegated: &[&str]) -> bool {
        self.has_role(app) || self.has_scope(delegated)
    }

    /// The signed-in user's directory roles (template ids), read from the directory
    /// now: a role withdrawn counts at once, not when the token runs out. None for an
    /// application.
    pub async fn directory_roles(&self, state: &AppState) -> Result<Vec<String>, GraphError> {
        if self.app_only() {
            return Ok(Vec::new());
        }
        let oid = self.claims.oid.clone();
        Ok(state
            .db(move |c| crate::db::directory_roles::of_user(c, &oid))
            .await?)
    }

    /// Refuses a directory write (403) unless an application holds one of `app`, or a
    /// signed-in user's token has one of `delegated` and the user a directory role
    /// that writes the directory, as Graph decides delegated writes. Returns the
    /// caller's directory roles (none for an application).
    pub async fn require_write(
        &self,
        state: &AppState,
        app: &[&str],
        delegated: &[&str],
    ) -> Result<Vec<String>, GraphError> {
        if self.app_only() {
            self.require(self.has_role(app))?;
            return Ok(Vec::new());
        }
        self.require(self.has_scope(delegated))?;
        let held = self.directory_roles(state).await?;
        self.require(writes_directory(&held))?;
        Ok(held)
    }

    /// Refuses with 403 unless `allowed`.
    pub fn require(&self, allowed: bool) -> Result<(), GraphError> {
        if allowed {
            Ok(())
        } else {
            Err(GraphError::denied())
        }
    }
}

/// The caller behind the request's Graph access token.
pub(crate) async fn authenticate(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Caller, GraphError> {
    let token = bearer_token(req).map_err(|e| match e {
        BearerError::Missing => GraphError::unauthenticated("Access token is empty."),
        _ => GraphError::unauthenticated(
            "Invalid authentication token: the Authorization header must be 'Bearer <token>'.",
        ),
    })?;
    let verified = verify::verify_access_token(state, &base_url(state, req), token)
        .await
        .map_err(|e| match e {
            VerifyError::Invalid(msg) => {
                GraphError::unauthenticated(format!("Access token validation failure. {msg}"))
            }
            VerifyError::Unavailable(msg) => {
                tracing::error!(error = %msg, "graph token check unavailable");
                GraphError::unavailable()
            }
        })?;
    // A trusted issuer's token (pass-through verification) never manages this
    // directory, whatever audience its entry names: its roles and scopes are another
    // tenant's.
    if verified.upstream.is_some() {
        return Err(GraphError::unauthenticated(
            "Access token validation failure. Tokens of a trusted external issuer are not accepted here.",
        ));
    }
    if !is_graph(&verified.claims.aud) {
        return Err(GraphError::unauthenticated(
            "Access token validation failure. Invalid audience.",
        ));
    }
    Ok(Caller {
        tenant_id: verified.tenant.id.clone(),
        tenant_name: verified.tenant.name.clone(),
        claims: verified.claims.clone(),
    })
}

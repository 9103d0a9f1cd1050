//! B2C-style self-service flows around the login page: sign-up (behind a per-tenant
//! switch, with B2C's password rules) and the legacy "forgot password" / "cancel"
//! answers, which B2C returns to the application as errors.

use secrecy::{ExposeSecret, SecretString};

use super::OAuthError;
use super::sign_in::{self, UserProfile};
use crate::audit::{kind, reason};
use crate::db;
use crate::directory::service::TenantInfo;
use crate::directory::{self, DirectoryError, users::NewUser};
use crate::state::AppState;

/// B2C: the user chose "Forgot your password?" in a sign-up-or-sign-in flow; the
/// application is expected to start its password-reset flow.
pub const FORGOT_PASSWORD: &str = "AADB2C90118: The user has forgotten their password.";
/// B2C: the user cancelled a self-asserted page (sign-up).
pub const CANCELLED: &str =
    "AADB2C90091: The user has cancelled entering self-asserted information.";

#[derive(Debug, Default, Clone, Copy)]
pub struct UserFlows {
    pub sign_up: bool,
    pub forgot_password: bool,
    pub logout_requires_id_token: bool,
}

pub async fn flows(state: &AppState, tenant_id: &str) -> Result<UserFlows, OAuthError> {
    let tid = tenant_id.to_owned();
    let row = state.db(move |c| db::user_flows::find(c, &tid)).await?;
    Ok(row
        .map(|r| UserFlows {
            sign_up: r.sign_up != 0,
            forgot_password: r.forgot_password != 0,
            logout_requires_id_token: r.logout_requires_id_token != 0,
        })
        .unwrap_or_default())
}

/// B2C's "strong" password policy: 8 to 64 characters, three of lower case, upper
/// case, digits and symbols.
pub fn check_password(password: &str) -> Result<(), &'static str> {
    let length = password.chars().count();
    if !(8..=64).contains(&length) {
        return Err("The password must be between 8 and 64 characters.");
    }
    let kinds = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if kinds.iter().filter(|k| **k).count() < 3 {
        return Err(
            "The password must have at least 3 of: a lower-case letter, an upper-case letter, a digit, a symbol.",
        );
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum SignUpError {
    /// Something the user can fix; the message is shown on the form.
    #[error("{0}")]
    Rejected(String),
    #[error(transparent)]
    Failed(#[from] OAuthError),
}

pub struct SignUp {
    pub email: String,
    pub display_name: Option<String>,
    pub password: SecretString,
}

/// Creates the user (password hashed on the bounded hasher threads) and returns
/// them as a sign-in would; writes a `sign_in.sign_up` audit event for the user
/// created or the form refused.
pub async fn sign_up(
    state: &AppState,
    tenant: &TenantInfo,
    form: SignUp,
    source: &sign_in::SignInSource<'_>,
) -> Result<UserProfile, SignUpError> {
    let event = source.event(kind::SIGN_IN_SIGN_UP, &tenant.id, &form.email);
    let result = create(state, tenant, form).await;
    match &result {
        Ok(profile) => state.audit.record(event.user(&profile.user.id)).await,
        Err(SignUpError::Rejected(message)) => {
            let event = event
                .failure(reason::REJECTED)
                .detail("message", message.as_str());
            state.audit.record(event).await;
        }
        Err(SignUpError::Failed(_)) => {}
    }
    result
}

async fn create(
    state: &AppState,
    tenant: &TenantInfo,
    form: SignUp,
) -> Result<UserProfile, SignUpError> {
    if !flows(state, &tenant.id).await?.sign_up {
        return Err(SignUpError::Rejected(
            "Sign-up is not enabled for this tenant.".into(),
        ));
    }
    let email = form.email.trim().to_owned();
    directory::validate_email(&email)
        .map_err(|_| SignUpError::Rejected("Enter a valid email address.".into()))?;
    check_password(form.password.expose_secret()).map_err(|m| SignUpError::Rejected(m.into()))?;
    let hash = state
        .hasher
        .hash(form.password)
        .await
        .map_err(OAuthError::from)?;
    let tid = tenant.id.clone();
    let hasher = state.hasher.clone();
    let now = state.clock.now();
    let new = NewUser {
        email: Some(email),
        password_hash: Some(hash),
        display_name: form
            .display_name
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
        ..Default::default()
    };
    let created = state
        .db(move |c| {
            let tenant = match directory::tenant(c, &tid) {
                Ok(t) => t,
                Err(e) => return Ok(Err(e)),
            };
            // No password in `new`: nothing is hashed on this thread.
            Ok(
                match directory::users::create_user(c, &hasher, &tenant, &new, now) {
                    Ok(user) => sign_in::load_profile(c, user).map_err(DirectoryError::from),
                    Err(e) => Err(e),
                },
            )
        })
        .await
        .map_err(OAuthError::from)?;
    match created {
        Ok(profile) => Ok(profile),
        Err(DirectoryError::Conflict(_)) => Err(SignUpError::Rejected(
            "A user with this email address already exists. Sign in instead.".into(),
        )),
        Err(DirectoryError::Invalid(m)) => Err(SignUpError::Rejected(m)),
        Err(e) => {
            tracing::error!(error = %e, "sign-up failed");
            Err(OAuthError::unavailable("The account could not be created; try again.").into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_password;

    #[test]
    fn password_rules_follow_b2c_strong_policy() {
        assert!(check_password("Abcdefg1").is_ok());
        assert!(check_password("abcdefg1!").is_ok());
        assert!(check_password("Abc1!").is_err(), "too short");
        assert!(check_password("abcdefgh1").is_err(), "two kinds");
        assert!(
            check_password(&format!("Aa1{}", "x".repeat(62))).is_err(),
            "too long"
        );
    }
}

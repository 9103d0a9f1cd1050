//! Who a token is for: a user of the tenant who proved their password, or one found
//! again by id (refresh, code redemption, on-behalf-of), with the groups and roles
//! tokens carry. Disabled users are refused here, once for every grant.

use secrecy::SecretString;

use super::{OAuthError, Reason, lockout};
use crate::audit::{self, AuditEvent, RequestContext, kind, reason};
use crate::crypto::password::PasswordCheck;
use crate::db::users::User;
use crate::db::{self, DbConnection, DbResult};
use crate::state::AppState;

/// A user with what tokens say about them.
#[derive(Debug, Clone)]
pub struct UserProfile {
    pub user: User,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
    /// Entra directory roles (template ids): the `wids` claim.
    pub directory_roles: Vec<String>,
    /// App roles assigned over Graph, as (resource client id, role value): added to
    /// `roles` in tokens for that resource.
    pub assigned_roles: Vec<(String, String)>,
}

/// Adds the user's groups, roles, directory roles and assigned app roles.
pub fn load_profile(conn: &mut DbConnection, user: User) -> DbResult<UserProfile> {
    let roles = user.role_list()?;
    let lists = db::profile::memberships(conn, &user.id)?;
    Ok(UserProfile {
        user,
        groups: lists.groups,
        roles,
        directory_roles: lists.directory_roles,
        assigned_roles: lists.assigned_roles,
    })
}

/// The user with this id, if they exist and are enabled, with groups and roles.
pub fn active_profile(conn: &mut DbConnection, user_id: &str) -> DbResult<Option<UserProfile>> {
    let user = db::users::find(conn, user_id)?;
    profile_if_active(conn, user)
}

/// [`active_profile`] of a user already read (`None`: the user no longer exists).
pub fn profile_if_active(
    conn: &mut DbConnection,
    user: Option<User>,
) -> DbResult<Option<UserProfile>> {
    match user {
        Some(user) if !user.is_disabled() => Ok(Some(load_profile(conn, user)?)),
        _ => Ok(None),
    }
}

const BAD_CREDENTIALS: &str = "The username or password is incorrect.";

/// Where a password sign-in comes from, for its audit event.
#[derive(Debug, Clone, Copy)]
pub struct SignInSource<'a> {
    /// `password_grant`, `auth_login` or `login_form`.
    pub via: &'static str,
    /// The application signed in to, when known.
    pub client_id: Option<&'a str>,
    pub request: &'a RequestContext,
}

impl SignInSource<'_> {
    /// A sign-in event of this kind from this source, naming what was typed to sign in.
    pub fn event(&self, kind: &'static str, tenant_id: &str, sign_in_name: &str) -> AuditEvent {
        let mut event = AuditEvent::sign_in(kind)
            .request(self.request)
            .tenant(tenant_id)
            .detail("via", self.via)
            .detail("sign_in_name", audit::bounded_text(sign_in_name));
        if let Some(client) = self.client_id {
            event = event.client(client);
        }
        event
    }
}

/// Checks a sign-in name (user name or email address) and password in the tenant:
/// the shared core of the password grant, `/auth/login` and the login page.
///
/// Every failure — unknown name, wrong password, locked or disabled account — runs a
/// hash check (the stored hash, or the dummy for unknown names) and then waits until
/// the slowest kind of check would have ended ([`crate::crypto::timing`]), so neither
/// existence, nor an imported hash, nor a lock shows in the time it takes. A locked
/// account answers the same to a right and a wrong password and keeps its counters.
///
/// Writes a `sign_in.password` audit event for each answer on the credentials (not for
/// an overloaded hasher or database), and `account.locked` when a failure locks.
///
/// A user whose password is temporary (`force_change_password`) is refused with
/// `AADSTS50055` once the password is shown to be right: the sign-in form then asks
/// for a new one ([`change_expired_password`]).
pub async fn authenticate_user(
    state: &AppState,
    tenant_id: &str,
    sign_in_name: &str,
    password: SecretString,
    source: &SignInSource<'_>,
) -> Result<UserProfile, OAuthError> {
    let checked = check_credentials(state, tenant_id, sign_in_name, password, source).await?;
    if checked.user.must_change_password() {
        let event = source
            .event(kind::SIGN_IN_PASSWORD, tenant_id, sign_in_name)
            .user(&checked.user.id)
            .failure(reason::PASSWORD_EXPIRED);
        state.audit.record(event).await;
        return Err(password_expired());
    }
    signed_in(state, tenant_id, sign_in_name, source, checked).await
}

/// The error of a sign-in with a temporary password.
pub fn password_expired() -> OAuthError {
    OAuthError::invalid_grant(Reason::PasswordExpired, "The password is expired.")
}

/// Signs in a user whose password is temporary, with the new one they chose: the
/// current password is checked as at any sign-in, then the new one (already checked
/// against the password rules by the caller, and different) is stored and the demand
/// ends. A user whose password is not temporary is signed in as usual, unchanged.
pub async fn change_expired_password(
    state: &AppState,
    tenant_id: &str,
    sign_in_name: &str,
    current: SecretString,
    new: SecretString,
    source: &SignInSource<'_>,
) -> Result<UserProfile, OAuthError> {
    let checked = check_credentials(state, tenant_id, sign_in_name, current, source).await?;
    if checked.user.must_change_password() {
        let user_id = checked.user.id.clone();
        store_new_password(
            state,
            tenant_id,
            &user_id,
            new,
            source,
            "expired_password_change",
        )
        .await?;
    }
    signed_in(state, tenant_id, sign_in_name, source, checked).await
}

/// A signed-in user changes their password (Graph's `POST /me/changePassword`): the
/// current one is checked as at any sign-in (lockout, even timing), then the new one
/// (already checked against the password rules) is stored, which also ends any demand
/// for a new password.
pub async fn change_password(
    state: &AppState,
    tenant_id: &str,
    sign_in_name: &str,
    current: SecretString,
    new: SecretString,
    source: &SignInSource<'_>,
) -> Result<(), OAuthError> {
    let checked = check_credentials(state, tenant_id, sign_in_name, current, source).await?;
    if checked.failed_before {
        let id = checked.user.id.clone();
        state
            .db(move |c| db::lockout::clear_failures(c, &id))
            .await?;
    }
    store_new_password(state, tenant_id, &checked.user.id, new, source, source.via).await
}

/// Hashes and stores a password the user chose, and writes its audit event.
async fn store_new_password(
    state: &AppState,
    tenant_id: &str,
    user_id: &str,
    new: SecretString,
    source: &SignInSource<'_>,
    via: &str,
) -> Result<(), OAuthError> {
    let hash = state.hasher.hash(new).await?;
    let (id, now) = (user_id.to_owned(), state.clock.now());
    state
        .db(move |c| db::users::set_password_hash(c, &id, &hash, false, now))
        .await?;
    let event = AuditEvent::admin(kind::USER_PASSWORD_SET)
        .request(source.request)
        .tenant(tenant_id)
        .user(user_id)
        .actor(user_id)
        .detail("via", via.to_owned());
    state.audit.record(event).await;
    Ok(())
}

/// A user whose password was checked and found right, not locked, not disabled.
struct Checked {
    user: User,
    failed_before: bool,
    upgrade: Option<String>,
    stored: Option<String>,
}

/// The sign-in's end: counters cleared, the hash upgraded if due, the profile loaded,
/// the success written to the audit log.
async fn signed_in(
    state: &AppState,
    tenant_id: &str,
    sign_in_name: &str,
    source: &SignInSource<'_>,
    checked: Checked,
) -> Result<UserProfile, OAuthError> {
    let event = source
        .event(kind::SIGN_IN_PASSWORD, tenant_id, sign_in_name)
        .user(&checked.user.id);
    let Checked {
        user,
        failed_before,
        upgrade,
        stored,
    } = checked;
    let profile = state
        .db(move |c| {
            if failed_before {
                db::lockout::clear_failures(c, &user.id)?;
            }
            if let (Some(new_hash), Some(old_hash)) = (upgrade, stored) {
                db::users::upgrade_password_hash(c, &user.id, &old_hash, &new_hash)?;
            }
            load_profile(c, user)
        })
        .await
        .map_err(OAuthError::from)?;
    state.audit.record(event).await;
    Ok(profile)
}

/// Checks the password: every failure is padded and audited here; a success is
/// returned for the caller to finish.
async fn check_credentials(
    state: &AppState,
    tenant_id: &str,
    sign_in_name: &str,
    password: SecretString,
    source: &SignInSource<'_>,
) -> Result<Checked, OAuthError> {
    let tid = tenant_id.to_owned();
    let lookup = sign_in_name.to_owned();
    let found = state
        .db(move |c| {
            let Some(user) = db::users::find_by_sign_in_name(c, &tid, &lookup)? else {
                return Ok(None);
            };
            let lockout = db::lockout::state(c, &user.id)?.unwrap_or_default();
            Ok(Some((user, lockout)))
        })
        .await?;
    let stored = found.as_ref().and_then(|(u, _)| u.password_hash.clone());
    let verified = state.hasher.verify_timed(password, stored.clone()).await?;
    // Wall time, not the injected clock: this is about how long the answer takes.
    let deadline = tokio::time::Instant::now() + state.hasher.timings().padding(verified.took);
    let now = state.clock.now();
    let event = source.event(kind::SIGN_IN_PASSWORD, tenant_id, sign_in_name);
    let Some((user, lockout)) = found else {
        state.metrics.sign_in_failed(reason::UNKNOWN_USER);
        state
            .audit
            .record(event.failure(reason::UNKNOWN_USER))
            .await;
        return failed(deadline, bad_credentials()).await;
    };
    let event = event.user(&user.id);
    if lockout.is_locked(now) {
        state.metrics.sign_in_failed(reason::LOCKED);
        state.audit.record(event.failure(reason::LOCKED)).await;
        return failed(deadline, lockout::locked()).await;
    }
    let upgrade = match verified.check {
        PasswordCheck::Valid { upgrade } => upgrade,
        PasswordCheck::Invalid => {
            let policy = state.settings.lockout;
            let id = user.id.clone();
            let counted = state
                .db(move |c| lockout::count_failure(c, &policy, &id, now))
                .await;
            let why = if user.password_hash.is_none() {
                reason::NO_PASSWORD
            } else {
                reason::INVALID_PASSWORD
            };
            state.metrics.sign_in_failed(why);
            state.audit.record(event.clone().failure(why)).await;
            let error = match counted {
                Ok(true) => {
                    let locked = AuditEvent::lockout(kind::ACCOUNT_LOCKED)
                        .request(source.request)
                        .tenant(tenant_id)
                        .user(&user.id);
                    state.metrics.account_locked();
                    state.audit.record(locked).await;
                    lockout::locked()
                }
                Ok(false) => bad_credentials(),
                Err(e) => e.into(),
            };
            return failed(deadline, error).await;
        }
    };
    if user.is_disabled() {
        state.metrics.sign_in_failed(reason::DISABLED);
        state.audit.record(event.failure(reason::DISABLED)).await;
        let error =
            OAuthError::invalid_grant(Reason::UserDisabled, "The user account is disabled.");
        return failed(deadline, error).await;
    }
    Ok(Checked {
        user,
        failed_before: lockout.failed_sign_ins > 0,
        upgrade,
        stored,
    })
}

fn bad_credentials() -> OAuthError {
    OAuthError::invalid_grant(Reason::InvalidCredentials, BAD_CREDENTIALS)
}

/// A failed sign-in answers at `deadline` (what is left of the padding), not before.
async fn failed<T>(deadline: tokio::time::Instant, error: OAuthError) -> Result<T, OAuthError> {
    tokio::time::sleep_until(deadline).await;
    Err(error)
}

/// Measures the check time of every kind of password hash stored in the database, for
/// the padding of failed sign-ins: at start, and hourly for kinds imported since.
pub async fn calibrate_timing(state: &AppState) {
    match state.db(db::lockout::hash_kind_examples).await {
        Ok(examples) => state.hasher.calibrate(examples),
        Err(e) => tracing::warn!(error = %e, "cannot list the kinds of stored password hashes"),
    }
}

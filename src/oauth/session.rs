//! SSO sessions (server-side rows behind a random cookie) and the CSRF tokens of the
//! sign-in forms (a signed double-submit cookie: the form carries an HMAC of the
//! cookie's random value under a server key).

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::OAuthError;
use super::sign_in::UserProfile;
use crate::crypto::secrets;
use crate::db::sessions::{self, SsoSession};
use crate::db::{self, auth_codes, refresh_tokens, server_secrets};
use crate::state::AppState;

/// The cookie holding a tenant's SSO session: one per tenant, so signing in to one
/// tenant does not sign the browser out of another.
pub fn cookie_name(tenant_id: &str) -> String {
    format!("localidp_sso_{}", tenant_id.replace('-', ""))
}

/// Starts a session for a user who just proved their password; returns the session
/// and the secret for the cookie.
pub async fn start(
    state: &AppState,
    tenant_id: &str,
    profile: &UserProfile,
) -> Result<(SsoSession, String), OAuthError> {
    let secret = secrets::generate();
    let now = state.clock.now();
    let session = SsoSession {
        id: crate::crypto::secrets::uuid_v4().to_string(),
        token_hash: secrets::sha256_hex(&secret),
        tenant_id: tenant_id.to_owned(),
        user_id: profile.user.id.clone(),
        auth_time: now,
        created_at: now,
        last_seen_at: now,
        expires_at: now + state.settings.session_lifetime,
        ended_at: None,
    };
    let row = session.clone();
    state.db(move |c| sessions::insert(c, &row)).await?;
    Ok((session, secret))
}

/// The live session behind a cookie value, if any; using it resets the idle timer.
/// Sessions of a disabled or deleted user are not live.
pub async fn current(
    state: &AppState,
    tenant_id: &str,
    cookie: &str,
) -> Result<Option<SsoSession>, OAuthError> {
    let hash = secrets::sha256_hex(cookie);
    let tenant_id = tenant_id.to_owned();
    let idle = state.settings.session_idle_timeout;
    let now = state.clock.now();
    let found = state
        .db(move |c| {
            let Some(s) = sessions::find_by_hash(c, &hash)? else {
                return Ok(None);
            };
            let live = s.tenant_id == tenant_id
                && s.ended_at.is_none()
                && s.expires_at > now
                && s.last_seen_at + idle > now;
            if !live {
                return Ok(None);
            }
            if db::users::find(c, &s.user_id)?.is_none_or(|u| u.is_disabled()) {
                return Ok(None);
            }
            sessions::touch(c, &s.id, now)?;
            Ok(Some(s))
        })
        .await?;
    Ok(found)
}

/// Ends the session behind a cookie value, and revokes the refresh tokens issued
/// through it and the access tokens issued with them. Returns the ended session, if there was one.
pub async fn end(state: &AppState, cookie: &str) -> Result<Option<SsoSession>, OAuthError> {
    let hash = secrets::sha256_hex(cookie);
    let now = state.clock.now();
    let ended = state
        .db(move |c| {
            let Some(s) = sessions::find_by_hash(c, &hash)? else {
                return Ok(None);
            };
            sessions::end(c, &s.id, now)?;
            for family in auth_codes::refresh_families_of_session(c, &s.id)? {
                refresh_tokens::revoke_family(c, &family, now)?;
            }
            Ok(Some(s))
        })
        .await?;
    // The families' access tokens went on the deny list.
    state.tokens.status.mark_stale();
    Ok(ended)
}

async fn csrf_key(state: &AppState) -> Result<&hmac::Key, OAuthError> {
    state
        .tokens
        .session_keys
        .csrf
        .get_or_try_init(|| async {
            let fresh = secrets::generate();
            let now = state.clock.now();
            let secret = state
                .db(move |c| server_secrets::get_or_create(c, "csrf", &fresh, now))
                .await?;
            Ok::<_, OAuthError>(hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()))
        })
        .await
}

/// The form field that goes with a CSRF cookie value.
pub async fn csrf_token(state: &AppState, cookie: &str) -> Result<String, OAuthError> {
    let key = csrf_key(state).await?;
    let tag = hmac::sign(key, format!("localidp-csrf:{cookie}").as_bytes());
    Ok(URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// A value derived from `input` under the server key, for `label` (the PKCE verifier
/// and nonce of a brokered sign-in, from its random `state`): nothing to store.
pub async fn derived(state: &AppState, label: &str, input: &str) -> Result<String, OAuthError> {
    let key = csrf_key(state).await?;
    let tag = hmac::sign(key, format!("localidp-{label}:{input}").as_bytes());
    Ok(URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// True when the form field is the MAC of the cookie value (both must be present).
pub async fn csrf_valid(
    state: &AppState,
    cookie: Option<&str>,
    field: Option<&str>,
) -> Result<bool, OAuthError> {
    let (Some(cookie), Some(field)) = (cookie, field) else {
        return Ok(false);
    };
    let Ok(tag) = URL_SAFE_NO_PAD.decode(field) else {
        return Ok(false);
    };
    let key = csrf_key(state).await?;
    Ok(hmac::verify(key, format!("localidp-csrf:{cookie}").as_bytes(), &tag).is_ok())
}

/// Drops ended and expired sessions, old codes, expired deny-list entries and token
/// status rows that no longer matter.
pub fn purge(
    conn: &mut db::DbConnection,
    settings: &crate::config::Settings,
    now: i64,
) -> db::DbResult<usize> {
    // Codes outlive their expiry as long as a session can: a late replay and a logout
    // still find the tokens issued from them.
    let keep_codes = settings.session_lifetime.max(86_400);
    Ok(
        sessions::purge_expired(conn, now, settings.session_idle_timeout)?
            + auth_codes::purge_expired(conn, now - keep_codes)?
            + auth_codes::purge_revoked_access_tokens(conn, now)?
            + purge_status(conn, settings, now)?,
    )
}

/// Status rows are kept as long as the servers keep them in memory (`oauth::status`).
fn purge_status(
    conn: &mut db::DbConnection,
    settings: &crate::config::Settings,
    now: i64,
) -> db::DbResult<usize> {
    let keep = settings.clock_skew_seconds + super::status::RETENTION_MARGIN;
    db::status_changes::purge(
        conn,
        now - keep,
        now - settings.access_token_lifetime - keep,
    )
}

//! Brokered sign-in: which local user an upstream identity is. In order: the stored
//! link of the provider's `oid` (else `sub`); a local user of the tenant with the
//! same email, when the provider vouches for it (`email_verified: true`, or
//! `trust_email`) and `link_by_email` is on; a new user when `create_users` is on.
//! A match by email or a new user is linked, so later sign-ins find the link.
//! The claims of `copy_claims` are copied at each sign-in.

use serde_json::Value;

use super::broker::AppError;
use super::external;
use super::sign_in::{self, UserProfile};
use crate::db::federation::{self, Link};
use crate::db::groups;
use crate::db::users::{self, User};
use crate::db::{DbConnection, DbResult};
use crate::directory::{self, DirectoryError, users::NewUser};
use crate::federation::provider::Provider;
use crate::state::AppState;

/// How the local user was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    Link,
    Email,
    Created,
}

impl Matched {
    pub fn as_str(self) -> &'static str {
        match self {
            Matched::Link => "link",
            Matched::Email => "email",
            Matched::Created => "created",
        }
    }
}

enum Outcome {
    Found(Box<UserProfile>, Matched),
    Disabled,
    NoAccount,
    Refused(String),
}

/// What the ID token says of the person.
struct Upstream {
    provider: String,
    subject: String,
    issuer: String,
    email: Option<String>,
    email_verified: bool,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    roles: Option<Vec<String>>,
    groups: Vec<String>,
}

fn upstream_of(provider: &Provider, claims: &Value) -> Upstream {
    let text = |k: &str| {
        claims[k]
            .as_str()
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let subject = text("oid").or_else(|| text("sub")).unwrap_or_default();
    let person = external::subject_of(claims);
    let said_verified = matches!(&claims["email_verified"], Value::Bool(true))
        || claims["email_verified"].as_str() == Some("true");
    let email = if provider.config.trust_email {
        person.email
    } else {
        text("email").filter(|e| directory::validate_email(e).is_ok())
    };
    let strings = |k: &str| {
        claims[k].as_array().map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
    };
    let roles = strings("roles");
    let groups = strings("groups").unwrap_or_default();
    Upstream {
        provider: provider.config.name.clone(),
        subject,
        issuer: text("iss").unwrap_or_default(),
        email_verified: email.is_some() && (provider.config.trust_email || said_verified),
        email,
        name: person.name,
        given_name: person.given_name,
        family_name: person.family_name,
        roles,
        groups,
    }
}

/// The local user (enabled) for the verified claims of an upstream ID token, found,
/// linked or created; refused with `access_denied` otherwise.
pub async fn local_user(
    state: &AppState,
    provider: &Provider,
    tenant_id: &str,
    claims: &Value,
) -> Result<(UserProfile, Matched), AppError> {
    let upstream = upstream_of(provider, claims);
    let label = provider.config.label().to_owned();
    let config = provider.config.clone();
    let tid = tenant_id.to_owned();
    let hasher = state.hasher.clone();
    let now = state.clock.now();
    let outcome = state
        .db(move |c| find_or_create(c, &config, &tid, &upstream, &hasher, now))
        .await
        .map_err(|e| AppError {
            error: "temporarily_unavailable",
            description: super::OAuthError::from(e).description,
        })?;
    let denied = |description: String| AppError {
        error: "access_denied",
        description,
    };
    match outcome {
        Outcome::Found(profile, how) => Ok((*profile, how)),
        Outcome::Disabled => Err(denied("The user account is disabled.".into())),
        Outcome::NoAccount => Err(denied(format!(
            "No account here matches the one you signed in with at {label}, and new accounts are not created from it."
        ))),
        Outcome::Refused(why) => Err(denied(why)),
    }
}

fn find_or_create(
    c: &mut DbConnection,
    config: &crate::config::UpstreamProvider,
    tenant_id: &str,
    up: &Upstream,
    hasher: &crate::crypto::password::PasswordHasher,
    now: i64,
) -> DbResult<Outcome> {
    if let Some(user_id) = federation::linked_user(c, &up.provider, &up.subject)? {
        match users::find(c, &user_id)? {
            Some(user) if user.tenant_id == tenant_id => {
                return signed_in(c, config, up, user, Matched::Link, now);
            }
            // The user was deleted (or the provider now serves another tenant).
            _ => federation::unlink(c, &up.provider, &up.subject)?,
        }
    }
    if config.link_by_email
        && up.email_verified
        && let Some(email) = &up.email
        && let Some(user) = users::find_by_email(c, tenant_id, email)?
    {
        // A local address is proven only where nobody can register one themselves:
        // with self-service sign-up on, whoever signed up first with the victim's
        // address would otherwise share the victim's account from their first
        // brokered sign-in. Nor is a user linked to a second identity at the provider.
        let self_service =
            crate::db::user_flows::find(c, tenant_id)?.is_some_and(|f| f.sign_up != 0);
        if self_service || federation::user_has_link(c, &up.provider, &user.id)? {
            return Ok(Outcome::Refused(format!(
                "An account with the email address {email} already exists here and was not linked to this sign-in{}; sign in with that account's password, or ask an administrator.",
                if self_service {
                    " (anyone can sign up here, so the address was never proven)"
                } else {
                    " (it is linked to another identity at this provider)"
                }
            )));
        }
        link(c, up, &user.id, now)?;
        return signed_in(c, config, up, user, Matched::Email, now);
    }
    if !config.create_users {
        return Ok(Outcome::NoAccount);
    }
    let tenant = match directory::tenant(c, tenant_id) {
        Ok(t) => t,
        Err(DirectoryError::Db(e)) => return Err(e),
        Err(e) => return Ok(Outcome::Refused(e.to_string())),
    };
    let email = up
        .email
        .clone()
        .filter(|_| up.email_verified && config.copies("email"));
    let copy_name = config.copies("name");
    let new = NewUser {
        username: email.is_none().then(|| username_for(up)),
        email,
        display_name: up.name.clone().filter(|_| copy_name),
        given_name: up.given_name.clone().filter(|_| copy_name),
        family_name: up.family_name.clone().filter(|_| copy_name),
        roles: up
            .roles
            .clone()
            .filter(|_| config.copies("roles"))
            .unwrap_or_default(),
        ..Default::default()
    };
    let created = crate::db::write_tx(c, |c| {
        let user = match directory::users::create_user(c, hasher, &tenant, &new, now) {
            Ok(u) => u,
            Err(DirectoryError::Db(e)) => return Err(e),
            Err(e) => return Ok(Err(e.to_string())),
        };
        link(c, up, &user.id, now)?;
        if config.copies("groups") {
            join_groups(c, tenant_id, &user.id, &up.groups)?;
        }
        Ok(Ok(user))
    })?;
    match created {
        Ok(user) => Ok(Outcome::Found(
            Box::new(sign_in::load_profile(c, user)?),
            Matched::Created,
        )),
        Err(why) => Ok(Outcome::Refused(format!(
            "The account cannot be created: {why}."
        ))),
    }
}

/// A user name for a created user without a verified email: `{provider}.{subject}`.
fn username_for(up: &Upstream) -> String {
    let clean: String = format!("{}.{}", up.provider, up.subject)
        .chars()
        .map(|ch| {
            if ch.is_alphanumeric() || matches!(ch, '.' | '_' | '-' | '@' | '+') {
                ch
            } else {
                '_'
            }
        })
        .take(128)
        .collect();
    clean
}

fn link(c: &mut DbConnection, up: &Upstream, user_id: &str, now: i64) -> DbResult<()> {
    federation::insert_link(
        c,
        &Link {
            provider: up.provider.clone(),
            subject: up.subject.clone(),
            issuer: up.issuer.clone(),
            user_id: user_id.to_owned(),
            created_at: now,
        },
    )
}

/// A found user: refused when disabled, else the copied claims updated.
fn signed_in(
    c: &mut DbConnection,
    config: &crate::config::UpstreamProvider,
    up: &Upstream,
    user: User,
    how: Matched,
    now: i64,
) -> DbResult<Outcome> {
    if user.is_disabled() {
        return Ok(Outcome::Disabled);
    }
    if config.copies("name") && up.name.is_some() && up.name.as_deref() != Some(&user.display_name)
    {
        let changes = users::NameChanges {
            display_name: up.name.clone(),
            given_name: up.given_name.clone(),
            family_name: up.family_name.clone(),
        };
        users::update_names(c, &user.id, &changes, now)?;
    }
    if config.copies("roles")
        && let Some(roles) = &up.roles
    {
        users::set_roles(c, &user.id, roles, now)?;
    }
    if config.copies("groups") {
        join_groups(c, &user.tenant_id, &user.id, &up.groups)?;
    }
    let user = users::find(c, &user.id)?.unwrap_or(user);
    Ok(Outcome::Found(
        Box::new(sign_in::load_profile(c, user)?),
        how,
    ))
}

/// Adds the user to the tenant's existing groups whose object id or name the upstream
/// names in `groups` (memberships are added, never removed; no group is created).
fn join_groups(
    c: &mut DbConnection,
    tenant_id: &str,
    user_id: &str,
    named: &[String],
) -> DbResult<()> {
    for name in named.iter().take(200) {
        let group = match groups::find(c, tenant_id, name)? {
            Some(g) => Some(g),
            None => groups::find_by_name(c, tenant_id, name)?,
        };
        if let Some(group) = group {
            groups::add_new_member(c, &group.id, user_id)?;
        }
    }
    Ok(())
}

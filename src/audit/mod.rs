//! The audit log: who signed in, who failed and why, which tokens were issued and
//! revoked, and who changed what — one row per event in `audit_events`, listed by
//! `localidp audit`. Never a secret: no password, token, code, key, client secret or
//! hash reaches a column (`detail` refuses such keys, see [`AuditEvent::detail`]).
//!
//! # Recording an event
//! In a request, one call; it returns once the event is queued (see [`writer::AuditLog`] for
//! what happens when the queue is full):
//! ```ignore
//! state.audit.record(
//!     AuditEvent::sign_in(kind::SIGN_IN_PASSWORD)
//!         .failure(reason::INVALID_PASSWORD)
//!         .request(&ctx)            // ip, user agent, correlation id (http::request_context)
//!         .tenant(&tenant_id)
//!         .user(&user_id)
//!         .detail("via", "password_grant"),
//! ).await;
//! ```
//! Where no server runs (CLI, seed file, first start), [`write_now`] inserts at once.
//!
//! # Fields
//! `occurred_at` (the injected clock, unix seconds), `category`, `kind`, `outcome`
//! (`success` | `failure`), `reason` (failures, and some successes), `actor` (a user id,
//! a client id, `cli`, `seed` or `system`; by default the user, else the client),
//! `tenant_id`, `client_id`, `user_id` (the user the event is about), `ip`, `user_agent`
//! (at most 256 characters), `correlation_id` (the request's `client-request-id`, else
//! one made for the request and echoed in its Azure error bodies), `detail` (a small
//! JSON object).
//!
//! # Kinds ([`kind`])
//! | category | kinds |
//! |---|---|
//! | `sign_in` | `sign_in.password` (`detail.via`: `password_grant`, `auth_login`, `login_form`), `sign_in.sign_up` |
//! | `token` | `token.issued` (`detail`: `grant_type`, `scope`, `audience`, `jti`), `token.refused` |
//! | `revocation` | `token.revoked` (`/revoke`), `refresh_family.revoked` (`reason`: `reuse`, `user_disabled_or_deleted`), `code.reused` (tokens of the code revoked) |
//! | `admin` | `tenant.created`, `user.created`, `user.imported`, `user.password_set`, `user.updated` (names changed over Graph), `user.sessions_revoked` (Graph's `revokeSignInSessions`), `user.disabled`, `user.enabled`, `user.deleted`, `user.roles_assigned`, `user.roles_removed` (directory roles), `user.app_role_assigned`, `user.app_role_removed` (Graph's `appRoleAssignments`), `group.created`, `group.updated`, `group.deleted`, `group.member_added`, `group.member_removed`, `client.created`, `client.deleted`, `client.default_set`, `client.claims_set`, `client.graph_granted`, `client.graph_revoked` (`detail.permissions`), `client.updated`, `client.secret_added`, `client.secret_removed` (Graph's applications; `detail.key_id`) |
//! | `key` | `key.created` (first start), `key.rotated` |
//! | `lockout` | `account.locked` (`oauth::sign_in`), `account.unlocked` (`localidp user unlock`) |
//! | `api_key` | `api_key.created`, `api_key.revoked` (the CLI; Graph's `apiKeys`, the caller as `actor`), `api_key.used` (`oauth::api_key`, once a minute per key) |
//!
//! A sign-in refused because the account is locked is a `sign_in.password` failure with
//! [`reason::LOCKED`]; `oauth::Reason::AccountLocked` is in the skip list of
//! `oauth/grants/audit.rs`, so the token endpoint writes no second event. API key events
//! carry `detail.key_id`, never the key (`key` is a refused name).

pub mod writer;

use serde_json::{Map, Value};

use crate::db::audit_events::{self, NewAuditRow};
use crate::db::{DbConnection, DbResult};

/// The event kinds.
pub mod kind {
    pub const SIGN_IN_PASSWORD: &str = "sign_in.password";
    pub const SIGN_IN_SIGN_UP: &str = "sign_in.sign_up";
    /// A sign-in through an upstream identity provider (brokered sign-in).
    pub const SIGN_IN_FEDERATED: &str = "sign_in.federated";
    pub const TOKEN_ISSUED: &str = "token.issued";
    pub const TOKEN_REFUSED: &str = "token.refused";
    pub const TOKEN_REVOKED: &str = "token.revoked";
    pub const REFRESH_FAMILY_REVOKED: &str = "refresh_family.revoked";
    pub const CODE_REUSED: &str = "code.reused";
    pub const TENANT_CREATED: &str = "tenant.created";
    pub const USER_CREATED: &str = "user.created";
    pub const USER_IMPORTED: &str = "user.imported";
    pub const USER_PASSWORD_SET: &str = "user.password_set";
    pub const USER_UPDATED: &str = "user.updated";
    pub const USER_SESSIONS_REVOKED: &str = "user.sessions_revoked";
    pub const USER_DISABLED: &str = "user.disabled";
    pub const USER_ENABLED: &str = "user.enabled";
    pub const USER_DELETED: &str = "user.deleted";
    pub const USER_ROLES_ASSIGNED: &str = "user.roles_assigned";
    pub const USER_ROLES_REMOVED: &str = "user.roles_removed";
    pub const USER_APP_ROLE_ASSIGNED: &str = "user.app_role_assigned";
    pub const USER_APP_ROLE_REMOVED: &str = "user.app_role_removed";
    pub const GROUP_CREATED: &str = "group.created";
    pub const GROUP_UPDATED: &str = "group.updated";
    pub const GROUP_DELETED: &str = "group.deleted";
    pub const GROUP_MEMBER_ADDED: &str = "group.member_added";
    pub const GROUP_MEMBER_REMOVED: &str = "group.member_removed";
    pub const CLIENT_CREATED: &str = "client.created";
    pub const CLIENT_DELETED: &str = "client.deleted";
    pub const CLIENT_DEFAULT_SET: &str = "client.default_set";
    pub const CLIENT_CLAIMS_SET: &str = "client.claims_set";
    pub const CLIENT_GRAPH_GRANTED: &str = "client.graph_granted";
    pub const CLIENT_GRAPH_REVOKED: &str = "client.graph_revoked";
    pub const CLIENT_UPDATED: &str = "client.updated";
    pub const CLIENT_SECRET_ADDED: &str = "client.secret_added";
    pub const CLIENT_SECRET_REMOVED: &str = "client.secret_removed";
    pub const KEY_CREATED: &str = "key.created";
    pub const KEY_ROTATED: &str = "key.rotated";
    pub const KEY_PUBLISHED: &str = "key.published";
    pub const KEY_ENCRYPTED: &str = "key.encrypted";
    pub const KEY_REWRAPPED: &str = "key.rewrapped";
    pub const ACCOUNT_LOCKED: &str = "account.locked";
    pub const ACCOUNT_UNLOCKED: &str = "account.unlocked";
    pub const API_KEY_CREATED: &str = "api_key.created";
    pub const API_KEY_REVOKED: &str = "api_key.revoked";
    pub const API_KEY_USED: &str = "api_key.used";
}

/// Why a sign-in or request failed (the token endpoint's other failures use the names
/// of `oauth::Reason::audit_name`).
pub mod reason {
    pub const INVALID_PASSWORD: &str = "invalid_password";
    pub const UNKNOWN_USER: &str = "unknown_user";
    /// The user exists but has no password (provisioned from another provider).
    pub const NO_PASSWORD: &str = "no_password";
    pub const DISABLED: &str = "disabled";
    pub const LOCKED: &str = "locked";
    /// The right password, but the user must choose a new one first.
    pub const PASSWORD_EXPIRED: &str = "password_expired";
    pub const UNAVAILABLE: &str = "unavailable";
    pub const REJECTED: &str = "rejected";
    pub const REUSE: &str = "reuse";
    pub const USER_GONE: &str = "user_disabled_or_deleted";
    pub const UNKNOWN_TOKEN: &str = "unknown_token";
}

/// Who may write an event's `actor` besides a user or client id.
pub mod actor {
    pub const CLI: &str = "cli";
    pub const SEED: &str = "seed";
    pub const SYSTEM: &str = "system";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    SignIn,
    Token,
    Revocation,
    Admin,
    Key,
    ApiKey,
    Lockout,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::SignIn,
        Category::Token,
        Category::Revocation,
        Category::Admin,
        Category::Key,
        Category::ApiKey,
        Category::Lockout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::SignIn => "sign_in",
            Category::Token => "token",
            Category::Revocation => "revocation",
            Category::Admin => "admin",
            Category::Key => "key",
            Category::ApiKey => "api_key",
            Category::Lockout => "lockout",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// Where a request came from, as the HTTP layer saw it (`http::request_context`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub correlation_id: Option<String>,
    /// The `Origin` of a cross-origin request (a browser script's on another origin);
    /// not written to the log. Token endpoints allow it only for single-page apps.
    pub cross_origin: Option<String>,
}

/// Longest text kept in an id, IP or user-agent column.
pub const MAX_FIELD_CHARS: usize = 256;
/// Longest `detail` JSON kept; a larger one is replaced by `{"truncated":true}`.
pub const MAX_DETAIL_BYTES: usize = 2048;

/// `detail` keys that could hold a secret: refused, whatever their value.
const SECRET_KEYS: [&str; 12] = [
    "password",
    "secret",
    "hash",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "code_verifier",
    "key",
    "assertion",
    "credential",
];

fn could_be_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.contains(&key.as_str())
        || ["password", "secret", "hash", "assertion", "credential"]
            .iter()
            .any(|part| key.contains(part))
}

/// One audit event; build it with the category constructor and the setters.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub category: Category,
    pub kind: &'static str,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub actor: Option<String>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub correlation_id: Option<String>,
    pub detail: Map<String, Value>,
}

impl AuditEvent {
    /// A successful event of this category and kind.
    pub fn new(category: Category, kind: &'static str) -> Self {
        AuditEvent {
            category,
            kind,
            outcome: Outcome::Success,
            reason: None,
            actor: None,
            tenant_id: None,
            client_id: None,
            user_id: None,
            ip: None,
            user_agent: None,
            correlation_id: None,
            detail: Map::new(),
        }
    }
    pub fn sign_in(kind: &'static str) -> Self {
        Self::new(Category::SignIn, kind)
    }
    pub fn token(kind: &'static str) -> Self {
        Self::new(Category::Token, kind)
    }
    pub fn revocation(kind: &'static str) -> Self {
        Self::new(Category::Revocation, kind)
    }
    pub fn admin(kind: &'static str) -> Self {
        Self::new(Category::Admin, kind)
    }
    pub fn key(kind: &'static str) -> Self {
        Self::new(Category::Key, kind)
    }
    pub fn api_key(kind: &'static str) -> Self {
        Self::new(Category::ApiKey, kind)
    }
    pub fn lockout(kind: &'static str) -> Self {
        Self::new(Category::Lockout, kind)
    }

    /// Marks the event failed, for this reason.
    pub fn failure(mut self, reason: &str) -> Self {
        self.outcome = Outcome::Failure;
        self.reason = Some(reason.to_owned());
        self
    }
    /// A reason without changing the outcome.
    pub fn reason(mut self, reason: &str) -> Self {
        self.reason = Some(reason.to_owned());
        self
    }
    pub fn actor(mut self, actor: &str) -> Self {
        self.actor = Some(actor.to_owned());
        self
    }
    pub fn tenant(mut self, tenant_id: &str) -> Self {
        self.tenant_id = Some(tenant_id.to_owned());
        self
    }
    pub fn client(mut self, client_id: &str) -> Self {
        self.client_id = Some(client_id.to_owned());
        self
    }
    pub fn user(mut self, user_id: &str) -> Self {
        self.user_id = Some(user_id.to_owned());
        self
    }
    pub fn ip(mut self, ip: &str) -> Self {
        self.ip = Some(ip.to_owned());
        self
    }
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.user_agent = Some(user_agent.to_owned());
        self
    }
    pub fn correlation(mut self, correlation_id: &str) -> Self {
        self.correlation_id = Some(correlation_id.to_owned());
        self
    }
    /// IP, user agent and correlation id of the request.
    pub fn request(mut self, ctx: &RequestContext) -> Self {
        self.ip = ctx.ip.clone();
        self.user_agent = ctx.user_agent.clone();
        self.correlation_id = ctx.correlation_id.clone();
        self
    }
    /// Adds `key: value` to `detail`. A key that could name a secret (`password`,
    /// `token`, `code`, `key`, `*secret*`, `*hash*`, …) is refused and logged: the
    /// audit log never stores one.
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        if could_be_secret(key) {
            tracing::warn!(kind = self.kind, key, "audit detail key refused");
        } else {
            self.detail.insert(key.to_owned(), value.into());
        }
        self
    }

    /// The row written for this event at `now`.
    pub fn into_row(self, now: i64) -> NewAuditRow {
        let detail = if self.detail.is_empty() {
            "{}".to_owned()
        } else {
            let text = Value::Object(self.detail).to_string();
            if text.len() > MAX_DETAIL_BYTES {
                r#"{"truncated":true}"#.to_owned()
            } else {
                text
            }
        };
        let actor = self
            .actor
            .or_else(|| self.user_id.clone())
            .or_else(|| self.client_id.clone());
        NewAuditRow {
            occurred_at: now,
            category: self.category.as_str().to_owned(),
            kind: self.kind.to_owned(),
            outcome: self.outcome.as_str().to_owned(),
            reason: bounded(self.reason),
            actor: bounded(actor),
            tenant_id: bounded(self.tenant_id),
            client_id: bounded(self.client_id),
            user_id: bounded(self.user_id),
            ip: bounded(self.ip),
            user_agent: bounded(self.user_agent),
            correlation_id: bounded(self.correlation_id),
            detail,
        }
    }
}

/// At most [`MAX_FIELD_CHARS`] characters, without control characters.
pub fn bounded_text(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(MAX_FIELD_CHARS)
        .collect()
}

fn bounded(s: Option<String>) -> Option<String> {
    s.map(|s| {
        if s.len() <= MAX_FIELD_CHARS && !s.chars().any(char::is_control) {
            s
        } else {
            bounded_text(&s)
        }
    })
}

/// Writes events at once, on this connection: for the CLI, the seed file and the first
/// start, where no server (and no [`writer::AuditLog`]) runs. Does nothing when `enabled` is off.
pub fn write_now(
    conn: &mut DbConnection,
    enabled: bool,
    now: i64,
    events: Vec<AuditEvent>,
) -> DbResult<()> {
    if !enabled || events.is_empty() {
        return Ok(());
    }
    let rows: Vec<NewAuditRow> = events.into_iter().map(|e| e.into_row(now)).collect();
    audit_events::insert_many(conn, &rows)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_detail_keys_are_refused() {
        let e = AuditEvent::token(kind::TOKEN_ISSUED)
            .detail("grant_type", "password")
            .detail("password", "x")
            .detail("client_secret", "x")
            .detail("refresh_token", "x")
            .detail("code", "x")
            .detail("password_hash", "x")
            .detail("jti", "abc");
        let keys: Vec<&str> = e.detail.keys().map(String::as_str).collect();
        assert_eq!(keys, ["grant_type", "jti"]);
    }

    #[test]
    fn fields_are_bounded_and_the_actor_defaults_to_the_user_then_the_client() {
        let long = "x".repeat(1000);
        let row = AuditEvent::sign_in(kind::SIGN_IN_PASSWORD)
            .user_agent(&format!("a\nb{long}"))
            .client("c")
            .detail("big", "y".repeat(5000))
            .into_row(7);
        assert_eq!(row.user_agent.as_ref().unwrap().chars().count(), 256);
        assert!(row.user_agent.unwrap().starts_with("ab"));
        assert_eq!(row.detail, r#"{"truncated":true}"#);
        assert_eq!(row.actor.as_deref(), Some("c"));
        assert_eq!(row.occurred_at, 7);
        let row = AuditEvent::admin(kind::USER_CREATED)
            .user("u")
            .client("c")
            .into_row(0);
        assert_eq!(row.actor.as_deref(), Some("u"));
    }
}

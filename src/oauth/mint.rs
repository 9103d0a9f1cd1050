//! Tokens minted for tests (`POST /_dev/token`, `localidp token mint`): what the
//! password grant (or, without a user, the client credentials grant) would issue,
//! built by the same code, then edited as asked — lifetime, `nbf`, `aud`, `iss`, extra
//! claims — and, for negative tests, made invalid in one chosen way.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::authority::{Authority, Flavour};
use super::client_auth::{AuthenticatedClient, ClientAuthMethod};
use super::grants::context::{GrantContext, resolve_audience, user_scope_or_default};
use super::issue::{self, RefreshPlan};
use super::{OAuthError, Reason, scope, sign_in};
use crate::audit::RequestContext;
use crate::crypto::{jwt, keys::SigningKey};
use crate::state::AppState;

/// What to mint; every field is optional (JSON body of `POST /_dev/token`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// The user, by email address or user name.
    pub user: Option<String>,
    /// The user, by object id.
    pub oid: Option<String>,
    /// Tenant GUID or name (default: the default tenant).
    pub tenant: Option<String>,
    /// The client the token is issued to (default: the tenant's default client).
    pub client_id: Option<String>,
    /// `entra` (default), `b2c` or `short` (the `/auth/*` form, Entra's shape).
    pub flavour: Option<String>,
    /// The B2C user flow (default: the tenant's first).
    pub policy: Option<String>,
    pub scope: Option<String>,
    /// `access`, `id` or `both` (default: `both` for a user, `access` without one).
    pub kind: Option<String>,
    /// Seconds from now to `exp`.
    pub lifetime: Option<i64>,
    /// Seconds from now to `nbf` (negative: in the past).
    pub nbf_offset: Option<i64>,
    /// Claims set (or replaced) last, in every token minted.
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// The access token's `aud`.
    pub audience: Option<String>,
    /// The `iss` of every token minted.
    pub issuer: Option<String>,
    /// `valid` (default), or one way to be refused; see [`Variant`].
    pub variant: Option<String>,
}

/// The ways a minted token can be wrong, each on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Valid,
    Expired,
    NotYetValid,
    WrongAudience,
    WrongIssuer,
    /// Signed by a throwaway key that no JWKS publishes.
    ForeignKey,
    /// `{"alg":"none"}` and an empty signature.
    AlgNone,
}

impl Variant {
    pub const NAMES: &'static str =
        "valid, expired, not_yet_valid, wrong_audience, wrong_issuer, foreign_key, alg_none";
    /// Every variant but `valid`: what a negative test runs through.
    pub const HOSTILE: [&'static str; 6] = [
        "expired",
        "not_yet_valid",
        "wrong_audience",
        "wrong_issuer",
        "foreign_key",
        "alg_none",
    ];

    pub fn parse(name: &str) -> Option<Variant> {
        Some(match name {
            "valid" => Variant::Valid,
            "expired" => Variant::Expired,
            "not_yet_valid" => Variant::NotYetValid,
            "wrong_audience" => Variant::WrongAudience,
            "wrong_issuer" => Variant::WrongIssuer,
            "foreign_key" => Variant::ForeignKey,
            "alg_none" => Variant::AlgNone,
            _ => return None,
        })
    }
}

/// The audience of a `wrong_audience` token: no application of any tenant.
pub const WRONG_AUDIENCE: &str = "api://localidp-wrong-audience";
/// The issuer of a `wrong_issuer` token: no authority of this server.
pub const WRONG_ISSUER: &str = "https://wrong-issuer.invalid/v2.0";

/// Shaped like a token response, so test code can take either.
#[derive(Debug, Serialize)]
pub struct Minted {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub token_type: &'static str,
    pub expires_in: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Access,
    Id,
    Both,
}

fn bad(description: impl Into<String>) -> OAuthError {
    OAuthError::invalid_request(Reason::MalformedRequest, description)
}

/// Mints as `req` asks, through the authority at `base` (the server's public URL).
pub async fn mint(state: &AppState, base: String, req: MintRequest) -> Result<Minted, OAuthError> {
    let variant = match req.variant.as_deref() {
        None => Variant::Valid,
        Some(v) => Variant::parse(v).ok_or_else(|| {
            bad(format!(
                "Unknown variant {v:?}; one of: {}.",
                Variant::NAMES
            ))
        })?,
    };
    let has_user = req.user.is_some() || req.oid.is_some();
    let kind = match req.kind.as_deref() {
        None if has_user => Kind::Both,
        None => Kind::Access,
        Some("access") => Kind::Access,
        Some("id") => Kind::Id,
        Some("both") => Kind::Both,
        Some(k) => {
            return Err(bad(format!(
                "Unknown kind {k:?}; one of: access, id, both."
            )));
        }
    };
    if kind != Kind::Access && !has_user {
        return Err(bad("An ID token is for a user: name one with user or oid."));
    }
    let authority = authority(state, base, &req).await?;
    let client = client(state, &authority, req.client_id.as_deref()).await?;
    let mut requested = scope::parse(req.scope.as_deref().unwrap_or(""))?;
    // No refresh token: a minted token set leaves nothing behind in the database.
    requested.offline_access = false;
    requested.tokens.retain(|t| t != "offline_access");
    let issued = if has_user {
        let profile = profile(state, &authority, &req).await?;
        let mut scope = user_scope_or_default(requested)?;
        if kind != Kind::Access && !scope.openid {
            scope.openid = true;
            scope.tokens.insert(0, "openid".to_owned());
        }
        let request = RequestContext::default();
        let cx = GrantContext {
            state,
            authority: &authority,
            client: &client,
            client_info: false,
            request: &request,
        };
        let audience = cx.audience_for(&scope).await?;
        cx.user_tokens(
            audience,
            &profile,
            scope,
            RefreshPlan::NewFamily,
            Default::default(),
        )
        .await?
    } else {
        let audience =
            resolve_audience(state, &authority.tenant.id, &client.client, &requested).await?;
        issue::app_token(state, &authority, &client, audience, &requested).await?
    };
    let now = state.clock.now();
    let edit = Edit {
        now,
        skew: state.settings.clock_skew_seconds,
        req: &req,
        variant,
    };
    let access = edit.apply(decode(&issued.response.access_token)?, true);
    let exp = access.get("exp").and_then(Value::as_i64).unwrap_or(now);
    let access_token = sign(state, &access, variant, now)?;
    let id_token = match (&issued.response.id_token, kind) {
        (Some(id), Kind::Id | Kind::Both) => {
            let mut claims = edit.apply(decode(id)?, false);
            if claims.contains_key("at_hash") && !req.claims.contains_key("at_hash") {
                claims.insert(
                    "at_hash".into(),
                    Value::String(issue::half_hash(&access_token)),
                );
            }
            Some(sign(state, &claims, variant, now)?)
        }
        _ => None,
    };
    Ok(Minted {
        access_token: (kind != Kind::Id).then_some(access_token),
        id_token,
        token_type: "Bearer",
        expires_in: exp - now,
    })
}

async fn authority(
    state: &AppState,
    base: String,
    req: &MintRequest,
) -> Result<Authority, OAuthError> {
    let tenant = match req.tenant.as_deref() {
        Some(t) => state.directory.tenant(t).await?,
        None => Some(state.directory.default_tenant().await?),
    }
    .ok_or_else(|| {
        OAuthError::invalid_request(
            Reason::TenantNotFound,
            format!(
                "There is no tenant {:?}.",
                req.tenant.as_deref().unwrap_or("")
            ),
        )
    })?;
    let flavour = match req.flavour.as_deref().unwrap_or("entra") {
        "entra" => Flavour::Entra,
        "short" => Flavour::Short,
        "b2c" => {
            let policy = match req.policy.as_deref() {
                Some(p) if tenant.has_policy(p) => p.to_ascii_lowercase(),
                Some(p) => {
                    return Err(OAuthError::invalid_request(
                        Reason::PolicyNotFound,
                        format!("The tenant has no user flow {p:?}."),
                    ));
                }
                None => tenant
                    .policies
                    .first()
                    .map(|p| p.to_ascii_lowercase())
                    .ok_or_else(|| {
                        OAuthError::invalid_request(
                            Reason::PolicyNotFound,
                            "The tenant has no B2C user flow.",
                        )
                    })?,
            };
            Flavour::B2c { policy }
        }
        f => {
            return Err(bad(format!(
                "Unknown flavour {f:?}; one of: entra, b2c, short."
            )));
        }
    };
    Ok(Authority {
        tenant,
        flavour,
        alias: None,
        base,
    })
}

async fn client(
    state: &AppState,
    authority: &Authority,
    client_id: Option<&str>,
) -> Result<AuthenticatedClient, OAuthError> {
    let tenant = &authority.tenant;
    let id = client_id
        .or(tenant.default_client_id.as_deref())
        .ok_or_else(|| {
            OAuthError::invalid_request(
                Reason::MissingClientId,
                "Name a client (client_id, or --client): the tenant has no default client.",
            )
        })?;
    let client = state
        .directory
        .tenant_client(&tenant.id, id)
        .await?
        .ok_or_else(|| {
            OAuthError::invalid_request(
                Reason::UnknownClient,
                format!("The tenant has no client {id:?}."),
            )
        })?;
    let method = if client.is_public() {
        ClientAuthMethod::None
    } else {
        ClientAuthMethod::Secret
    };
    Ok(AuthenticatedClient { client, method })
}

async fn profile(
    state: &AppState,
    authority: &Authority,
    req: &MintRequest,
) -> Result<sign_in::UserProfile, OAuthError> {
    let tenant_id = authority.tenant.id.clone();
    let (name, oid) = (req.user.clone(), req.oid.clone());
    let shown = name.clone().or(oid.clone()).unwrap_or_default();
    let profile = state
        .db(move |c| {
            let user = match (&oid, &name) {
                (Some(oid), _) => {
                    crate::db::users::find(c, oid)?.filter(|u| u.tenant_id == tenant_id)
                }
                (None, Some(name)) => crate::db::users::find_by_sign_in_name(c, &tenant_id, name)?,
                (None, None) => None,
            };
            user.map(|u| sign_in::load_profile(c, u)).transpose()
        })
        .await?;
    profile.ok_or_else(|| {
        OAuthError::invalid_request(
            Reason::InvalidCredentials,
            format!("The tenant has no user {shown:?}."),
        )
    })
}

/// The edits asked for, applied to one token's claims.
struct Edit<'a> {
    now: i64,
    skew: i64,
    req: &'a MintRequest,
    variant: Variant,
}

impl Edit<'_> {
    fn apply(&self, mut claims: Map<String, Value>, access: bool) -> Map<String, Value> {
        let (now, req) = (self.now, self.req);
        let mut set = |k: &str, v: Value| {
            claims.insert(k.to_owned(), v);
        };
        if let Some(lifetime) = req.lifetime {
            set("exp", (now + lifetime).into());
        }
        if let Some(offset) = req.nbf_offset {
            set("nbf", (now + offset).into());
        }
        if access && let Some(aud) = &req.audience {
            set("aud", aud.clone().into());
        }
        if let Some(iss) = &req.issuer {
            set("iss", iss.clone().into());
        }
        // Past the clock skew the server tolerates, by ten minutes.
        let margin = self.skew + 600;
        match self.variant {
            Variant::Expired => {
                set("iat", (now - margin - 3600).into());
                set("nbf", (now - margin - 3600).into());
                set("exp", (now - margin).into());
            }
            Variant::NotYetValid => {
                set("iat", now.into());
                set("nbf", (now + margin).into());
                set("exp", (now + margin + 3600).into());
            }
            Variant::WrongAudience => set("aud", WRONG_AUDIENCE.into()),
            Variant::WrongIssuer => set("iss", WRONG_ISSUER.into()),
            Variant::Valid | Variant::ForeignKey | Variant::AlgNone => {}
        }
        for (k, v) in &req.claims {
            claims.insert(k.clone(), v.clone());
        }
        claims
    }
}

/// The claims of a token just signed here.
fn decode(token: &str) -> Result<Map<String, Value>, OAuthError> {
    token
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|p| serde_json::from_slice(&p).ok())
        .ok_or_else(|| {
            OAuthError::new(
                super::ErrorCode::ServerError,
                Reason::Internal,
                "The token just issued could not be read back.",
            )
        })
}

fn sign(
    state: &AppState,
    claims: &Map<String, Value>,
    variant: Variant,
    now: i64,
) -> Result<String, OAuthError> {
    let internal = |what: &str| {
        OAuthError::new(
            super::ErrorCode::ServerError,
            Reason::Internal,
            format!("The token could not be {what}."),
        )
    };
    match variant {
        Variant::ForeignKey => {
            let (key, _) = SigningKey::generate(now).map_err(|_| internal("signed"))?;
            jwt::sign(&key, claims).map_err(|_| internal("signed"))
        }
        Variant::AlgNone => {
            let payload = serde_json::to_vec(claims).map_err(|_| internal("encoded"))?;
            Ok(format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
                URL_SAFE_NO_PAD.encode(payload)
            ))
        }
        _ => issue::sign(state, claims),
    }
}

//! Token exchange (RFC 8693): a token from a trusted external issuer (a real Entra or
//! B2C tenant, any OIDC provider) becomes a localidp token for the same person, found
//! by `oid` or email, or provisioned when the issuer's configuration allows it.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::grants::{self, AuthenticatedClient, Issued, TokenRequest};
use super::scope::RequestedScope;
use super::verify;
use super::{OAuthError, Reason};
use crate::config::TrustedIssuer;
use crate::db;
use crate::directory::{self, NewUser};
use crate::oauth::authority::Authority;
use crate::state::AppState;

pub const GRANT_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const SUBJECT_TOKEN_TYPES: [&str; 3] = [
    "urn:ietf:params:oauth:token-type:access_token",
    "urn:ietf:params:oauth:token-type:id_token",
    "urn:ietf:params:oauth:token-type:jwt",
];

/// A trusted issuer with its keys, read once at start.
#[derive(Debug)]
pub struct ExternalIssuer {
    pub config: TrustedIssuer,
    pub keys: JwkSet,
}

pub fn load(configs: &[TrustedIssuer]) -> Result<Vec<ExternalIssuer>, String> {
    configs
        .iter()
        .map(|config| {
            let text = std::fs::read_to_string(&config.jwks_file)
                .map_err(|e| format!("{}: {e}", config.jwks_file.display()))?;
            let keys: JwkSet = serde_json::from_str(&text)
                .map_err(|e| format!("{}: not a JWKS: {e}", config.jwks_file.display()))?;
            if keys.keys.is_empty() {
                return Err(format!(
                    "{}: the JWKS has no keys",
                    config.jwks_file.display()
                ));
            }
            Ok(ExternalIssuer {
                config: config.clone(),
                keys,
            })
        })
        .collect()
}

fn rejected(msg: impl Into<String>) -> OAuthError {
    OAuthError::invalid_grant(Reason::InvalidAssertion, msg)
}

/// Verifies a subject token against the trusted issuer it names.
fn verify_subject<'a>(
    state: &'a AppState,
    token: &str,
) -> Result<(Value, &'a ExternalIssuer), OAuthError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| rejected("The subject token is not a well-formed JWT."))?;
    // Which issuer to check against: read `iss` first, trust nothing until verified.
    let unverified = jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .map_err(|_| rejected("The subject token is not a well-formed JWT."))?;
    let iss = unverified.claims["iss"].as_str().unwrap_or_default();
    let issuer = state
        .external_issuers
        .iter()
        .find(|i| i.config.issuer == iss)
        .ok_or_else(|| rejected("The subject token's issuer is not trusted here."))?;
    if !matches!(
        header.alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::ES256
            | Algorithm::ES384
    ) {
        return Err(rejected("The subject token's algorithm is not accepted."));
    }
    let jwk = match &header.kid {
        Some(kid) => issuer.keys.find(kid),
        None if issuer.keys.keys.len() == 1 => issuer.keys.keys.first(),
        None => None,
    }
    .ok_or_else(|| rejected("The subject token was signed by an unknown key."))?;
    let key = DecodingKey::from_jwk(jwk)
        .map_err(|_| rejected("The issuer's key cannot verify this token."))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer.config.issuer.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss"]);
    // Times are checked against the injected clock below.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    match &issuer.config.audience {
        Some(aud) => validation.set_audience(&[aud.as_str()]),
        None => validation.validate_aud = false,
    }
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        rejected(match e.kind() {
            ErrorKind::InvalidSignature => "The subject token's signature is invalid.",
            ErrorKind::InvalidAudience => "The subject token is for another audience.",
            _ => "The subject token is invalid.",
        })
    })?;
    let exp = data.claims["exp"]
        .as_i64()
        .ok_or_else(|| rejected("The subject token's exp is not a number."))?;
    let nbf = data.claims["nbf"].as_i64();
    verify::check_times(exp, nbf, state.clock.now()).map_err(|e| {
        rejected(match e {
            verify::TimeError::Expired => "The subject token has expired.",
            verify::TimeError::NotYetValid => "The subject token is not valid yet.",
        })
    })?;
    Ok((data.claims, issuer))
}

/// The person a verified external token names.
struct Subject {
    oid: Option<String>,
    email: Option<String>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
}

fn subject_of(claims: &Value) -> Subject {
    let text = |k: &str| claims[k].as_str().map(str::to_owned);
    let email = text("email")
        .or_else(|| claims["emails"][0].as_str().map(str::to_owned))
        .or_else(|| text("preferred_username"))
        .or_else(|| text("upn"))
        .filter(|e| directory::validate_email(e).is_ok());
    Subject {
        oid: text("oid").filter(|o| uuid::Uuid::parse_str(o).is_ok()),
        email,
        name: text("name"),
        given_name: text("given_name"),
        family_name: text("family_name"),
    }
}

pub(crate) async fn grant(
    state: &AppState,
    authority: &Authority,
    client: &AuthenticatedClient,
    req: TokenRequest,
    requested: RequestedScope,
) -> Result<Issued, OAuthError> {
    let token = grants::required(req.subject_token, "subject_token")?;
    let token_type = grants::required(req.subject_token_type, "subject_token_type")?;
    if !SUBJECT_TOKEN_TYPES.contains(&token_type.as_str()) {
        return Err(OAuthError::invalid_request(
            Reason::MalformedRequest,
            format!("subject_token_type {token_type:?} is not supported; send a JWT."),
        ));
    }
    let (claims, issuer) = verify_subject(state, &token)?;
    if let Some(only) = &issuer.config.tenant {
        let t = &authority.tenant;
        if !(only.eq_ignore_ascii_case(&t.id) || only.eq_ignore_ascii_case(&t.name)) {
            return Err(rejected(
                "This issuer's tokens are not accepted by this tenant.",
            ));
        }
    }
    let subject = subject_of(&claims);
    if subject.oid.is_none() && subject.email.is_none() {
        return Err(rejected(
            "The subject token names no user (neither oid nor an email address).",
        ));
    }
    let provision = issuer.config.provision;
    let tenant_id = authority.tenant.id.clone();
    let hasher = state.hasher.clone();
    let profile = state
        .db(move |c| {
            let by_oid = match &subject.oid {
                Some(oid) => db::users::find(c, oid)?.filter(|u| u.tenant_id == tenant_id),
                None => None,
            };
            let user = match (by_oid, &subject.email) {
                (Some(u), _) => Some(u),
                (None, Some(email)) => db::users::find_by_email(c, &tenant_id, email)?,
                (None, None) => None,
            };
            let user = match (user, provision, &subject.email) {
                (Some(u), _, _) => u,
                (None, true, Some(email)) => {
                    let tenant = db::tenants::find(c, &tenant_id)?.ok_or(db::DbError::NotFound)?;
                    // Keep the external oid when it is free, so ids line up across both.
                    let oid = match &subject.oid {
                        Some(oid) if db::users::find(c, oid)?.is_none() => Some(oid.clone()),
                        _ => None,
                    };
                    let new = NewUser {
                        email: email.clone(),
                        display_name: subject.name.clone(),
                        given_name: subject.given_name.clone(),
                        family_name: subject.family_name.clone(),
                        oid,
                        ..Default::default()
                    };
                    directory::create_user(c, &hasher, &tenant, &new)
                        .map_err(|e| db::DbError::Corrupt(e.to_string()))?
                }
                _ => return Ok(None),
            };
            if user.is_disabled() {
                return Ok(None);
            }
            Ok(Some(grants::load_profile(c, user)?))
        })
        .await?
        .ok_or_else(|| rejected("No enabled user here matches the subject token."))?;
    let requested = if requested.tokens.is_empty() {
        super::scope::parse("openid profile")?
    } else {
        requested
    };
    let audience =
        grants::resolve_audience(state, &authority.tenant.id, &client.client, &requested).await?;
    let client_info = req.client_info.as_deref() == Some("1");
    grants::issue_user_tokens_with(
        state,
        authority,
        client,
        audience,
        &profile,
        requested,
        grants::RefreshPlan::NewFamily,
        client_info,
        &Default::default(),
    )
    .await
}

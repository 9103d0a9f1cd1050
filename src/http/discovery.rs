//! OpenID Connect Discovery 1.0 §3 metadata in each authority form, and the JWKS
//! (RFC 7517). A metadata document's `issuer` is exactly the `iss` of the tokens its
//! endpoints issue.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::base_url::base_url;
use super::error::{ErrorFlavour, OAuthResponse};
use super::tenant::{PolicyQuery, resolve};
use crate::oauth::OAuthError;
use crate::oauth::authority::{Authority, entra_issuer};
use crate::state::AppState;

const CLAIMS_SUPPORTED: [&str; 21] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "auth_time",
    "oid",
    "tid",
    "email",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "roles",
    "groups",
    "scp",
    "azp",
    "azpacr",
    "ver",
    "uti",
];

fn metadata(body: Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(body)
}

fn entra_document(
    issuer: &str,
    token_endpoint: String,
    jwks_uri: String,
    tenant_region: &str,
) -> Value {
    json!({
        "issuer": issuer,
        "token_endpoint": token_endpoint,
        "jwks_uri": jwks_uri,
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "none"],
        "grant_types_supported": [
            "password", "client_credentials", "refresh_token",
            "urn:ietf:params:oauth:grant-type:jwt-bearer"
        ],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": CLAIMS_SUPPORTED,
        "tenant_region_scope": tenant_region,
    })
}

/// `/.well-known/openid-configuration`: the default tenant, with the short endpoints.
pub async fn default_tenant_configuration(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, OAuthResponse> {
    let tenant = state
        .directory
        .default_tenant()
        .await
        .map_err(OAuthError::from)?;
    let base = base_url(&state, &req);
    let mut doc = entra_document(
        &entra_issuer(&base, &tenant.id),
        format!("{base}/auth/token"),
        format!("{base}/.well-known/jwks.json"),
        "local",
    );
    doc["tenant_id"] = json!(tenant.id);
    Ok(metadata(
        InteractiveMetadata::new(&state, &base, &base, "").extend(doc),
    ))
}

fn not_found(e: OAuthError, flavour: ErrorFlavour, req: &HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    let mut res = OAuthResponse::flavoured(e, flavour, req).error_response();
    *res.status_mut() = actix_web::http::StatusCode::NOT_FOUND;
    res
}

/// `/{tenant}/v2.0/.well-known/openid-configuration`: Entra's document, or B2C's with
/// `?p={policy}` (and then every endpoint carries `?p=` too).
pub async fn tenant_configuration(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<PolicyQuery>,
) -> HttpResponse {
    let policy = query.into_inner().p;
    let base = base_url(&state, &req);
    let authority = match resolve(&state, base.clone(), &path, policy.as_deref()).await {
        Ok(a) => a,
        Err(e) => return not_found(e, ErrorFlavour::from_policy(policy.as_deref()), &req),
    };
    let segment = path.to_ascii_lowercase();
    if let Some(policy) = authority.policy() {
        let q = format!("?p={policy}");
        let doc = b2c_document(&authority, &format!("{base}/{segment}"), &q);
        let oauth = format!("{base}/{segment}/oauth2/v2.0");
        return metadata(InteractiveMetadata::new(&state, &base, &oauth, &q).extend(doc));
    }
    let tid = &authority.tenant.id;
    let (issuer, oauth_base) = match authority.alias {
        // Microsoft publishes a placeholder issuer for multi-tenant aliases.
        Some(alias) => (
            format!("{base}/{{tenantid}}/v2.0"),
            format!("{base}/{alias}"),
        ),
        None => (authority.issuer(), format!("{base}/{tid}")),
    };
    let doc = entra_document(
        &issuer,
        format!("{oauth_base}/oauth2/v2.0/token"),
        format!("{oauth_base}/discovery/v2.0/keys"),
        "local",
    );
    let oauth = format!("{oauth_base}/oauth2/v2.0");
    metadata(InteractiveMetadata::new(&state, &base, &oauth, "").extend(doc))
}

/// `/{tenant}/{policy}/v2.0/.well-known/openid-configuration`.
pub async fn policy_configuration(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    b2c_path_configuration(&state, &req, path.into_inner(), "").await
}

/// `/tfp/{tenant}/{policy}/v2.0/.well-known/openid-configuration` (MSAL's legacy form).
pub async fn tfp_configuration(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    b2c_path_configuration(&state, &req, path.into_inner(), "tfp/").await
}

/// B2C metadata whose endpoints repeat the path form it was asked by (`prefix` is
/// `""` or `"tfp/"`).
async fn b2c_path_configuration(
    state: &AppState,
    req: &HttpRequest,
    (tenant, policy): (String, String),
    prefix: &str,
) -> HttpResponse {
    match resolve(state, base_url(state, req), &tenant, Some(&policy)).await {
        Ok(authority) => {
            let base = format!(
                "{}/{prefix}{}/{}",
                authority.base,
                tenant.to_ascii_lowercase(),
                policy.to_ascii_lowercase()
            );
            let doc = b2c_document(&authority, &base, "");
            let oauth = format!("{base}/oauth2/v2.0");
            metadata(InteractiveMetadata::new(state, &authority.base, &oauth, "").extend(doc))
        }
        Err(e) => not_found(e, ErrorFlavour::B2c, req),
    }
}

fn b2c_document(authority: &Authority, base: &str, query: &str) -> Value {
    json!({
        "issuer": authority.issuer(),
        "token_endpoint": format!("{base}/oauth2/v2.0/token{query}"),
        "jwks_uri": format!("{base}/discovery/v2.0/keys{query}"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "response_types_supported": ["code"],
        "scopes_supported": ["openid"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "grant_types_supported": ["password", "client_credentials", "refresh_token"],
        "claims_supported": [
            "oid", "sub", "name", "given_name", "family_name", "emails", "tfp", "idp",
            "iss", "iat", "exp", "aud", "acr", "nonce", "auth_time", "at_hash", "scp", "azp"
        ],
    })
}

/// Every key that may still verify a live token. One key set serves every tenant
/// and policy.
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    metadata(state.keys.ring().jwks())
}

/// `GET /common/userrealm/{user}`: MSAL Python asks this before a password grant.
/// Every account here is a managed (cloud) account; existence is not revealed.
pub async fn user_realm(path: web::Path<String>) -> HttpResponse {
    let domain = path.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    HttpResponse::Ok().json(json!({
        "ver": "1.0",
        "account_type": "Managed",
        "domain_name": domain.to_ascii_lowercase(),
        "cloud_instance_name": "localidp",
        "cloud_audience_urn": "urn:federation:MicrosoftOnline",
    }))
}

/// What the interactive flow adds to a discovery document (OIDC Discovery §3,
/// RFC 8414, RFC 9207).
struct InteractiveMetadata {
    authorization_endpoint: String,
    end_session_endpoint: String,
    public_url: String,
    plain_pkce: bool,
}

impl InteractiveMetadata {
    /// `base` is the public base URL; `authorize_base` the prefix of `/authorize` and
    /// `/logout` in the authority's form; `query` (B2C's `?p=`) follows both.
    fn new(state: &AppState, base: &str, authorize_base: &str, query: &str) -> Self {
        InteractiveMetadata {
            authorization_endpoint: format!("{authorize_base}/authorize{query}"),
            end_session_endpoint: format!("{authorize_base}/logout{query}"),
            public_url: base.to_owned(),
            plain_pkce: state.settings.pkce_allow_plain,
        }
    }

    fn extend(self, mut doc: serde_json::Value) -> serde_json::Value {
        use serde_json::{Value, json};
        let Some(map) = doc.as_object_mut() else {
            return doc;
        };
        let push = |map: &mut serde_json::Map<String, Value>, key: &str, items: &[&str]| {
            if let Some(Value::Array(list)) = map.get_mut(key) {
                for item in items {
                    if !list.iter().any(|v| v == item) {
                        list.push(json!(item));
                    }
                }
            }
        };
        push(map, "grant_types_supported", &["authorization_code"]);
        push(
            map,
            "claims_supported",
            &["nonce", "at_hash", "c_hash", "sid"],
        );
        let url = &self.public_url;
        let methods: &[&str] = if self.plain_pkce {
            &["S256", "plain"]
        } else {
            &["S256"]
        };
        let client_auth = json!(["client_secret_post", "client_secret_basic"]);
        for (key, value) in [
            ("authorization_endpoint", json!(self.authorization_endpoint)),
            ("end_session_endpoint", json!(self.end_session_endpoint)),
            ("userinfo_endpoint", json!(format!("{url}/userinfo"))),
            ("revocation_endpoint", json!(format!("{url}/revoke"))),
            ("introspection_endpoint", json!(format!("{url}/introspect"))),
            ("response_types_supported", json!(["code"])),
            (
                "response_modes_supported",
                json!(["query", "fragment", "form_post"]),
            ),
            ("code_challenge_methods_supported", json!(methods)),
            (
                "prompt_values_supported",
                json!(["none", "login", "consent", "select_account"]),
            ),
            (
                "authorization_response_iss_parameter_supported",
                json!(true),
            ),
            (
                "revocation_endpoint_auth_methods_supported",
                json!(["client_secret_post", "client_secret_basic", "none"]),
            ),
            ("introspection_endpoint_auth_methods_supported", client_auth),
        ] {
            map.insert(key.to_owned(), value);
        }
        doc
    }
}

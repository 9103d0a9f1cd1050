//! The operations of the OAuth / OpenID Connect endpoints, the sign-in pages, health
//! and the `/_dev` endpoints.

use actix_web::http::Method;

use super::op::{FORM, HTML, Op, op};

/// The errors every credential endpoint can answer, in its JSON shape.
const TOKEN_ERRORS: [u16; 7] = [400, 401, 404, 413, 415, 429, 503];

pub fn describe(method: &Method, path: &str) -> Option<Op> {
    let m = method.as_str();
    let found = match (m, path) {
        ("GET", "/healthz") => op("health", "The process is up").json(200, "Up", "Health"),
        ("GET", "/readyz") => op(
            "health",
            "The database answers and the server is not draining",
        )
        .json(200, "Ready", "Health")
        .json(503, "Not ready", "Health"),
        ("GET", "/openapi.json") => op("discovery", "This document (OpenAPI 3.1)").json(
            200,
            "The OpenAPI document",
            "OpenApi",
        ),
        ("POST", "/auth/login") => op(
            "token",
            "Email and password for an access token and its claims",
        )
        .body("application/json", "LoginRequest", true)
        .json(200, "Signed in", "LoginResponse")
        .oauth_errors(&[400, 401, 413, 415, 422, 429, 503]),
        ("GET", "/auth/verify") => op(
            "verify",
            "The claims behind a bearer access token or an `x-api-key`",
        )
        .query(
            "audience",
            "The application the caller expects the token to be for",
        )
        .security(&["bearer", "apiKey"])
        .json(200, "Valid", "VerifyResponse")
        .oauth_errors(&[400, 401, 503]),
        ("GET", "/common/userrealm/{user}") => op(
            "discovery",
            "The home realm of a sign-in name (MSAL)",
        )
        .json(200, "The realm", "UserRealm"),
        ("POST", "/revoke") => op("token", "Revoke a refresh or access token (RFC 7009)")
            .body(FORM, "TokenStatusRequest", true)
            .security(&["clientBasic", "none"])
            .empty(200, "Revoked, or was not valid")
            .oauth_errors(&TOKEN_ERRORS),
        ("POST", "/introspect") => op("token", "A token's status (RFC 7662)")
            .body(FORM, "TokenStatusRequest", true)
            .security(&["clientBasic", "none"])
            .json(200, "The status", "Introspection")
            .oauth_errors(&TOKEN_ERRORS),
        ("GET" | "POST", "/userinfo") => op("oidc", "The signed-in user's claims (OIDC Core §5.3)")
            .security(&["bearer"])
            .json(200, "The claims", "UserInfo")
            .oauth_errors(&[400, 401, 503]),
        ("POST", "/login") => page_post("The sign-in form's submission"),
        ("POST", "/login/password") => page_post("The password change form's submission"),
        ("GET", "/signup") => page("The sign-up page (B2C user flows)"),
        ("POST", "/signup") => page_post("The sign-up form's submission"),
        ("GET", "/forgot-password") => page("The password reset link of the sign-in page"),
        ("GET", "/cancel") => page("Cancel a sign-in: back to the application with an error"),
        ("GET", "/federation/start") => op(
            "pages",
            "Brokered sign-in: off to an upstream identity provider (the login page's \"Sign in with …\" button)",
        )
        .media(200, "The page", HTML)
        .empty(302, "To the provider, or back to the application with an error")
        .page_errors(&[400, 404, 429, 503]),
        ("GET", "/federation/callback") => {
            page("Brokered sign-in: the redirect URI to register at upstream identity providers")
        }
        ("GET", "/assets/localidp.css") => op("pages", "The pages' stylesheet").media(
            200,
            "The stylesheet",
            "text/css; charset=utf-8",
        ),
        ("POST", "/_dev/token") => op("dev", "Mint a token set for tests (`--dev` only)")
            .body("application/json", "MintRequest", true)
            .json(200, "Minted", "Minted")
            .oauth_errors(&[400, 404, 413, 415, 422, 503]),
        ("GET", "/_dev/requests") => op(
            "dev",
            "The requests the server answered, oldest first (`--dev` only)",
        )
        .query("limit", "The last N requests")
        .json(200, "The journal", "Journal")
        .oauth_errors(&[400]),
        ("DELETE", "/_dev/requests") => {
            op("dev", "Forget the journaled requests (`--dev` only)").empty(204, "Forgotten")
        }
        _ => return by_suffix(m, path),
    };
    Some(found)
}

/// The endpoints served under each authority form, told by their last segments.
fn by_suffix(method: &str, path: &str) -> Option<Op> {
    let tenant_query = path.starts_with("/{tenant}/") && path.matches('{').count() == 1;
    let found = if path.ends_with("/oauth2/v2.0/token") || path == "/auth/token" {
        match method {
            "POST" => token(tenant_query),
            "OPTIONS" => op(
                "token",
                "CORS preflight of the token endpoint (single-page apps)",
            )
            .empty(
                204,
                "Allowed for the origin of a SPA redirect URI (or no origin named)",
            )
            .empty(400, "Not a preflight")
            .empty(403, "Origin not allowed"),
            _ => return None,
        }
    } else if path.ends_with("/.well-known/openid-configuration") {
        let doc = op("discovery", "OpenID Connect discovery metadata")
            .json(200, "The metadata", "OpenIdConfiguration")
            .oauth_errors(&[404, 503]);
        if tenant_query { b2c_query(doc) } else { doc }
    } else if path.ends_with("/discovery/v2.0/keys") || path == "/.well-known/jwks.json" {
        op("discovery", "The signing keys (JWKS, RFC 7517)").json(200, "The key set", "Jwks")
    } else if path.ends_with("/authorize") {
        let authorize = op(
            "authorize",
            "Authorization endpoint (RFC 6749 §4.1): the sign-in page, or a redirect with a code",
        )
        .query("client_id", "The application")
        .query("redirect_uri", "Where the code goes")
        .query("response_type", "`code`")
        .query("scope", "Space-separated scopes")
        .query("state", "Returned to the application")
        .query("nonce", "Copied into the ID token")
        .query("code_challenge", "PKCE (RFC 7636)")
        .query("code_challenge_method", "`S256`")
        .query("response_mode", "`query`, `fragment` or `form_post`")
        .query("prompt", "`none`, `login`, `consent` or `select_account`")
        .query("login_hint", "The sign-in name to fill in")
        .media(200, "The sign-in page (or a form_post answer)", HTML)
        .empty(302, "Back to the application with a code or an error")
        .page_errors(&[400, 404, 503]);
        if tenant_query {
            b2c_query(authorize)
        } else {
            authorize
        }
    } else if path.ends_with("/logout") {
        let logout = op(
            "authorize",
            "End the SSO session (OIDC RP-initiated logout)",
        )
        .query("post_logout_redirect_uri", "Where to go afterwards")
        .query("id_token_hint", "An ID token the server issued")
        .query("state", "Returned to the application")
        .query("client_id", "The application")
        .media(200, "Signed out", HTML)
        .empty(302, "Back to the application")
        .page_errors(&[400, 404, 503]);
        if tenant_query {
            b2c_query(logout)
        } else {
            logout
        }
    } else {
        return None;
    };
    Some(found)
}

fn token(tenant_query: bool) -> Op {
    let token = op("token", "Token endpoint (RFC 6749 §3.2): every grant")
        .body(FORM, "TokenRequest", true)
        .security(&["clientBasic", "none"])
        .json(200, "Issued", "TokenResponse")
        .oauth_errors(&TOKEN_ERRORS);
    if tenant_query {
        b2c_query(token)
    } else {
        token
    }
}

/// `/{tenant}/…?p={policy}`: the B2C user flow in the query.
fn b2c_query(op: Op) -> Op {
    op.query("p", "A B2C user flow (policy)")
}

fn page(summary: &str) -> Op {
    op("pages", summary)
        .media(200, "The page", HTML)
        .empty(302, "Back to the application, or the next page")
        .page_errors(&[400, 404, 503])
}

fn page_post(summary: &str) -> Op {
    op("pages", summary)
        .body(FORM, "PageForm", true)
        .media(200, "The page again, with what was wrong", HTML)
        .empty(302, "Back to the application, or the next page")
        .page_errors(&[400, 403, 413, 415, 429, 503])
}

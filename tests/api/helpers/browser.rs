//! A browser for the interactive flow: a cookie jar that never follows redirects,
//! authorize requests, and the forms and redirects the server answers with.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::redirect::Policy;
use sha2::{Digest, Sha256};

use super::*;

/// The PKCE verifier of RFC 7636's appendix B, and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A user agent: keeps cookies, never follows redirects (the test reads them).
pub struct Browser {
    pub http: reqwest::Client,
    jar: Arc<Jar>,
    base: String,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        let jar = Arc::new(Jar::default());
        let http = crate::helpers::http_client_builder()
            .cookie_provider(jar.clone())
            .redirect(Policy::none())
            .build()
            .unwrap();
        Browser {
            http,
            jar,
            base: app.base.clone(),
        }
    }

    /// A browser that also trusts the certificates of `ca_pem` (a test server's
    /// development CA, from `tls_ca_out`), visiting the server at its public URL (its
    /// `https://localhost:PORT`, which the certificate names).
    pub fn trusting(app: &TestApp, ca_pem: &std::path::Path) -> Self {
        let jar = Arc::new(Jar::default());
        let pem = std::fs::read(ca_pem).unwrap();
        let http = crate::helpers::http_client_builder()
            .cookie_provider(jar.clone())
            .redirect(Policy::none())
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap();
        Browser {
            http,
            jar,
            base: app.state.public_url.clone(),
        }
    }

    /// The Cookie header this browser would send to the server.
    pub fn cookies(&self) -> String {
        let url = self.base.parse().unwrap();
        self.jar
            .cookies(&url)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    pub async fn get(&self, path_and_query: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path_and_query}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, form: &[(String, String)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Opens the login page for `query`, submits the credentials, returns the response.
    pub async fn sign_in(&self, query: &str, email: &str, password: &str) -> reqwest::Response {
        let page = self.get(query).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains(r#"<form method="post" action="/login""#),
            "{html}"
        );
        self.post("/login", &login_form(&html, email, password))
            .await
    }

    /// Signs alice in to the Contoso web app and returns the code it receives.
    pub async fn code_for_alice(&self, extra: &[(&str, &str)]) -> String {
        let query = authorize_query(&web_request(extra));
        let res = self.sign_in(&query, ALICE, ALICE_PASSWORD).await;
        assert_eq!(res.status(), 303);
        let params = redirect_params(&res, RP_WEB_CALLBACK);
        assert_eq!(params["state"], "st-123");
        params["code"].clone()
    }
}

/// `/authorize` with the parameters percent-encoded.
pub fn authorize_query(params: &[(&str, &str)]) -> String {
    let encoded: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    format!("/authorize?{}", encoded.join("&"))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The Contoso web app's authorize parameters (code, PKCE S256, state `st-123`,
/// nonce `n-456`); each of `extra` replaces its namesake, and an empty value drops it.
pub fn web_request<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("client_id", RP_WEB),
        ("redirect_uri", RP_WEB_CALLBACK),
        ("response_type", "code"),
        ("scope", "openid profile email offline_access"),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        p.retain(|(key, _)| key != k);
        if !v.is_empty() {
            p.push((k, v));
        }
    }
    p
}

/// The web app's request, with `extra` added, on Fabrikam's Entra authorize path.
pub fn fabrikam_request<'a>(extra: &[(&'a str, &'a str)]) -> String {
    let mut params = web_request(&[("client_id", RP_FABRIKAM)]);
    params.extend_from_slice(extra);
    authorize_query(&params).replace(
        "/authorize?",
        "/fabrikam.onmicrosoft.com/oauth2/v2.0/authorize?",
    )
}

/// Undoes HTML escaping: the named entities and decimal ones (`&#38;`).
pub fn html_unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').map(|e| i + e).unwrap();
        out.push(match &rest[i + 1..end] {
            "quot" => '"',
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "apos" => '\'',
            n => char::from_u32(n.trim_start_matches('#').parse().unwrap()).unwrap(),
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The form's fields: hidden inputs with their values (the test fills in the rest).
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in html.split("<input").skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap()];
        if !tag.contains(r#"type="hidden""#) {
            continue;
        }
        let attr = |name: &str| {
            let start = tag.find(&format!(r#"{name}=""#))? + name.len() + 2;
            let end = start + tag[start..].find('"')?;
            Some(html_unescape(&tag[start..end]))
        };
        out.push((attr("name").unwrap(), attr("value").unwrap()));
    }
    out
}

/// The login page's form filled in: its hidden fields, the email and the password.
pub fn login_form(html: &str, email: &str, password: &str) -> Vec<(String, String)> {
    let mut form = hidden_fields(html);
    form.push(("email".into(), email.into()));
    form.push(("password".into(), password.into()));
    form
}

/// The href of the link whose text is `text`, HTML-unescaped.
pub fn link(html: &str, text: &str) -> String {
    let end = html
        .find(&format!(">{text}</a>"))
        .unwrap_or_else(|| panic!("no {text} link"));
    let start = html[..end].rfind("href=\"").unwrap() + 6;
    html_unescape(&html[start..html[start..end].find('"').unwrap() + start])
}

/// Query parameters of a redirect's Location, which must start with `expected_base`.
pub fn redirect_params(res: &reqwest::Response, expected_base: &str) -> HashMap<String, String> {
    let location = res
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location on {}", res.status()))
        .to_str()
        .unwrap();
    assert!(
        location.starts_with(expected_base),
        "{location} should start with {expected_base}"
    );
    let url = reqwest::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}

/// OIDC Core §3.1.3.6: the left half of the SHA-256 of a value, base64url (`at_hash`,
/// `c_hash`).
pub fn half_hash(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(value.as_bytes())[..16])
}

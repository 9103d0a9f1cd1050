//! Outbound HTTP to an upstream issuer: its discovery document and JWKS, with
//! timeouts, a size limit, redirects only within the same host, and HTTPS only
//! (plain HTTP for loopback hosts).

use std::path::Path;
use std::time::Duration;

use reqwest::Url;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::Value;

/// Connecting to an upstream may take this long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A whole request (connect, headers, body) may take this long.
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest document (discovery or JWKS) read from an upstream.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// Redirects followed within the same host.
const MAX_REDIRECTS: usize = 5;

/// Why a fetch failed; the text is logged (it names the URL, never a secret).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: {reason}")]
    Failed { url: String, reason: String },
}

fn failed(url: &Url, reason: impl Into<String>) -> FetchError {
    FetchError::Failed {
        url: url.to_string(),
        reason: reason.into(),
    }
}

/// A URL an upstream may be reached at: `https://`, or `http://` on a loopback host.
pub fn parse_upstream_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "{text:?}: plain http:// is accepted only for loopback hosts (localhost, 127.0.0.0/8, ::1); use https://"
        )),
        other => Err(format!("{text:?}: the scheme {other:?} is not http(s)")),
    }
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Makes aws-lc-rs the process's default rustls provider, unless one is set: a
/// rustls client built without a config of its own (reqwest's default) needs one.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}

/// The HTTP client of one upstream: public roots plus its extra CA bundle.
pub fn client(ca_file: Option<&Path>) -> Result<reqwest::Client, String> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("ca_file {}: {e}", path.display()))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!(
                "ca_file {}: no PEM certificate in it",
                path.display()
            ));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TOTAL_TIMEOUT)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            let first = &attempt.previous()[0];
            let same_origin = attempt.url().scheme() == first.scheme()
                && attempt.url().host_str() == first.host_str()
                && attempt.url().port_or_known_default() == first.port_or_known_default();
            if same_origin && attempt.previous().len() <= MAX_REDIRECTS {
                attempt.follow()
            } else {
                // The 3xx itself comes back, and is refused by `get_json`.
                attempt.stop()
            }
        }))
        .build()
        .map_err(|e| e.to_string())
}

/// A fetched JSON document and how long it may be kept (Cache-Control max-age).
pub struct Document {
    pub json: Value,
    pub max_age: Option<i64>,
}

/// GETs a JSON document of at most [`MAX_DOCUMENT_BYTES`].
pub async fn get_json(client: &reqwest::Client, url: &Url) -> Result<Document, FetchError> {
    tracing::debug!(%url, "fetching from an upstream issuer");
    let res = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| failed(url, describe(&e)))?;
    read_json(url, res, false).await
}

/// POSTs a form (a token request) and reads the JSON answer, of at most
/// [`MAX_DOCUMENT_BYTES`]; an error status with a JSON body is returned as
/// `Ok((status, json))` for the caller to read the OAuth error. The form is never
/// logged (it holds the code and the client secret).
pub async fn post_form(
    client: &reqwest::Client,
    url: &Url,
    form: &[(&str, &str)],
) -> Result<(reqwest::StatusCode, Value), FetchError> {
    tracing::debug!(%url, "posting to an upstream provider");
    let res = client
        .post(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await
        .map_err(|e| failed(url, describe(&e)))?;
    let status = res.status();
    let doc = read_json(url, res, true).await?;
    Ok((status, doc.json))
}

async fn read_json(
    url: &Url,
    mut res: reqwest::Response,
    error_bodies: bool,
) -> Result<Document, FetchError> {
    let status = res.status();
    if status.is_redirection() {
        let to = res
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .unwrap_or("?");
        return Err(failed(
            url,
            format!("redirected ({status}) to {to}: a redirect to another host is not followed"),
        ));
    }
    let readable = status.is_success() || (error_bodies && status.is_client_error());
    if !readable {
        return Err(failed(url, format!("answered {status}")));
    }
    if res
        .content_length()
        .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
    {
        return Err(failed(
            url,
            format!("the document is larger than {MAX_DOCUMENT_BYTES} bytes"),
        ));
    }
    let max_age = res
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(max_age);
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| failed(url, describe(&e)))? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(failed(
                url,
                format!("the document is larger than {MAX_DOCUMENT_BYTES} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let json = serde_json::from_slice(&body).map_err(|e| failed(url, format!("not JSON: {e}")))?;
    tracing::debug!(%url, %status, bytes = body.len(), ?max_age, "fetched from an upstream");
    Ok(Document { json, max_age })
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        // The error's source chain names TLS failures (an unknown CA, a wrong name).
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    }
}

/// `max-age` of a Cache-Control value; `no-store`/`no-cache` count as 0.
pub fn max_age(value: &str) -> Option<i64> {
    let mut found = None;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(0);
        }
        if let Some(n) = lower.strip_prefix("max-age=") {
            found = n.trim_matches('"').parse::<i64>().ok();
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_and_no_store_counts_as_zero() {
        assert_eq!(max_age("public, max-age=300"), Some(300));
        assert_eq!(max_age("max-age=\"60\", private"), Some(60));
        assert_eq!(max_age("no-store, max-age=300"), Some(0));
        assert_eq!(max_age("public"), None);
    }

    #[test]
    fn plain_http_only_for_loopback_hosts() {
        assert!(parse_upstream_url("https://login.microsoftonline.com/x/v2.0").is_ok());
        assert!(parse_upstream_url("http://127.0.0.1:8080/x").is_ok());
        assert!(parse_upstream_url("http://localhost/x").is_ok());
        assert!(parse_upstream_url("http://[::1]:9/x").is_ok());
        assert!(parse_upstream_url("http://login.microsoftonline.com/x").is_err());
        assert!(parse_upstream_url("http://127.0.0.1.example.com/x").is_err());
        assert!(parse_upstream_url("ftp://localhost/x").is_err());
        assert!(parse_upstream_url("not a url").is_err());
    }
}

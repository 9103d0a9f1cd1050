//! HTTPS for local development: a development CA generated once into
//! `{keys_dir}/tls/` (users trust `ca.pem`), or kept in memory for an ephemeral server,
//! and a server certificate for localhost, 127.0.0.1, ::1 and the configured names,
//! issued from it at every start.

use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate generation failed: {0}")]
    Cert(#[from] rcgen::Error),
    #[error("TLS set-up failed: {0}")]
    Rustls(String),
}

/// The rustls configuration to serve with, and the CA clients must trust.
pub struct DevTls {
    pub config: rustls::ServerConfig,
    pub ca: DevCa,
}

/// The development CA's certificate, and the file holding it, if any.
#[derive(Debug, Clone)]
pub struct DevCa {
    pub pem: String,
    pub path: Option<PathBuf>,
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "localidp development CA");
    dn.push(DnType::OrganizationName, "localidp");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    // Clients check certificates against their own wall clock, not ours.
    let now = time_from_unix(crate::clock::Clock::system().now());
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    params
}

fn time_from_unix(t: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn write_private(path: &Path, contents: &str, mode: u32) -> Result<(), TlsError> {
    let io = |source| TlsError::Io {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = options.open(path).map_err(io)?;
    f.write_all(contents.as_bytes()).map_err(io)
}

/// Loads the development CA from `dir`, creating it on first use.
fn load_or_create_ca(dir: &Path) -> Result<(KeyPair, String, PathBuf), TlsError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| TlsError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let key_path = dir.join("ca-key.pem");
    let cert_path = dir.join("ca.pem");
    if key_path.exists() && cert_path.exists() {
        let key_pem = std::fs::read_to_string(&key_path).map_err(io(&key_path))?;
        let cert_pem = std::fs::read_to_string(&cert_path).map_err(io(&cert_path))?;
        return Ok((KeyPair::from_pem(&key_pem)?, cert_pem, cert_path));
    }
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let cert = ca_params().self_signed(&key)?;
    write_private(&key_path, &key.serialize_pem(), 0o600)?;
    write_private(&cert_path, &cert.pem(), 0o644)?;
    Ok((key, cert.pem(), cert_path))
}

/// Writes the CA certificate (never its key) where the user asked for it.
pub fn write_ca_certificate(path: &Path, pem: &str) -> Result<(), TlsError> {
    write_private(path, pem, 0o644)
}

/// The server certificate's names: loopback plus `extra` (host names or IPs).
fn server_params(extra: &[String]) -> Result<CertificateParams, TlsError> {
    let mut names = vec!["localhost".to_owned()];
    for n in extra {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    for n in &names {
        params
            .subject_alt_names
            .push(match n.parse::<std::net::IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(n.as_str().try_into()?),
            });
    }
    for ip in ["127.0.0.1", "::1"] {
        let ip: std::net::IpAddr = ip.parse().expect("a literal address");
        if !params.subject_alt_names.contains(&SanType::IpAddress(ip)) {
            params.subject_alt_names.push(SanType::IpAddress(ip));
        }
    }
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "localidp");
    params.distinguished_name = dn;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    // Clients check certificates against their own wall clock, not ours.
    let now = time_from_unix(crate::clock::Clock::system().now());
    params.not_before = now - time::Duration::hours(1);
    // Well under the 398 days browsers accept.
    params.not_after = now + time::Duration::days(365);
    Ok(params)
}

/// The CA (created once under `dir`, or in memory only without one) and a fresh
/// server certificate for `names`.
pub fn dev_tls(dir: Option<&Path>, names: &[String]) -> Result<DevTls, TlsError> {
    let (ca_key, ca_pem, ca_path) = match dir {
        Some(dir) => {
            let (key, pem, path) = load_or_create_ca(dir)?;
            (key, pem, Some(path))
        }
        None => {
            let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
            let pem = ca_params().self_signed(&key)?.pem();
            (key, pem, None)
        }
    };
    let issuer = Issuer::new(ca_params(), ca_key);
    let server_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let server_cert = server_params(names)?.signed_by(&server_key, &issuer)?;
    let ca_der = CertificateDer::from_pem_slice(ca_pem.as_bytes())
        .map_err(|e| TlsError::Rustls(format!("CA certificate: {e}")))?;
    let key_der = PrivateKeyDer::from_pem_slice(server_key.serialize_pem().as_bytes())
        .map_err(|e| TlsError::Rustls(format!("server key: {e}")))?;
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Rustls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![server_cert.der().clone(), ca_der], key_der)
        .map_err(|e| TlsError::Rustls(e.to_string()))?;
    Ok(DevTls {
        config,
        ca: DevCa {
            pem: ca_pem,
            path: ca_path,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = dev_tls(Some(dir.path()), &["idp.test".into()]).unwrap();
        let ca1 = std::fs::read(first.ca.path.as_ref().unwrap()).unwrap();
        assert_eq!(ca1, first.ca.pem.as_bytes());
        let second = dev_tls(Some(dir.path()), &[]).unwrap();
        assert_eq!(ca1, std::fs::read(second.ca.path.unwrap()).unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("ca-key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}

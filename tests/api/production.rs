//! `--env production` refuses to start while a development convenience is on, naming
//! each setting to change in one message, and starts when none is.

use std::ffi::OsString;
use std::time::Duration;

use crate::helpers::process::{Refused, serve_fixture, start};
use crate::helpers::*;

/// A key-encryption key: 32 bytes, base64.
const KEK: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// `localidp` in a fresh directory with these flags; it must refuse to start.
fn refused(flags: &[&str], env: &[(&str, &str)]) -> Refused {
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<OsString> = vec![
        "--database-url".into(),
        format!("sqlite://{}", dir.path().join("idp.db").display()).into(),
        "--keys-dir".into(),
        dir.path().join("keys").into(),
        "serve".into(),
        "--port".into(),
        "0".into(),
    ];
    args.extend(flags.iter().map(Into::into));
    match start(&args, env) {
        Ok(server) => panic!("started on port {}: {:?}", server.port, server.stdout),
        Err(refused) => refused,
    }
}

fn assert_names(r: &Refused, settings: &[&str]) {
    assert!(!r.status.success(), "exit {}: {}", r.status, r.stderr);
    assert!(
        r.stderr.contains("refusing to start in production"),
        "{}",
        r.stderr
    );
    for s in settings {
        assert!(r.stderr.contains(s), "{s} not named:\n{}", r.stderr);
    }
}

#[test]
fn a_default_start_in_production_is_refused_naming_every_setting_to_change() {
    let r = refused(&["--env", "production"], &[]);
    assert_names(
        &r,
        &[
            "--no-demo",
            "public_url",
            "trusted_proxies",
            "LOCALIDP_KEY_ENCRYPTION_KEY",
        ],
    );
    // One message: the refusal and its list, nothing started before it.
    assert!(!r.stderr.contains("/_dev"), "{}", r.stderr);
    assert!(!r.stderr.contains("--ephemeral"), "{}", r.stderr);
    // The environment variable says the same.
    let r = refused(&[], &[("LOCALIDP_ENV", "production")]);
    assert_names(&r, &["--no-demo", "public_url"]);
}

#[test]
fn each_development_convenience_is_refused_alone() {
    let https = ["--public-url", "https://idp.example.com"];
    let kek = [("LOCALIDP_KEY_ENCRYPTION_KEY", KEK)];
    let clean = |extra: &[&'static str]| {
        let mut flags = vec!["--env", "production", "--no-demo"];
        flags.extend(https);
        flags.extend(extra);
        flags
    };
    let r = refused(&clean(&["--dev"]), &kek);
    assert_names(&r, &["/_dev", "--dev"]);
    assert!(!r.stderr.contains("public_url"), "{}", r.stderr);
    let r = refused(&clean(&["--ephemeral"]), &kek);
    assert_names(&r, &["--ephemeral", "/_dev"]);
    // Private keys without a key-encryption key.
    let r = refused(&clean(&[]), &[]);
    assert_names(
        &r,
        &[
            "private signing keys are not encrypted",
            "key_encryption_key_file",
        ],
    );
    // The demo user and clients an empty database would get.
    let mut flags = vec!["--env", "production"];
    flags.extend(https);
    let r = refused(&flags, &kek);
    assert_names(&r, &["demo"]);
    // Plain HTTP without a proxy to terminate TLS; with one named, it starts (below).
    let r = refused(
        &[
            "--env",
            "production",
            "--no-demo",
            "--public-url",
            "http://idp.example.com",
        ],
        &kek,
    );
    assert_names(&r, &["plain HTTP"]);
    // An explicit http:// public URL is the issuer tokens name, proxy or not.
    let r = refused(
        &[
            "--env",
            "production",
            "--no-demo",
            "--public-url",
            "http://idp.example.com",
            "--trusted-proxies",
            "10.0.0.0/8",
        ],
        &kek,
    );
    assert_names(&r, &["plain HTTP", "does not change the issuer"]);
    // A bad value is a usage error, not development by default.
    let r = refused(&["--env", "staging"], &[]);
    assert!(
        !r.status.success() && r.stderr.contains("staging"),
        "{}",
        r.stderr
    );
}

#[test]
fn demo_data_left_by_a_development_start_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<OsString> = vec![
        "--database-url".into(),
        format!("sqlite://{}", dir.path().join("idp.db").display()).into(),
        "--keys-dir".into(),
        dir.path().join("keys").into(),
        "serve".into(),
        "--port".into(),
        "0".into(),
    ];
    // A default start: the demo user and clients.
    let server = start(&args, &[]).unwrap_or_else(|r| panic!("{}", r.stderr));
    assert!(server.stdout[0].contains("listening"));
    drop(server);
    args.extend(
        [
            "--env",
            "production",
            "--no-demo",
            "--public-url",
            "https://idp.example.com",
        ]
        .map(Into::into),
    );
    let r = match start(&args, &[("LOCALIDP_KEY_ENCRYPTION_KEY", KEK)]) {
        Ok(_) => panic!("started with the demo data"),
        Err(r) => r,
    };
    assert_names(
        &r,
        &[
            "demo user and clients",
            "localidp user delete --tenant localidp --email demo@localidp.test",
        ],
    );
}

on_every_backend!(a_clean_production_start_serves_and_stops_on_sigterm);

async fn a_clean_production_start_serves_and_stops_on_sigterm(backend: Backend) {
    let (settings, _fixture) = test_fixture(&backend);
    let mut server = serve_fixture(
        &settings,
        &[
            "--env",
            "production",
            "--trusted-proxies",
            "127.0.0.1",
            "--log-format",
            "json",
            "--default-tenant",
            "contoso.onmicrosoft.com",
        ],
        &[("LOCALIDP_KEY_ENCRYPTION_KEY", KEK)],
    );
    let http = crate::helpers::http_client();
    let res = http
        .get(format!("{}/healthz", server.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // No /_dev in production.
    let res = http
        .post(format!("{}/_dev/token", server.base()))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    server.signal("TERM");
    let (status, took) =
        tokio::task::spawn_blocking(move || server.wait_exit(Duration::from_secs(15)))
            .await
            .unwrap()
            .expect("exits");
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

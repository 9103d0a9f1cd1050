//! Independent verifiers reading only the JWKS URL accept localidp's tokens:
//! PyJWT's PyJWKClient and jose's createRemoteJWKSet, installed by the test itself
//! at the versions pinned in tests/interop/.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::helpers::*;
use serde_json::Value;

pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A virtualenv with the pinned PyJWT, made once per test run.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop-venv");
        let python = venv.join("bin/python");
        let ready = python.exists()
            && Command::new(&python)
                .args([
                    "-c",
                    "import jwt, msal, sys; sys.exit(jwt.__version__ != '2.15.1' or msal.__version__ != '1.39.0')",
                ])
                .status()
                .is_ok_and(|s| s.success());
        if !ready {
            run(Command::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(&venv));
            run(Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .arg(interop_dir().join("requirements.txt")));
        }
        python
    })
}

/// node_modules with the pinned jose, installed once per test run.
pub fn node_modules() -> &'static Path {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(|| {
        let dir = interop_dir();
        let installed = ["jose", "openid-client", "@azure/msal-node", "@mastra/auth"]
            .iter()
            .all(|p| {
                dir.join("node_modules")
                    .join(p)
                    .join("package.json")
                    .exists()
            });
        if !installed {
            run(Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir));
        }
        dir.join("node_modules")
    })
}

fn verify_with(program: &Path, script: &str, args: &[&str]) -> (bool, Value) {
    let out = Command::new(program)
        .arg(interop_dir().join(script))
        .args(args)
        .current_dir(interop_dir())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let value = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "{script} printed no JSON:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), value)
}

#[tokio::test]
async fn pyjwt_and_jose_verify_tokens_from_the_jwks_url_alone() {
    let python = python().to_owned();
    node_modules();
    let app = spawn_app().await;
    let jwks_url = app.url("/.well-known/jwks.json");
    let issuer = format!("{PUBLIC_URL}/{CONTOSO_ID}/v2.0");
    let user = app.alice_tokens("openid").await;
    let user_at = user["access_token"].as_str().unwrap().to_owned();
    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("scope", &format!("api://{API_APP}/.default")),
        ])
        .await;
    let app_at = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    for (program, script) in [
        (python.as_path(), "verify_pyjwt.py"),
        (Path::new("node"), "verify_jose.mjs"),
    ] {
        let (ok, c) = verify_with(program, script, &[&jwks_url, &user_at, &issuer, WEB_APP]);
        assert!(ok, "{script} rejected the user token: {c}");
        assert_eq!(c["oid"], ALICE_OID, "{script}");
        assert_eq!(c["email"], ALICE, "{script}");

        let (ok, c) = verify_with(program, script, &[&jwks_url, &app_at, &issuer, API_APP]);
        assert!(ok, "{script} rejected the app token: {c}");
        assert_eq!(
            c["roles"],
            serde_json::json!(["Tasks.Read.All"]),
            "{script}"
        );

        // The same verifiers refuse a tampered token and a wrong audience.
        let mut parts: Vec<String> = user_at.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].chars().rev().collect();
        let (ok, c) = verify_with(
            program,
            script,
            &[&jwks_url, &parts.join("."), &issuer, WEB_APP],
        );
        assert!(!ok, "{script} accepted a tampered token: {c}");
        let (ok, c) = verify_with(program, script, &[&jwks_url, &user_at, &issuer, API_APP]);
        assert!(!ok, "{script} accepted a token for another audience: {c}");
    }
}

//! The independent client libraries of the interop tests (PyJWT, MSAL Python, jose,
//! msal-node, openid-client, @mastra/auth): installed once per test run at the versions
//! pinned in tests/interop/, and run as child processes that print JSON.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

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

/// A virtualenv with the Python packages pinned in tests/interop/requirements.txt
/// (PyJWT, MSAL, FastAPI, httpx), made once and again when the pins change.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| venv_python("interop-venv", &interop_dir().join("requirements.txt")))
}

/// A virtualenv `name` under the target directory with the packages pinned in
/// `requirements`, made when missing and again when the pins change; its python.
pub fn venv_python(name: &str, requirements: &Path) -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let python = venv.join("bin/python");
    let wanted = std::fs::read_to_string(requirements).expect("requirements file");
    // The pins the venv was made from, written after a successful install.
    let stamp = venv.join("requirements.installed");
    let ready = python.exists() && std::fs::read_to_string(&stamp).is_ok_and(|had| had == wanted);
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
            .arg(requirements));
        std::fs::write(&stamp, &wanted).expect("write the venv's stamp");
    }
    python
}

/// node_modules with the pinned Node packages, installed once per test run.
pub fn node_modules() -> &'static Path {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(|| {
        let dir = interop_dir();
        let installed = [
            "jose",
            "openid-client",
            "@azure/msal-node",
            "@mastra/auth",
            "@microsoft/microsoft-graph-client",
        ]
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

/// Runs a verifier script of tests/interop/ with `args`: whether it exited 0, and the
/// JSON it printed.
pub fn verify_with(program: &Path, script: &str, args: &[&str]) -> (bool, Value) {
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

/// Runs a client script off the test's runtime thread, which also drives the server;
/// it must succeed and print JSON.
pub async fn run_json(mut cmd: Command, what: &'static str) -> Value {
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "{what} printed no JSON:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

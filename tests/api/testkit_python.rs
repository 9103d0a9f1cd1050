//! The Python test kit (python/: the `localidp` package and its pytest plugin) runs its
//! example suite (tests/testkit/python/) with pytest in the interop venv, against this
//! build's binary. The kit starts its own `--ephemeral` servers (in-memory SQLite), so the
//! test runs once, not on every backend.

use std::path::Path;
use std::process::Command;

use crate::helpers::clients::python;

/// The example suite's tests; a test that stops being collected or is skipped fails this.
const EXAMPLE_TESTS: u32 = 20;

#[tokio::test]
async fn the_pytest_plugin_runs_its_example_suite_against_this_build() {
    let python = python().to_owned();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new(python);
    cmd.args([
        "-m",
        "pytest",
        "-p",
        "localidp.pytest_plugin",
        "-p",
        "no:cacheprovider",
    ])
    .args(["-q", "-rfEs", "--color=no"])
    .current_dir(root.join("tests/testkit/python"))
    .env("PYTHONPATH", root.join("python"))
    .env("PYTHONDONTWRITEBYTECODE", "1");
    // The kit's servers take their settings from flags only; LOCALIDP_BIN names this build.
    for (name, _) in std::env::vars() {
        if name.starts_with("LOCALIDP_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("LOCALIDP_BIN", env!("CARGO_BIN_EXE_localidp"));
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("run pytest");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "pytest failed:\n{report}");

    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.contains(" passed"))
        .unwrap_or_else(|| panic!("no pytest summary:\n{report}"));
    let count = |what: &str| -> u32 {
        summary
            .split(", ")
            .filter_map(|part| {
                let mut words = part.trim_matches('=').split_whitespace();
                let n: u32 = words.next()?.parse().ok()?;
                words.next().filter(|w| w.starts_with(what)).map(|_| n)
            })
            .sum()
    };
    assert_eq!(count("passed"), EXAMPLE_TESTS, "{summary}\n{report}");
    for what in ["failed", "error", "skipped", "xfail", "xpass", "deselected"] {
        assert_eq!(count(what), 0, "{what} in: {summary}\n{report}");
    }
}

//! The Node test kit (node/): the example project in tests/testkit/node, an API that
//! validates tokens with jose and a client using msal-node, runs its `node --test` suite
//! against this build's binary; every test it declares must run and pass.

use std::path::{Path, PathBuf};
use std::process::Command;

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testkit/node")
}

/// `npm ci` from the example's package-lock.json, again when the lock changes.
fn install(dir: &Path) {
    let lock = std::fs::read_to_string(dir.join("package-lock.json")).expect("package-lock.json");
    // The lock the node_modules were installed from, written after a successful install.
    let stamp = dir.join("node_modules/.localidp-installed-lock");
    let linked = dir.join("node_modules/localidp/package.json").exists();
    if linked && std::fs::read_to_string(&stamp).is_ok_and(|had| had == lock) {
        return;
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .output()
        .expect("cannot run npm");
    assert!(
        out.status.success(),
        "npm ci failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&stamp, lock).expect("write the install stamp");
}

/// The `# NAME N` summary line of node's TAP output.
fn count(tap: &str, name: &str) -> usize {
    let prefix = format!("# {name} ");
    tap.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `# {name}` line in node's output:\n{tap}"))
}

#[test]
fn the_node_kits_example_suite_passes_with_jose_and_msal_node() {
    let dir = example_dir();
    install(&dir);
    let files = ["api.test.mjs", "msal.test.mjs"];
    // Tests declared at the top level of the files: each must be reported as passed.
    let declared: usize = files
        .iter()
        .map(|f| {
            let src = std::fs::read_to_string(dir.join(f)).unwrap();
            src.lines().filter(|l| l.starts_with("test(")).count()
        })
        .sum();
    let out = Command::new("node")
        .args(["--test", "--test-reporter=tap", "--test-timeout=120000"])
        .args(files)
        .current_dir(&dir)
        .env("LOCALIDP_BIN", env!("CARGO_BIN_EXE_localidp"))
        .env_remove("NODE_OPTIONS")
        .output()
        .expect("cannot run node");
    let tap = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "node --test failed:\n{tap}\n{stderr}");
    assert_eq!(count(&tap, "fail"), 0, "{tap}");
    for name in ["cancelled", "skipped", "todo"] {
        assert_eq!(count(&tap, name), 0, "{name}:\n{tap}");
    }
    assert!(declared >= 14, "the example suite lost tests: {declared}");
    assert_eq!(count(&tap, "tests"), declared, "{tap}");
    assert_eq!(count(&tap, "pass"), declared, "{tap}\n{stderr}");
}

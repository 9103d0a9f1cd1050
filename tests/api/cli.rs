//! The `localidp` binary as a user runs it: admin commands, then `serve --port 0`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_localidp");

fn localidp(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args([
            "--database-url",
            &format!("sqlite://{}/db.sqlite", dir.display()),
        ])
        .args(["--keys-dir", &format!("{}/keys", dir.display())])
        .args(args)
        .env("LOCALIDP_LOG", "warn")
        .output()
        .expect("run localidp");
    assert!(
        out.status.success(),
        "localidp {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A `localidp serve` child process, killed on drop.
struct Server {
    child: Child,
    base: String,
    banner: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(args: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(["--port", "0"])
        .args(args)
        .env("LOCALIDP_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start localidp serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = String::new();
    let mut base = None;
    // The banner ends with the demo/seed report; read until the endpoints line and
    // whatever report lines follow within the first few.
    for _ in 0..12 {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) = line.split("listening on ").nth(1) {
            base = Some(rest.split_whitespace().next().unwrap().to_owned());
        }
        banner.push_str(&line);
        banner.push('\n');
        if line.contains("shown once")
            || (line.contains("endpoints:") && !args.contains(&"--ephemeral"))
        {
            break;
        }
    }
    Server {
        child,
        base: base.unwrap_or_else(|| panic!("no listening line in:\n{banner}")),
        banner,
    }
}

#[tokio::test]
async fn ephemeral_first_start_prints_demo_data_that_works_as_the_readme_says() {
    let server = serve(&["--ephemeral"]);
    assert!(
        server
            .banner
            .contains("demo user:           demo@localidp.test / demo-password"),
        "{}",
        server.banner
    );
    assert!(
        server
            .banner
            .contains("00000000-0000-4000-8000-00000000d3e0"),
        "{}",
        server.banner
    );
    let http = reqwest::Client::new();
    // The README walk-through: password grant with the demo public client, then verify.
    let res = http
        .post(format!("{}/auth/token", server.base))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "00000000-0000-4000-8000-00000000d3e0"),
            ("username", "demo@localidp.test"),
            ("password", "demo-password"),
            ("scope", "openid offline_access"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let res = http
        .get(format!("{}/auth/verify", server.base))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let who: Value = res.json().await.unwrap();
    assert_eq!(who["email"], "demo@localidp.test");

    // The confidential demo client's secret from the banner works too.
    let line = server
        .banner
        .lines()
        .find(|l| l.contains("demo API client"))
        .unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    let (id, secret) = (words[3], words[5]);
    let res = http
        .post(format!("{}/auth/token", server.base))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn admin_commands_then_serve() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let oid = localidp(
        d,
        &[
            "user",
            "add",
            "--email",
            "Ann@Example.com",
            "--password",
            "ann-pw",
            "--roles",
            "Reader,Writer",
            "--groups",
            "staff",
        ],
    );
    let oid = oid.split('\t').next().unwrap().to_owned();
    let bcrypt = bcrypt::hash("imported-pw", 4).unwrap();
    localidp(
        d,
        &[
            "user",
            "add",
            "--email",
            "imp@example.com",
            "--password-hash",
            &bcrypt,
        ],
    );
    let jsonl = d.join("users.jsonl");
    std::fs::write(
        &jsonl,
        format!(
            "{{\"email\":\"bulk1@example.com\",\"password_hash\":\"{bcrypt}\",\"name\":\"Bulk One\"}}\n{{\"email\":\"bulk2@example.com\",\"password_hash\":\"{bcrypt}\"}}\n"
        ),
    )
    .unwrap();
    assert!(
        localidp(d, &["user", "import", jsonl.to_str().unwrap()]).starts_with("imported 2 users")
    );
    let list = localidp(d, &["user", "list"]);
    for email in [
        "Ann@Example.com",
        "imp@example.com",
        "bulk1@example.com",
        "bulk2@example.com",
    ] {
        assert!(list.contains(email), "{list}");
    }
    let added = localidp(
        d,
        &["client", "add", "--name", "svc", "--app-role", "Jobs.Run"],
    );
    let field = |name: &str| {
        added
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    };
    let (client_id, secret) = (field("client_id"), field("client_secret"));
    assert!(secret.len() >= 43, "server-generated 256-bit secret");
    assert!(localidp(d, &["client", "list"]).contains(&client_id));

    let db = format!("sqlite://{}/db.sqlite", d.display());
    let keys = format!("{}/keys", d.display());
    let server = serve(&["--database-url", &db, "--keys-dir", &keys]);
    let http = reqwest::Client::new();
    let token = |user: &'static str, pw: &'static str| {
        http.post(format!("{}/auth/token", server.base))
            .form(&[
                ("grant_type", "password"),
                ("client_id", client_id.as_str()),
                ("client_secret", secret.as_str()),
                ("username", user),
                ("password", pw),
            ])
            .send()
    };
    let res = token("ann@example.com", "ann-pw").await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let at = body["access_token"].as_str().unwrap();
    let res = http
        .get(format!("{}/auth/verify", server.base))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    let who: Value = res.json().await.unwrap();
    assert_eq!(who["user_id"], oid.as_str());
    assert_eq!(who["roles"], serde_json::json!(["Reader", "Writer"]));
    assert_eq!(who["groups"].as_array().unwrap().len(), 1);
    assert_eq!(
        token("imp@example.com", "imported-pw")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        token("bulk1@example.com", "imported-pw")
            .await
            .unwrap()
            .status(),
        200
    );

    // Changes made with the CLI apply to the running server.
    localidp(
        d,
        &[
            "user",
            "set-password",
            "--email",
            "ann@example.com",
            "--password",
            "new-pw",
        ],
    );
    assert_eq!(
        token("ann@example.com", "ann-pw").await.unwrap().status(),
        400
    );
    assert_eq!(
        token("ann@example.com", "new-pw").await.unwrap().status(),
        200
    );
    localidp(d, &["user", "disable", "--email", "ann@example.com"]);
    assert_eq!(
        token("ann@example.com", "new-pw").await.unwrap().status(),
        400
    );
    localidp(d, &["user", "enable", "--email", "ann@example.com"]);
    assert_eq!(
        token("ann@example.com", "new-pw").await.unwrap().status(),
        200
    );
    localidp(d, &["user", "delete", "--email", "imp@example.com"]);
    assert_eq!(
        token("imp@example.com", "imported-pw")
            .await
            .unwrap()
            .status(),
        400
    );

    let rotated = localidp(d, &["keys", "rotate"]);
    assert!(rotated.starts_with("new active key"), "{rotated}");
    let listed = localidp(d, &["keys", "list"]);
    assert!(
        listed.contains("active") && listed.contains("previous"),
        "{listed}"
    );
    // The token signed before the rotation still verifies.
    let res = http
        .get(format!("{}/auth/verify", server.base))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    drop(server);

    // Key files are private.
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(d.join("keys")).unwrap() {
        let mode = entry.unwrap().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn cli_errors_are_clear_and_nonzero() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "--database-url",
            &format!("sqlite://{}/db.sqlite", dir.path().display()),
        ])
        .args(["user", "add", "--email", "not-an-email", "--password", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an email address"));
    let out = Command::new(BIN)
        .args([
            "--database-url",
            &format!("sqlite://{}/db.sqlite", dir.path().display()),
        ])
        .args([
            "user",
            "add",
            "--email",
            "a@b.c",
            "--password-hash",
            "plaintext",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither bcrypt"));
}

fn help(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).arg("--help").output().unwrap();
    assert!(out.status.success(), "localidp {args:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn each_command_lists_its_own_flags_and_only_serve_the_servers() {
    let server_flags = ["--port", "--public-url", "--tls", "--workers", "--seed"];
    for (command, own) in [
        (["user", "add"], "--email"),
        (["client", "add"], "--redirect-uri"),
        (["keys", "rotate"], "--keys-dir"),
    ] {
        let text = help(&command);
        assert!(
            text.contains(own) && text.contains("--database-url"),
            "{text}"
        );
        for flag in server_flags {
            assert!(!text.contains(flag), "{command:?} lists {flag}:\n{text}");
        }
    }
    let text = help(&["serve"]);
    for flag in server_flags.iter().chain(&["--database-url", "--keys-dir"]) {
        assert!(text.contains(flag), "serve lacks {flag}:\n{text}");
    }
}

#[test]
fn a_server_flag_before_an_admin_command_is_refused() {
    let out = Command::new(BIN)
        .args(["--port", "0", "user", "list"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--port is a flag of serve"), "{stderr}");
}

#[test]
fn without_a_command_localidp_serves_with_the_flags_given() {
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--ephemeral"])
        .env("LOCALIDP_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.contains("listening on http://127.0.0.1:") && !first.contains(":8080 "),
        "{first}"
    );
}

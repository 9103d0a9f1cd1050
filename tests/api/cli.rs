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
    // The banner ends with the demo/seed report; read until the default client line
    // (after the endpoints) and whatever report lines follow within the first few.
    for _ in 0..12 {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) = line.split("listening on ").nth(1) {
            base = Some(rest.split_whitespace().next().unwrap().to_owned());
        }
        banner.push_str(&line);
        banner.push('\n');
        if line.contains("shown once")
            || (line.contains("default client:") && !args.contains(&"--ephemeral"))
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
    let http = crate::helpers::http_client();
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
    assert_eq!(who["name"], "Demo User");
    assert_eq!(who["aud"], "00000000-0000-4000-8000-00000000d3e0");
    assert_eq!(who["scp"], "openid");
    assert_eq!(who["roles"], serde_json::json!(["Admin"]));
    assert_eq!(who["idtyp"], "user");
    // Exactly the fields the README's table lists (`policy` only for B2C tokens).
    let mut fields: Vec<&str> = who
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "aud",
            "auth_method",
            "azp",
            "email",
            "exp",
            "groups",
            "idtyp",
            "name",
            "roles",
            "scp",
            "tid",
            "user_id"
        ]
    );

    // The confidential demo client's secret from the banner works too.
    let line = server
        .banner
        .lines()
        .find(|l| l.contains("demo API client"))
        .unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    let (id, secret) = (words[3], words[5]);
    // It is the default client, named in the banner: a form without client_id (and
    // here without grant_type) gets a token for it.
    assert!(
        server
            .banner
            .contains(&format!("default client: {id} (demo-api)")),
        "{}",
        server.banner
    );
    let res = http
        .post(format!("{}/auth/token", server.base))
        .form(&[
            ("username", "demo@localidp.test"),
            ("password", "demo-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let res = http
        .get(format!("{}/auth/verify?audience={id}", server.base))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
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
    let http = crate::helpers::http_client();
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
    let res = token("bulk1@example.com", "imported-pw").await.unwrap();
    assert_eq!(res.status(), 200);
    // A token of a user whom nothing below disables: it outlives the key rotation.
    let bulk1: Value = res.json().await.unwrap();
    let at = bulk1["access_token"].as_str().unwrap().to_owned();

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
        .bearer_auth(&at)
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
    assert!(String::from_utf8_lossy(&out.stderr).contains("no accepted format"));
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
        (["client", "set-default"], "--none"),
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
    for flag in server_flags
        .iter()
        .chain(&["--database-url", "--keys-dir", "--verify-tenants"])
    {
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

/// A `localidp` child process whose stdout and stderr are collected as they come;
/// killed on drop.
struct Running {
    child: Child,
    stdout: Output,
    stderr: Output,
}

/// A child's output so far, and a signal for each line that arrives.
type Output = std::sync::Arc<(std::sync::Mutex<String>, std::sync::Condvar)>;

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Starts `localidp ARGS` in `cwd` with `env` added and LOCALIDP_LOG/RUST_LOG unset.
    fn start(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Running {
        let mut child = Command::new(BIN)
            .current_dir(cwd)
            .args(args)
            .env_remove("LOCALIDP_LOG")
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start localidp");
        let collect = |stream: Box<dyn std::io::Read + Send>| {
            let text: Output = Default::default();
            let sink = text.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut text = sink.0.lock().unwrap();
                    text.push_str(&line);
                    text.push('\n');
                    sink.1.notify_all();
                }
            });
            text
        };
        let stdout = collect(Box::new(child.stdout.take().unwrap()));
        let stderr = collect(Box::new(child.stderr.take().unwrap()));
        Running {
            child,
            stdout,
            stderr,
        }
    }

    /// Waits until stdout (or stderr) contains `needle`; returns all of it so far.
    fn wait_for(&self, from_stderr: bool, needle: &str) -> String {
        let text = if from_stderr {
            &self.stderr
        } else {
            &self.stdout
        };
        let (lock, arrived) = &**text;
        let (seen, _) = arrived
            .wait_timeout_while(
                lock.lock().unwrap(),
                std::time::Duration::from_secs(15),
                |t| !t.contains(needle),
            )
            .unwrap();
        if seen.contains(needle) {
            return seen.clone();
        }
        drop(seen);
        panic!(
            "no {needle:?} within 15 s; stdout:\n{}\nstderr:\n{}",
            self.stdout.0.lock().unwrap(),
            self.stderr.0.lock().unwrap()
        );
    }

    /// The base URL from the banner's first line.
    fn base(&self) -> String {
        let banner = self.wait_for(false, "endpoints:");
        let rest = banner.split("listening on ").nth(1).unwrap();
        rest.split_whitespace().next().unwrap().to_owned()
    }
}

/// Every file and folder under `dir`, relative to it, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            out.push(path.strip_prefix(dir).unwrap().display().to_string());
            if path.is_dir() {
                todo.push(path);
            }
        }
    }
    out.sort();
    out
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn group_list_shows_ids_and_names_and_user_show_a_users_fields_roles_and_groups() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let added = localidp(
        d,
        &[
            "user",
            "add",
            "--email",
            "Ann@Example.com",
            "--password",
            "ann-pw",
            "--name",
            "Ann Example",
            "--given-name",
            "Ann",
            "--roles",
            "Reader,Writer",
            "--groups",
            "staff,admins",
        ],
    );
    let oid = added.split('\t').next().unwrap();
    let groups = localidp(d, &["group", "list"]);
    let mut lines = groups.lines();
    assert_eq!(lines.next(), Some("id\tname"), "{groups}");
    let listed: Vec<(String, String)> = lines
        .map(|l| {
            let (id, name) = l.split_once('\t').unwrap();
            (id.to_owned(), name.to_owned())
        })
        .collect();
    let names: Vec<&str> = listed.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["admins", "staff"], "{groups}");
    for (id, _) in &listed {
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{groups}");
    }

    let shown = localidp(d, &["user", "show", "ann@example.com"]);
    let field = |name: &str| {
        shown
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name}: in\n{shown}"))
            .trim()
            .to_owned()
    };
    assert_eq!(field("oid"), oid);
    assert_eq!(field("email"), "Ann@Example.com");
    assert_eq!(field("name"), "Ann Example");
    assert_eq!(field("given_name"), "Ann");
    assert_eq!(field("disabled"), "false");
    assert_eq!(field("password"), "set");
    assert_eq!(field("roles"), "Reader,Writer");
    // Each group with the id `group list` shows (the `groups` claim's value).
    for (id, name) in &listed {
        assert!(
            shown.lines().any(|l| l.ends_with(&format!("{id} {name}"))),
            "{name} ({id}) missing:\n{shown}"
        );
    }
    assert!(!shown.contains("$argon2"), "no hash is printed:\n{shown}");

    // An unknown user is an error, not an empty answer.
    let out = Command::new(BIN)
        .args([
            "--database-url",
            &format!("sqlite://{}/db.sqlite", d.display()),
        ])
        .args(["user", "show", "nobody@example.com"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody@example.com not found"));
}

#[test]
fn the_sqlite_database_is_created_readable_by_its_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    localidp(d, &["user", "list"]);
    let db = d.join("db.sqlite");
    assert_eq!(mode(&db), 0o600, "{}", db.display());
    // SQLite gives its journal files the database's mode.
    for suffix in ["-wal", "-shm"] {
        let side = d.join(format!("db.sqlite{suffix}"));
        if side.exists() {
            assert_eq!(mode(&side), 0o600, "{}", side.display());
        }
    }
}

#[test]
fn relative_paths_in_a_config_file_are_taken_from_its_folder_and_flags_from_the_working_directory()
{
    let conf = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(
        conf.path().join("localidp.toml"),
        r#"
database_url = "sqlite://state/idp.db"
keys_dir = "state/keys"
seed = "seed.toml"

[[trusted_issuers]]
issuer = "https://login.example.com/v2.0"
jwks_file = "issuer-keys.json"
"#,
    )
    .unwrap();
    std::fs::write(
        conf.path().join("seed.toml"),
        "[[tenants]]\nname = \"paths.example\"\n\n[[groups]]\nname = \"seeded-group\"\n",
    )
    .unwrap();
    std::fs::write(
        conf.path().join("issuer-keys.json"),
        r#"{"keys":[{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw","e":"AQAB"}]}"#,
    )
    .unwrap();
    let config = conf.path().join("localidp.toml");
    let config = config.to_str().unwrap();

    // serve: the database, keys and seed come from the config file's folder; the
    // trusted issuer's JWKS file is found there too, or the start would fail.
    let server = Running::start(cwd.path(), &["-c", config, "serve", "--port", "0"], &[]);
    let banner = server.wait_for(false, "Seed applied");
    drop(server);
    assert!(
        conf.path().join("state/idp.db").is_file(),
        "{banner}\n{:?}",
        tree(conf.path())
    );
    assert!(
        std::fs::read_dir(conf.path().join("state/keys"))
            .unwrap()
            .any(|e| e.unwrap().path().extension().is_some_and(|x| x == "pem")),
        "{:?}",
        tree(conf.path())
    );
    assert!(
        tree(cwd.path()).is_empty(),
        "nothing in the working directory: {:?}",
        tree(cwd.path())
    );

    // An admin command finds the same database from elsewhere.
    let out = Command::new(BIN)
        .current_dir(cwd.path())
        .args(["-c", config, "group", "list"])
        .env("LOCALIDP_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("seeded-group"));

    // A path given as a flag is relative to the working directory.
    let out = Command::new(BIN)
        .current_dir(cwd.path())
        .args([
            "-c",
            config,
            "--database-url",
            "sqlite://flag.db",
            "user",
            "list",
        ])
        .env("LOCALIDP_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        cwd.path().join("flag.db").is_file(),
        "{:?}",
        tree(cwd.path())
    );
}

/// One HTTPS GET of `path` on localhost:`port`, trusting only `ca_pem`; the status line.
fn https_get_trusting(ca_pem: &str, port: u16, path: &str) -> String {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    use std::io::{Read, Write};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(std::sync::Arc::new(config), "localhost".try_into().unwrap())
            .unwrap();
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response);
    String::from_utf8_lossy(&response)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn ephemeral_with_tls_writes_nothing_and_prints_its_ca_or_saves_it_where_asked() {
    let cwd = tempfile::tempdir().unwrap();
    let server = Running::start(
        cwd.path(),
        &["serve", "--ephemeral", "--tls", "--port", "0"],
        &[],
    );
    let banner = server.wait_for(false, "-----END CERTIFICATE-----");
    let pem = &banner[banner.find("-----BEGIN CERTIFICATE-----").unwrap()..];
    let port: u16 = server.base().rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(https_get_trusting(pem, port, "/healthz"), "HTTP/1.1 200 OK");
    drop(server);
    assert!(
        tree(cwd.path()).is_empty(),
        "--ephemeral --tls wrote {:?}",
        tree(cwd.path())
    );

    // --tls-ca-out: the certificate (not the key) where asked, and nothing else.
    let server = Running::start(
        cwd.path(),
        &[
            "serve",
            "--ephemeral",
            "--tls",
            "--tls-ca-out",
            "dev-ca.pem",
            "--port",
            "0",
        ],
        &[],
    );
    // The TLS lines come after the endpoints line: wait for their last one.
    let banner = server.wait_for(false, "NODE_EXTRA_CA_CERTS");
    assert!(banner.contains("dev-ca.pem"), "{banner}");
    let port: u16 = server.base().rsplit(':').next().unwrap().parse().unwrap();
    let saved = std::fs::read_to_string(cwd.path().join("dev-ca.pem")).unwrap();
    assert!(!saved.contains("PRIVATE KEY"));
    assert_eq!(
        https_get_trusting(&saved, port, "/healthz"),
        "HTTP/1.1 200 OK"
    );
    drop(server);
    assert_eq!(tree(cwd.path()), ["dev-ca.pem"]);
}

#[test]
fn each_request_is_logged_by_default_with_method_path_status_and_no_query_string() {
    let cwd = tempfile::tempdir().unwrap();
    let server = Running::start(cwd.path(), &["serve", "--ephemeral", "--port", "0"], &[]);
    let base = server.base();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let http = crate::helpers::http_client();
        let res = http
            .get(format!(
                "{base}/.well-known/openid-configuration?client_secret=hunter2"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let res = http
            .post(format!("{base}/auth/token?password=hunter3"))
            .form(&[("grant_type", "password")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
    });
    let log = server.wait_for(true, "\"POST /auth/token\" 400 ");
    assert!(
        log.contains("\"GET /.well-known/openid-configuration\" 200 "),
        "{log}"
    );
    assert!(log.contains("localidp::request"), "{log}");
    assert!(!log.contains("hunter"), "a query string was logged:\n{log}");
}

#[test]
fn pkce_allow_plain_is_an_on_off_flag_also_set_by_env_or_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.toml");
    std::fs::write(
        &seed,
        r#"[[tenants]]
name = "pkce.example"

[[clients]]
client_id = "web"
secret = "a-long-random-secret-for-the-web-app"
redirect_uris = ["http://localhost:3000/cb"]
"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("on.toml"), "pkce_allow_plain = true\n").unwrap();
    let seed = seed.to_str().unwrap();
    let on_toml = dir.path().join("on.toml");
    let authorize_plain = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["serve", "--ephemeral", "--port", "0", "--seed", seed];
        args.extend_from_slice(extra);
        let server = Running::start(dir.path(), &args, env);
        let base = server.base();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let status = rt.block_on(async {
            crate::helpers::http_client_builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .get(format!("{base}/authorize"))
                .query(&[
                    ("client_id", "web"),
                    ("redirect_uri", "http://localhost:3000/cb"),
                    ("response_type", "code"),
                    ("scope", "openid"),
                    ("state", "s"),
                    (
                        "code_challenge",
                        "plain-verifier-plain-verifier-plain-verifier-0",
                    ),
                    ("code_challenge_method", "plain"),
                ])
                .send()
                .await
                .unwrap()
                .status()
        });
        status.as_u16()
    };
    // Refused (an error redirect to the app) unless turned on; the login page when on.
    assert_eq!(authorize_plain(&[], &[]), 302);
    assert_eq!(authorize_plain(&["--pkce-allow-plain"], &[]), 200);
    assert_eq!(
        authorize_plain(&[], &[("LOCALIDP_PKCE_ALLOW_PLAIN", "true")]),
        200
    );
    assert_eq!(
        authorize_plain(&["-c", on_toml.to_str().unwrap()], &[]),
        200
    );
    // A flag without a value: `--pkce-allow-plain true` is not its syntax any more.
    let out = Command::new(BIN)
        .args([
            "serve",
            "--ephemeral",
            "--port",
            "0",
            "--pkce-allow-plain",
            "true",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// The value after `name` on the line of `client add`'s output that starts with it.
fn printed(output: &str, name: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .unwrap_or_else(|| panic!("no {name} in:\n{output}"))
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// The client ids `client list` marks as the default.
fn listed_defaults(dir: &Path) -> Vec<String> {
    localidp(dir, &["client", "list"])
        .lines()
        .skip(1)
        .filter(|l| l.ends_with("\tdefault"))
        .map(|l| l.split('\t').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_default_client_is_named_with_the_cli_and_in_the_banner() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    localidp(
        d,
        &[
            "user",
            "add",
            "--email",
            "ann@example.com",
            "--password",
            "ann-pw",
        ],
    );
    // Being first does not make a client the default.
    let first = printed(
        &localidp(d, &["client", "add", "--name", "first", "--public"]),
        "client_id",
    );
    assert!(listed_defaults(d).is_empty());
    let added = localidp(d, &["client", "add", "--name", "second", "--default"]);
    let second = printed(&added, "client_id");
    assert!(
        added.contains("the default client of tenant localidp"),
        "{added}"
    );
    assert_eq!(listed_defaults(d), [second.as_str()]);

    // A client that cannot sign users in with a password cannot be the default; `add`
    // then creates nothing.
    let out = Command::new(BIN)
        .args([
            "--database-url",
            &format!("sqlite://{}/db.sqlite", d.display()),
        ])
        .args([
            "client",
            "add",
            "--name",
            "daemon",
            "--grant",
            "client_credentials",
            "--default",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not allowed the password grant"),
        "{stderr}"
    );
    assert!(!localidp(d, &["client", "list"]).contains("daemon"));
    let out = Command::new(BIN)
        .args([
            "--database-url",
            &format!("sqlite://{}/db.sqlite", d.display()),
        ])
        .args(["client", "set-default", "no-such-client"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-client"));

    localidp(d, &["client", "set-default", &first]);
    assert_eq!(listed_defaults(d), [first.as_str()]);
    let db = format!("sqlite://{}/db.sqlite", d.display());
    let keys = format!("{}/keys", d.display());
    let http = crate::helpers::http_client();
    let form = [("username", "ann@example.com"), ("password", "ann-pw")];
    {
        let server = serve(&["--database-url", &db, "--keys-dir", &keys]);
        assert!(
            server
                .banner
                .contains(&format!("default client: {first} (first)")),
            "{}",
            server.banner
        );
        let res = http
            .post(format!("{}/auth/token", server.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        let payload = body["access_token"]
            .as_str()
            .unwrap()
            .split('.')
            .nth(1)
            .unwrap();
        let claims: Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["aud"], first.as_str());
    }

    let cleared = localidp(d, &["client", "set-default", "--none"]);
    assert!(cleared.contains("has no default client"), "{cleared}");
    assert!(listed_defaults(d).is_empty());
    let server = serve(&["--database-url", &db, "--keys-dir", &keys]);
    assert!(
        server.banner.contains("default client: none")
            && server
                .banner
                .contains("localidp client set-default CLIENT_ID"),
        "{}",
        server.banner
    );
    let res = http
        .post(format!("{}/auth/token", server.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    let d = body["error_description"].as_str().unwrap();
    assert!(
        d.contains("localidp client set-default CLIENT_ID --tenant localidp"),
        "{d}"
    );
}

#[tokio::test]
async fn client_add_registers_redirect_uris_by_entra_platform_type() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let added = localidp(
        d,
        &[
            "client",
            "add",
            "--public",
            "--name",
            "spa",
            "--spa-redirect-uri",
            "http://localhost:5173/",
            "--public-client-redirect-uri",
            "msal-spa://auth",
            "--web-redirect-uri",
            "http://localhost:3000/cb",
        ],
    );
    let client_id = printed(&added, "client_id");
    // A SPA redirect URI must be a web origin.
    let out = Command::new(BIN)
        .args([
            "--database-url",
            &format!("sqlite://{}/db.sqlite", d.display()),
        ])
        .args(["client", "add", "--public", "--name", "bad"])
        .args(["--spa-redirect-uri", "msal-spa://auth"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SPA redirect URI"));

    let db = format!("sqlite://{}/db.sqlite", d.display());
    let keys = format!("{}/keys", d.display());
    let server = serve(&["--database-url", &db, "--keys-dir", &keys]);
    let http = crate::helpers::http_client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Every type is a redirect URI; only the SPA one's origin may call the token endpoint.
    for (uri, status) in [
        ("http://localhost:5173/", 200),
        ("msal-spa://auth", 200),
        ("http://localhost:3000/cb", 200),
        ("http://localhost:9999/", 400),
    ] {
        let res = http
            .get(format!("{}/authorize", server.base))
            .query(&[
                ("client_id", client_id.as_str()),
                ("redirect_uri", uri),
                ("response_type", "code"),
                ("scope", "openid"),
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "S256"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{uri}");
    }
    for (origin, allowed) in [
        ("http://localhost:5173", true),
        ("http://localhost:3000", false),
    ] {
        let res = http
            .post(format!("{}/auth/token", server.base))
            .header("origin", origin)
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", client_id.as_str()),
                ("refresh_token", "x"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers().get("access-control-allow-origin").is_some(),
            allowed,
            "{origin}"
        );
    }
}

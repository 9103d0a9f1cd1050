//! `localidp migrate`, `export` and `import`: a SQLite directory of 10,000 users (with
//! groups, memberships, clients with secrets, app roles, directory roles, an API key,
//! refresh tokens) moved to PostgreSQL (to another SQLite file when
//! LOCALIDP_TEST_POSTGRES_URL is unset) by the real binary, then served from there.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output};

use localidp::db::DatabaseTarget;
use serde_json::Value;

use crate::helpers::*;

const USERS: usize = 10_000;
/// A second secret of the daemon client (Graph's `addPassword` kind).
const ADDED_SECRET: &str = "added-secret-0123456789abcdefghijklmnopqr";
/// Distinct passwords (and bcrypt hashes, cost 4) among the users: user `i` has
/// password `i % PASSWORDS`, so hashing stays cheap and every user still has one.
const PASSWORDS: usize = 50;

fn password(i: usize) -> String {
    format!("migrated-password-{}", i % PASSWORDS)
}

fn oid(i: usize) -> String {
    format!("0000beef-0000-4000-8000-{i:012}")
}

fn email(i: usize) -> String {
    format!("person{i}@contoso.com")
}

fn url_of(target: &DatabaseTarget) -> String {
    match target {
        DatabaseTarget::Postgres(url) => url.clone(),
        DatabaseTarget::SqliteFile(path) => format!("sqlite://{path}"),
        DatabaseTarget::SqliteMemory => unreachable!("tests use files"),
    }
}

/// `localidp --keys-dir KEYS [--database-url DB] ARGS...`, with stdin from `input`.
fn localidp(keys: &Path, database: Option<&str>, args: &[&str], input: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_localidp"));
    for (k, _) in std::env::vars() {
        if k.starts_with("LOCALIDP_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.env("LOCALIDP_LOG", "warn");
    let mut full: Vec<OsString> = vec!["--keys-dir".into(), keys.into()];
    if let Some(db) = database {
        full.extend(["--database-url".into(), db.into()]);
    }
    full.extend(args.iter().map(Into::into));
    cmd.args(full);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    if let Some(input) = input {
        stdin.write_all(input).unwrap();
    }
    drop(stdin);
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `localidp export --to -` of a database: its lines after the header.
fn export_rows(keys: &Path, database: &str) -> Vec<String> {
    let out = localidp(keys, Some(database), &["export", "--to", "-"], None);
    assert!(out.status.success(), "{}", text(&out));
    let all = String::from_utf8(out.stdout).unwrap();
    let mut lines = all.lines().map(str::to_owned);
    let header: Value = serde_json::from_str(&lines.next().unwrap()).unwrap();
    assert_eq!(header["format"], "localidp-export");
    assert_eq!(header["version"], 1);
    lines.collect()
}

/// The fixture's server with 10,000 more users (in 10 groups), an app role
/// assignment, a directory role and an API key; stopped, with a refresh token and an
/// access token it issued.
struct Source {
    settings: localidp::config::Settings,
    _fixture: std::sync::Arc<Fixture>,
    access_token: String,
    refresh_token: String,
}

async fn build_source() -> Source {
    let app = spawn_app(&Backend::Sqlite).await;
    let hashes: Vec<String> = (0..PASSWORDS).map(|i| bcrypt_hash(&password(i))).collect();
    let mut file = String::new();
    for i in 0..USERS {
        let row = serde_json::json!({
            "email": email(i),
            "oid": oid(i),
            "password_hash": hashes[i % PASSWORDS],
            "name": format!("Person {i}"),
            "groups": ["everyone", format!("team-{}", i % 10)],
        });
        file.push_str(&row.to_string());
        file.push('\n');
    }
    let path = app.settings.keys_dir.parent().unwrap().join("people.jsonl");
    std::fs::write(&path, file).unwrap();
    let db = url_of(&app.settings.database);
    let keys = app.settings.keys_dir.clone();
    let out = localidp(
        &keys,
        Some(&db),
        &["user", "import", path.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = localidp(
        &keys,
        Some(&db),
        &["api-key", "create", "--user", ALICE, "--name", "ci"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    app.state
        .db(move |c| {
            use localidp::db::app_role_assignments::{Assignment, insert};
            insert(
                c,
                &Assignment {
                    id: "0000a55e-0000-4000-8000-000000000001".into(),
                    user_id: oid(7),
                    client_id: WEB_APP.into(),
                    role_value: "Tasks.Read.All".into(),
                    created_at: 1_700_000_000,
                },
            )?;
            localidp::db::client_secrets::insert(
                c,
                &localidp::db::client_secrets::ClientSecret {
                    key_id: "0000a55e-0000-4000-8000-000000000002".into(),
                    client_id: DAEMON_ONLY.into(),
                    display_name: Some("added".into()),
                    hint: ADDED_SECRET[..3].into(),
                    secret_hash: localidp::crypto::secrets::sha256_hex(ADDED_SECRET),
                    start_at: 1_700_000_000,
                    end_at: 4_000_000_000,
                },
            )?;
            localidp::db::directory_roles::assign(
                c,
                &oid(8),
                &["fe930be7-5e62-47db-91af-98c3a49a38b1"],
                1_700_000_000,
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let tokens = app.alice_tokens("openid offline_access").await;
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (settings, fixture) = app.stop().await;
    Source {
        settings,
        _fixture: fixture,
        access_token,
        refresh_token,
    }
}

/// A fresh target: PostgreSQL when LOCALIDP_TEST_POSTGRES_URL is set, else SQLite.
fn fresh_target() -> (localidp::config::Settings, std::sync::Arc<Fixture>) {
    let backend = match postgres_url() {
        Some(url) => Backend::Postgres(url),
        None => Backend::Sqlite,
    };
    let (mut settings, fixture) = test_fixture(&backend);
    // The directory comes from the source, not from a seed.
    settings.seed = None;
    // A bcrypt hash is replaced by an argon2id one at sign-in: cheap ones here, so that
    // hundreds of sign-ins take seconds.
    settings.argon2_memory_kib = 1024;
    settings.argon2_iterations = 1;
    // Hundreds of sign-ins from 127.0.0.1: the per-address limit is not what is tested.
    settings.rate_limit = localidp::config::RateLimit {
        per_minute: 0,
        burst: 0,
    };
    (settings, fixture)
}

/// Sign-ins checked over HTTP: every 25th user (400), one after another. Every user's row (oid,
/// password hash and all) is compared by exporting both databases.
const SIGN_IN_EVERY: usize = 25;

#[tokio::test]
async fn ten_thousand_users_move_with_their_oids_passwords_keys_and_tokens() {
    let source = build_source().await;
    let keys = source.settings.keys_dir.clone();
    let from = url_of(&source.settings.database);
    let (target_settings, target_fixture) = fresh_target();
    let to = url_of(&target_settings.database);

    let out = localidp(
        &keys,
        None,
        &["migrate", "--from", &from, "--to", &to],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("counts match: tenant 2,"), "{stdout}");
    assert!(stdout.contains(&format!("user {},", USERS + 5)), "{stdout}");
    // Keys in keys/ were PEM files (no key-encryption key): said, and copied.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not encrypted"),
        "{}",
        text(&out)
    );

    // Every row is the same in both: oids, hashes, memberships, secrets, keys.
    let source_rows = export_rows(&keys, &from);
    let target_rows = export_rows(&target_settings.keys_dir, &to);
    assert_eq!(source_rows.len(), target_rows.len());
    assert!(source_rows == target_rows, "the target's rows differ");
    let kinds: BTreeMap<String, usize> = source_rows.iter().fold(BTreeMap::new(), |mut m, l| {
        let v: Value = serde_json::from_str(l).unwrap();
        *m.entry(v["kind"].as_str().unwrap().to_owned()).or_default() += 1;
        m
    });
    assert_eq!(kinds["membership"], 2 * USERS + 2, "{kinds:?}");
    for kind in [
        "group",
        "client_secret",
        "app_role_assignment",
        "directory_role_member",
        "api_key",
        "signing_key",
        "refresh_token",
    ] {
        assert!(
            kinds.get(kind).is_some_and(|n| *n > 0),
            "no {kind}: {kinds:?}"
        );
    }

    // Migrating again changes nothing.
    let again = localidp(
        &keys,
        None,
        &["migrate", "--from", &from, "--to", &to],
        None,
    );
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains(&format!(
            "0 written, {} already there, 0 refused; nothing changed",
            source_rows.len() - 1
        )),
        "{}",
        text(&again)
    );
    assert!(export_rows(&target_settings.keys_dir, &to) == target_rows);

    // Served from the target.
    let app = spawn_with(target_settings, target_fixture).await;
    // A token signed before the migration verifies (the key moved) and its user is there.
    let res = app.userinfo(&source.access_token).await;
    assert_eq!(res.status(), 200);
    let info: Value = res.json().await.unwrap();
    assert!(info["sub"].as_str().is_some(), "{info}");
    // A refresh token issued before it still works.
    let res = app.refresh(&source.refresh_token, &[]).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // Client secrets still work: the client's own and one added to it.
    for secret in [DAEMON_SECRET, ADDED_SECRET] {
        let res = app
            .token(&[
                ("grant_type", "client_credentials"),
                ("client_id", DAEMON_ONLY),
                ("client_secret", secret),
                ("scope", &format!("{API_APP}/.default")),
            ])
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
    // Users sign in with their passwords and keep their oids.
    for i in (0..USERS).step_by(SIGN_IN_EVERY) {
        let res = app
            .token(&[
                ("grant_type", "password"),
                ("client_id", WEB_APP),
                ("client_secret", WEB_APP_SECRET),
                ("username", &email(i)),
                ("password", &password(i)),
                ("scope", "openid"),
            ])
            .await;
        assert_eq!(res.status(), 200, "user {i}");
        let body: Value = res.json().await.unwrap();
        let id = claims(body["id_token"].as_str().unwrap());
        assert_eq!(id["oid"], oid(i), "user {i}");
    }
    // A wrong password is still refused.
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("username", &email(3)),
            ("password", &password(4)),
        ])
        .await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn an_export_imports_into_sqlite_the_same_and_twice_changes_nothing() {
    let app = spawn_app(&Backend::Sqlite).await;
    let keys = app.settings.keys_dir.clone();
    let from = url_of(&app.settings.database);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("directory.jsonl");
    let out = localidp(
        &keys,
        Some(&from),
        &["export", "--to", file.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the file holds hashes: {mode:o}");
    }
    let lines: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let header: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(header["format"], "localidp-export");
    assert_eq!(header["version"], 1);
    assert!(
        header["source_schema"]
            .as_str()
            .is_some_and(|s| s.starts_with("2026-")),
        "{header}"
    );
    let trailer: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(trailer["kind"], "end");
    let users = lines
        .iter()
        .filter(|l| l.starts_with("{\"kind\":\"user\""))
        .count();
    assert_eq!(users, 5);
    assert_eq!(trailer["counts"]["user"], users, "{trailer}");
    // Plain secrets never appear; hashes do, as stored.
    let all = lines.join("\n");
    for secret in [ALICE_PASSWORD, WEB_APP_SECRET, DAEMON_SECRET] {
        assert!(!all.contains(secret));
    }
    assert!(all.contains("\"password_hash\":\"$argon2id$"));

    let target = format!("sqlite://{}", dir.path().join("copy.db").display());
    let path = file.to_str().unwrap();
    let out = localidp(&keys, Some(&target), &["import", "--from", path], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("counts match"));
    assert!(export_rows(&keys, &target)[..] == lines[1..]);

    // Again, from stdin: nothing changes.
    let bytes = std::fs::read(&file).unwrap();
    let out = localidp(
        &keys,
        Some(&target),
        &["import", "--from", "-"],
        Some(&bytes),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("nothing changed"),
        "{}",
        text(&out)
    );

    // A row changed in the file conflicts with the stored one: refused, named, exit 1.
    let changed = std::fs::read_to_string(&file).unwrap().replace(
        "\"display_name\":\"Carol Imported\"",
        "\"display_name\":\"Carol Changed\"",
    );
    let out = localidp(
        &keys,
        Some(&target),
        &["import", "--from", "-"],
        Some(changed.as_bytes()),
    );
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("user") && stderr.contains("(display_name differ)"),
        "{}",
        text(&out)
    );
    assert!(stderr.contains("1 row(s) refused"), "{}", text(&out));
}

#[tokio::test]
async fn a_cut_short_file_is_refused_at_its_line_and_its_batch_is_not_written() {
    let app = spawn_app(&Backend::Sqlite).await;
    let keys = app.settings.keys_dir.clone();
    let from = url_of(&app.settings.database);
    let dir = tempfile::tempdir().unwrap();
    // 300 more users, so that the users span several batches of 100.
    let rows: String = (0..300)
        .map(|i| {
            serde_json::json!({"email": email(i), "password_hash": bcrypt_hash("x")}).to_string()
                + "\n"
        })
        .collect();
    let people = dir.path().join("people.jsonl");
    std::fs::write(&people, rows).unwrap();
    let out = localidp(
        &keys,
        Some(&from),
        &["user", "import", people.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let exported = localidp(&keys, Some(&from), &["export", "--to", "-"], None);
    assert!(exported.status.success(), "{}", text(&exported));
    let whole = String::from_utf8(exported.stdout).unwrap();
    let lines: Vec<&str> = whole.lines().collect();
    // Cut in the middle of the 250th user's line.
    let first_user = lines
        .iter()
        .position(|l| l.starts_with("{\"kind\":\"user\""))
        .unwrap();
    let cut_line = first_user + 250;
    let mut cut: String = lines[..cut_line].iter().map(|l| format!("{l}\n")).collect();
    cut.push_str(&lines[cut_line][..lines[cut_line].len() / 2]);
    let target = format!("sqlite://{}", dir.path().join("copy.db").display());
    let out = localidp(
        &keys,
        Some(&target),
        &["import", "--from", "-", "--batch-rows", "100"],
        Some(cut.as_bytes()),
    );
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("line {}:", cut_line + 1)),
        "{}",
        text(&out)
    );
    // Users are written 100 a batch: the 200 of the first two batches are there, none
    // of the third (its 50 complete rows were read, not written).
    let partial = export_rows(&keys, &target);
    let users = partial
        .iter()
        .filter(|l| l.starts_with("{\"kind\":\"user\""))
        .count();
    assert_eq!(users, 200);
    // The file without its trailer: refused, the last batch not written either.
    let no_trailer: String = lines[..lines.len() - 1]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    let out = localidp(
        &keys,
        Some(&target),
        &["import", "--from", "-"],
        Some(no_trailer.as_bytes()),
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("without its trailer"),
        "{}",
        text(&out)
    );
    // The whole file completes what was cut short.
    let out = localidp(
        &keys,
        Some(&target),
        &["import", "--from", "-"],
        Some(whole.as_bytes()),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(export_rows(&keys, &target)[..] == lines[1..]);
}

#[tokio::test]
async fn a_newer_format_version_or_another_file_is_refused_with_a_clear_message() {
    let app = spawn_app(&Backend::Sqlite).await;
    let keys = app.settings.keys_dir.clone();
    let from = url_of(&app.settings.database);
    let exported = localidp(&keys, Some(&from), &["export", "--to", "-"], None);
    let whole = String::from_utf8(exported.stdout).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = format!("sqlite://{}", dir.path().join("copy.db").display());
    let newer = whole.replacen("\"version\":1", "\"version\":2", 1);
    let out = localidp(
        &keys,
        Some(&target),
        &["import", "--from", "-"],
        Some(newer.as_bytes()),
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("version 2 of the export format; this localidp reads version 1"),
        "{}",
        text(&out)
    );
    let other = "{\"email\":\"x@contoso.com\"}\n";
    let out = localidp(
        &keys,
        Some(&target),
        &["import", "--from", "-"],
        Some(other.as_bytes()),
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("line 1: not the header of a localidp export"),
        "{}",
        text(&out)
    );
    // The same database on both sides is refused before anything is read.
    let out = localidp(
        &keys,
        None,
        &["migrate", "--from", &from, "--to", &from],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("the same database"));
}

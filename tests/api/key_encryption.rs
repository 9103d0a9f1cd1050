//! Private signing keys encrypted at rest under a key-encryption key (KEK), in the
//! database and in `keys/`; a server without the right KEK refuses to start;
//! `localidp keys rewrap` moves the keys to a new KEK.

use std::sync::Arc;

use localidp::clock::Clock;
use localidp::config::Settings;
use localidp::crypto::kek::Kek;
use localidp::db::DatabaseTarget;
use localidp::db::signing_keys::{self, SigningKeyRow};
use localidp::startup::Application;

use crate::helpers::*;

const KEK_1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEK_2: &str = "HxwdHhscGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=";

fn kek(text: &str) -> Option<Arc<Kek>> {
    Some(Arc::new(Kek::parse(text, "test").unwrap()))
}

fn with_kek(settings: &Settings, text: Option<&str>) -> Settings {
    Settings {
        key_encryption_key: text.and_then(kek),
        ..settings.clone()
    }
}

/// The start's error, which there must be.
async fn start_error(settings: Settings) -> String {
    match Application::build_with_clock(settings, Clock::adjustable()).await {
        Ok(_) => panic!("the server started"),
        Err(e) => e.to_string(),
    }
}

/// What is stored for each key: the row's text, or the file's.
async fn stored(app: &TestApp) -> Vec<(String, String)> {
    let rows: Vec<SigningKeyRow> = app.state.db(signing_keys::all).await.unwrap();
    rows.into_iter()
        .map(|row| {
            let text = row.private_key_pem.clone().unwrap_or_else(|| {
                let path = app.settings.keys_dir.join(format!("{}.pem", row.kid));
                std::fs::read_to_string(path).unwrap()
            });
            (row.kid, text)
        })
        .collect()
}

on_every_backend!(keys_are_stored_encrypted_and_need_their_key_to_start);
async fn keys_are_stored_encrypted_and_need_their_key_to_start(backend: Backend) {
    for in_database in [true, false] {
        let (settings, fixture) = test_fixture(&backend);
        let settings = Settings {
            keys_in_database: in_database,
            ..with_kek(&settings, Some(KEK_1))
        };
        let app = spawn_with(settings, fixture).await;
        let token = app.alice_tokens("openid").await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let kek_1_id = kek(KEK_1).unwrap().id().to_owned();
        for (kid, text) in stored(&app).await {
            assert!(
                text.starts_with(&format!("localidp-kek-v1:{kek_1_id}:")),
                "{in_database}: {kid} stored as {text:.40}"
            );
            assert!(!text.contains("PRIVATE KEY"));
        }
        if !in_database {
            assert!(
                app.state
                    .db(signing_keys::all)
                    .await
                    .unwrap()
                    .iter()
                    .all(|r| r.private_key_pem.is_none()),
                "in keys/, not the database"
            );
        }
        let (settings, fixture) = app.stop().await;

        let none = start_error(with_kek(&settings, None)).await;
        assert!(
            none.contains("LOCALIDP_KEY_ENCRYPTION_KEY")
                && none.contains("key_encryption_key_file"),
            "{none}"
        );
        let wrong = start_error(with_kek(&settings, Some(KEK_2))).await;
        let kek_2_id = kek(KEK_2).unwrap().id().to_owned();
        assert!(
            wrong.contains(&format!("encrypted under key-encryption key {kek_1_id}"))
                && wrong.contains(&kek_2_id),
            "{wrong}"
        );

        let app = spawn_with(settings, fixture).await;
        assert_eq!(app.verify(&token).await.status(), 200, "{backend:?}");
    }
}

on_every_backend!(unencrypted_keys_are_encrypted_when_a_key_is_set);
async fn unencrypted_keys_are_encrypted_when_a_key_is_set(backend: Backend) {
    let app = spawn_app(&backend).await;
    let jwks = app.get_json("/.well-known/jwks.json").await;
    let before = stored(&app).await;
    assert!(before[0].1.starts_with("-----BEGIN PRIVATE KEY-----"));
    let (settings, fixture) = app.stop().await;

    let app = spawn_with(with_kek(&settings, Some(KEK_1)), fixture).await;
    let after = stored(&app).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].0, before[0].0);
    assert!(
        after[0].1.starts_with("localidp-kek-v1:"),
        "{:.40}",
        after[0].1
    );
    assert_eq!(app.get_json("/.well-known/jwks.json").await, jwks);
    let file = app.settings.keys_dir.join(format!("{}.pem", after[0].0));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the replaced file is private too");
    }
    let events = app.audit_events("key.encrypted").await;
    assert_eq!(events.len(), 1, "one key.encrypted event");
    assert_eq!(events[0].actor.as_deref(), Some("system"));
}

/// Runs the `localidp` binary on the test server's storage with these variables.
async fn cli(settings: &Settings, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let url = match &settings.database {
        DatabaseTarget::Postgres(url) => url.clone(),
        DatabaseTarget::SqliteFile(path) => format!("sqlite://{path}"),
        DatabaseTarget::SqliteMemory => unreachable!("tests use a file or PostgreSQL"),
    };
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_localidp"));
    cmd.args(["--database-url", &url])
        .arg("--keys-dir")
        .arg(&settings.keys_dir)
        .env("LOCALIDP_LOG", "warn")
        .env_remove("LOCALIDP_KEY_ENCRYPTION_KEY")
        .env_remove("LOCALIDP_NEW_KEY_ENCRYPTION_KEY");
    if settings.keys_in_database {
        cmd.arg("--keys-in-database");
    }
    let out = cmd
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(if out.status.success() {
        &out.stdout
    } else {
        &out.stderr
    })
    .into_owned();
    (out.status.success(), text)
}

on_every_backend!(rewrap_moves_every_key_to_the_new_key_encryption_key);
async fn rewrap_moves_every_key_to_the_new_key_encryption_key(backend: Backend) {
    for in_database in [true, false] {
        let (settings, fixture) = test_fixture(&backend);
        let settings = Settings {
            keys_in_database: in_database,
            ..with_kek(&settings, Some(KEK_1))
        };
        let app = spawn_with(settings, fixture).await;
        let old = app.alice_tokens("openid").await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let (settings, fixture) = app.stop().await;
        let dir = tempfile::tempdir().unwrap();
        let new_file = dir.path().join("new.kek");
        std::fs::write(&new_file, format!("{KEK_2}\n")).unwrap();
        let new_file = new_file.to_str().unwrap();

        // Without the servers' key-encryption key, or with another, no key is added: it
        // would be stored in the clear, or under a key the servers cannot open (the two
        // keys counted at the end are the first and the one rotated in below).
        for env in [&[][..], &[("LOCALIDP_KEY_ENCRYPTION_KEY", KEK_2)][..]] {
            let (ok, out) = cli(&settings, &["keys", "rotate"], env).await;
            assert!(
                !ok && out.contains("is encrypted under key-encryption key"),
                "{env:?}: {out}"
            );
        }
        // A second key, then one of the two already moved by hand: an interrupted run.
        let (ok, out) = cli(
            &settings,
            &["keys", "rotate"],
            &[("LOCALIDP_KEY_ENCRYPTION_KEY", KEK_1)],
        )
        .await;
        assert!(ok, "{out}");
        let (ok, out) = cli(
            &settings,
            &["keys", "rewrap"],
            &[
                ("LOCALIDP_KEY_ENCRYPTION_KEY", KEK_1),
                ("LOCALIDP_NEW_KEY_ENCRYPTION_KEY", "c2hvcnQ="),
            ],
        )
        .await;
        assert!(!ok && out.contains("decodes to 5 bytes"), "{out}");
        if in_database {
            move_one_key_by_hand(&settings);
        }

        let (ok, out) = cli(
            &settings,
            &["keys", "rewrap", "--new-key-file", new_file],
            &[("LOCALIDP_KEY_ENCRYPTION_KEY", KEK_1)],
        )
        .await;
        assert!(ok, "{out}");
        let expected = if in_database {
            "1 keys encrypted under key-encryption key"
        } else {
            "2 keys encrypted under key-encryption key"
        };
        assert!(out.contains(expected), "{in_database}: {out}");
        // Again (say, after an interruption): nothing left to do.
        let (ok, out) = cli(
            &settings,
            &["keys", "rewrap"],
            &[
                ("LOCALIDP_KEY_ENCRYPTION_KEY", KEK_1),
                ("LOCALIDP_NEW_KEY_ENCRYPTION_KEY", KEK_2),
            ],
        )
        .await;
        assert!(
            ok && out.contains("0 keys encrypted") && out.contains("(2 already were)"),
            "{out}"
        );

        let refused = start_error(with_kek(&settings, Some(KEK_1))).await;
        assert!(
            refused.contains("encrypted under key-encryption key"),
            "{refused}"
        );
        let app = spawn_with(with_kek(&settings, Some(KEK_2)), fixture).await;
        app.catch_up_with_system_clock();
        assert_eq!(
            app.verify(&old).await.status(),
            200,
            "{backend:?} {in_database}"
        );
        let kek_2_id = kek(KEK_2).unwrap().id().to_owned();
        let now_stored = stored(&app).await;
        assert_eq!(now_stored.len(), 2);
        for (_, text) in now_stored {
            assert!(text.starts_with(&format!("localidp-kek-v1:{kek_2_id}:")));
        }
    }
}

/// Seals the newest key's row under KEK 2 as a rewrap cut short would have left it.
fn move_one_key_by_hand(settings: &Settings) {
    let pool = localidp::db::connect(&settings.database, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let row = signing_keys::all(&mut conn).unwrap().remove(0);
    let was = row.private_key_pem.unwrap();
    let (k1, k2) = (kek(KEK_1).unwrap(), kek(KEK_2).unwrap());
    let der = k1.open(&row.kid, &was).unwrap();
    let sealed = k2.seal(&row.kid, &der).unwrap();
    assert_eq!(
        signing_keys::replace_private_key(&mut conn, &row.kid, &was, &sealed).unwrap(),
        1
    );
}

on_every_backend!(keys_rotate_adds_no_key_the_servers_could_not_open);
/// Servers running without a key-encryption key keep plain keys: a `keys rotate`
/// given one would seal the new key, which they could neither load nor restart with.
async fn keys_rotate_adds_no_key_the_servers_could_not_open(backend: Backend) {
    let (settings, fixture) = test_fixture(&backend);
    let app = spawn_with(with_kek(&settings, None), fixture).await;
    let (settings, fixture) = app.stop().await;
    let (ok, out) = cli(
        &settings,
        &["keys", "rotate"],
        &[("LOCALIDP_KEY_ENCRYPTION_KEY", KEK_1)],
    )
    .await;
    assert!(!ok && out.contains("is not encrypted"), "{out}");
    let (ok, out) = cli(&settings, &["keys", "rotate"], &[]).await;
    assert!(ok, "{out}");
    let app = spawn_with(with_kek(&settings, None), fixture).await;
    let stored = stored(&app).await;
    assert_eq!(stored.len(), 2, "the first key and the one rotated in");
    assert!(
        stored
            .iter()
            .all(|(_, text)| text.contains("BEGIN PRIVATE KEY"))
    );
}

//! Users imported with the password hashes of the systems they come from sign in
//! with their passwords, and their hashes become argon2id.

use std::process::Command;

use crate::helpers::clients::{interop_dir, python};
use crate::helpers::*;

pub(crate) const PASSWORD: &str = "Imported pw 1!";
const BIN: &str = env!("CARGO_BIN_EXE_localidp");

/// ASP.NET Core Identity (v2, v3) and Keycloak vectors for `PASSWORD`, from
/// `python3 tests/interop/foreign_hash_vectors.py 'Imported pw 1!'`.
pub(crate) const FIXED: &[(&str, &str, &str)] = &[
    (
        "aspnet-v2",
        "password_hash",
        r#""AAABAgMEBQYHCAkKCwwNDg/X+k5N2N1LlAILLP8BLQWr3uXmVUYt8a/YjNnMYJsLYg==""#,
    ),
    (
        "aspnet-v3-sha256",
        "password_hash",
        r#""AQAAAAEAACcQAAAAEAABAgMEBQYHCAkKCwwNDg8hGreO6EqCzjd9WrhJzD12CUqJ4D8+T6gYv9x/789q1A==""#,
    ),
    (
        "aspnet-v3-sha512",
        "password_hash",
        r#""AQAAAAIAAYagAAAAEAABAgMEBQYHCAkKCwwNDg+EtHkpBrWj9MgdE4TlmxNC6+AB3lbyN4I3YVobNgARAg==""#,
    ),
    // The credential object of a Keycloak realm export...
    (
        "keycloak-sha256",
        "keycloak_credential",
        r#"{"type":"password","secretData":"{\"value\":\"xjHPu0cDMDCKwcPyGaTyXBUuvxt79lsvAJEzSYQqqZE7Gxl+5TSBbE9DyxYtkLt3Coce6NxzXHE1PU61BrPkDg==\",\"salt\":\"AAECAwQFBgcICQoLDA0ODw==\",\"additionalParameters\":{}}","credentialData":"{\"hashIterations\":27500,\"algorithm\":\"pbkdf2-sha256\",\"additionalParameters\":{}}"}"#,
    ),
    // ...or the same as the JSON text of `password_hash`.
    (
        "keycloak-sha512",
        "password_hash",
        r#""{\"secretData\":{\"value\":\"cvTqDFbhMuN3AMjoyg4mXxyQHiT/I41/Vjy45BZZ3CMCqLYnM8uWK6IJvWaUbmEgzeAcsep8HuFsybqb8t3r7Q==\",\"salt\":\"AAECAwQFBgcICQoLDA0ODw==\"},\"credentialData\":{\"hashIterations\":30000,\"algorithm\":\"pbkdf2-sha512\"}}""#,
    ),
];

fn database_url(settings: &localidp::config::Settings) -> String {
    match &settings.database {
        localidp::db::DatabaseTarget::Postgres(url) => url.clone(),
        localidp::db::DatabaseTarget::SqliteFile(path) => format!("sqlite://{path}"),
        other => panic!("no database file for the CLI: {other:?}"),
    }
}

on_every_backend!(imported_foreign_hashes_sign_in_and_become_argon2id);
async fn imported_foreign_hashes_sign_in_and_become_argon2id(backend: Backend) {
    use diesel::prelude::*;
    use localidp::db::schema::users;
    let python = python().to_owned();
    let app = spawn_app(&backend).await;

    // passlib and Django make their hashes now; the fixed vectors are added.
    let out = Command::new(python)
        .arg(interop_dir().join("foreign_hashes.py"))
        .arg(PASSWORD)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = String::from_utf8(out.stdout).unwrap();
    for (name, field, value) in FIXED {
        lines.push_str(&format!(
            "{{\"email\":\"{name}@contoso.com\",\"{field}\":{value}}}\n"
        ));
    }
    let emails: Vec<String> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["email"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(emails.len(), 6 + FIXED.len());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.jsonl");
    std::fs::write(&file, &lines).unwrap();
    let import = |file: &std::path::Path| {
        let out = Command::new(BIN)
            .args(["--database-url", &database_url(&app.settings)])
            .arg("--keys-dir")
            .arg(&app.settings.keys_dir)
            .args(["user", "import", "--tenant", CONTOSO_ID])
            .arg(file)
            .env("LOCALIDP_LOG", "warn")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        String::from_utf8(out.stdout).unwrap()
    };
    let imported = import(&file);
    let want = format!("imported {} users", emails.len());
    assert!(imported.starts_with(&want), "{imported}");

    let stored = |email: String| {
        let state = app.state.clone();
        async move {
            state
                .db(move |c| {
                    Ok(users::table
                        .filter(users::email.eq(email))
                        .select(users::password_hash)
                        .first::<Option<String>>(c)?)
                })
                .await
                .unwrap()
                .unwrap()
        }
    };
    let sign_in = |email: String, pw: &'static str| {
        let app = &app;
        async move {
            app.token(&[
                ("grant_type", "password"),
                ("client_id", PUBLIC_APP),
                ("username", email.as_str()),
                ("password", pw),
            ])
            .await
        }
    };
    // A hash in no accepted format is refused with its line and the reason; the other
    // rows of that file are imported, and the exit status says a row failed.
    std::fs::write(
        &file,
        "{\"email\":\"fine@contoso.com\",\"password\":\"pw\"}\n\
         {\"email\":\"md5@contoso.com\",\"password_hash\":\"$1$salt$hash\"}\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["--database-url", &database_url(&app.settings)])
        .arg("--keys-dir")
        .arg(&app.settings.keys_dir)
        .args(["user", "import", "--tenant", CONTOSO_ID])
        .arg(&file)
        .env("LOCALIDP_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2: the password hash is in no accepted format"),
        "{stderr}"
    );
    let res = sign_in("fine@contoso.com".to_owned(), "pw").await;
    assert_eq!(res.status(), 200);

    // Each format and cost is one kind for the padding of failed sign-ins: one
    // example of each from the database (a second bcrypt-sha256 v2 cost 4, with a '.'
    // in its salt, is no kind of its own).
    let extra = r#"{"email":"kind-only@contoso.com","password_hash":"$bcrypt-sha256$v=2,t=2b,r=4$iemlx7FUg.aG1aZWzYCfau$80hvTOxZRUeOJjPu5x/FP1majrcjpfW"}"#;
    std::fs::write(&file, format!("{extra}\n")).unwrap();
    import(&file);
    let examples = app
        .state
        .db(localidp::db::lockout::hash_kind_examples)
        .await
        .unwrap();
    // (The seed's $2b$ and $2y$ bcrypt hashes are two examples of one kind.)
    let mut kinds: Vec<String> = examples
        .iter()
        .filter(|e| !e.starts_with("$2"))
        .map(|e| localidp::crypto::timing::hash_kind(e).unwrap())
        .collect();
    kinds.sort();
    let count = kinds.len();
    kinds.dedup();
    assert_eq!(kinds.len(), count, "one example per kind: {examples:?}");
    for kind in [
        "$bcrypt-sha256$v=2,t=2b,r=4",
        "$bcrypt-sha256$2b,4",
        "$pbkdf2-sha256$i=1000,l=32",
        "$pbkdf2-sha512$i=1000,l=64",
        "$pbkdf2-sha1$i=1000,l=32",
        "$pbkdf2-sha256$i=10000,l=32",
        "$pbkdf2-sha512$i=100000,l=32",
        "$pbkdf2-sha256$i=27500,l=64",
        "$pbkdf2-sha512$i=30000,l=64",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }

    for email in emails {
        let before = stored(email.clone()).await;
        assert!(!before.starts_with("$argon2"), "{email}: {before}");
        let res = sign_in(email.clone(), "Imported pw 1?").await;
        assert_oauth_error(res, 400, "invalid_grant").await;
        assert_eq!(stored(email.clone()).await, before, "{email}");

        let res = sign_in(email.clone(), PASSWORD).await;
        assert_eq!(res.status(), 200, "{email} ({before})");
        let after = stored(email.clone()).await;
        assert!(after.starts_with("$argon2id$v=19$"), "{email}: {after}");
        let res = sign_in(email.clone(), PASSWORD).await;
        assert_eq!(res.status(), 200, "{email} after the upgrade");
    }
}

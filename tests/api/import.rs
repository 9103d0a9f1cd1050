//! `localidp user import`: a bad row is refused with its line and reason while the rest
//! goes in; a re-run changes nothing; `--dry-run` writes nothing; `--on-conflict fail`
//! stops at the first user that is there (the rows before it stay written); `--errors`
//! keeps the refused rows.

use crate::helpers::graph::cli;
use crate::helpers::*;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn signs_in(app: &TestApp, email: &str, password: &str) -> bool {
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", PUBLIC_APP),
            ("username", email),
            ("password", password),
        ])
        .await;
    res.status() == 200
}

on_every_backend!(bad_rows_are_refused_by_line_and_the_rest_goes_in_once);
async fn bad_rows_are_refused_by_line_and_the_rest_goes_in_once(backend: Backend) {
    let app = spawn_app(&backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.jsonl");
    let errors = dir.path().join("refused.jsonl");
    let hash = bcrypt::hash("import-pw", 4).unwrap();
    let lines = [
        format!(r#"{{"email":"one@contoso.com","password_hash":"{hash}"}}"#),
        r#"{"email":"two@contoso.com","password":"two-pw","oid":"71000000-0000-4000-8000-000000000002"}"#.to_owned(),
        r#"{"email": broken"#.to_owned(),
        r#"{"email":"ONE@contoso.com","password":"again"}"#.to_owned(),
        format!(r#"{{"email":"{ALICE}","password":"not-alice's"}}"#),
        r#"{"email":"odd@contoso.com","password_hash":"$1$md5$hash"}"#.to_owned(),
        r#"{"email":"three@contoso.com","colour":"blue"}"#.to_owned(),
        String::new(),
        r#"{"username":"four","password":"four-pw"}"#.to_owned(),
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let path = file.to_str().unwrap();
    let tenant = ["--tenant", CONTOSO_ID];

    // A dry run says what would happen and writes nothing.
    let out = cli(
        &app,
        &[&["user", "import", path, "--dry-run"][..], &tenant].concat(),
    );
    assert!(!out.status.success());
    assert!(
        stdout(&out).starts_with(
            "would import 3 users (0 updated, 0 unchanged, 1 already there, 4 refused)"
        ),
        "{}",
        stdout(&out)
    );
    assert!(!signs_in(&app, "one@contoso.com", "import-pw").await);

    let out = cli(
        &app,
        &[
            &["user", "import", path, "--errors", errors.to_str().unwrap()][..],
            &tenant,
        ]
        .concat(),
    );
    assert!(!out.status.success(), "a refused row fails the command");
    assert!(
        stdout(&out)
            .starts_with("imported 3 users (0 updated, 0 unchanged, 1 already there, 4 refused)"),
        "{}",
        stdout(&out)
    );
    let err = stderr(&out);
    for (line, why) in [
        (3, "line 3: "),
        (4, "is already on line 1"),
        (6, "no accepted format"),
        (7, "unknown field `colour`"),
    ] {
        assert!(err.contains(why), "line {line}: {err}");
    }
    let refused = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(
        refused.lines().collect::<Vec<_>>(),
        vec![&lines[2], &lines[3], &lines[5], &lines[6]]
    );
    assert!(signs_in(&app, "one@contoso.com", "import-pw").await);
    assert!(signs_in(&app, "two@contoso.com", "two-pw").await);
    assert!(signs_in(&app, "four", "four-pw").await);
    // The existing user is left as they were.
    assert!(signs_in(&app, ALICE, ALICE_PASSWORD).await);

    // Run again: nothing changes, and it says so.
    let out = cli(&app, &[&["user", "import", path][..], &tenant].concat());
    assert!(
        stdout(&out)
            .starts_with("imported 0 users (0 updated, 0 unchanged, 4 already there, 4 refused)"),
        "{}",
        stdout(&out)
    );
    // The fixed file goes in cleanly.
    std::fs::write(
        &errors,
        r#"{"email":"three@contoso.com","password":"three-pw"}"#,
    )
    .unwrap();
    let out = cli(
        &app,
        &[&["user", "import", errors.to_str().unwrap()][..], &tenant].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .starts_with("imported 1 users (0 updated, 0 unchanged, 0 already there, 0 refused)")
    );
    assert!(signs_in(&app, "three@contoso.com", "three-pw").await);

    // --on-conflict fail: a user that exists stops the import there; the rows before
    // it are written, those after are not.
    std::fs::write(
        &file,
        "{\"email\":\"five@contoso.com\",\"password\":\"five-pw\"}\n{\"email\":\"two@contoso.com\"}\n{\"email\":\"six@contoso.com\",\"password\":\"six-pw\"}\n",
    )
    .unwrap();
    let out = cli(
        &app,
        &[
            &["user", "import", path, "--on-conflict", "fail"][..],
            &tenant,
        ]
        .concat(),
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("line 2: a user with this oid"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out)
            .starts_with("imported 1 users (0 updated, 0 unchanged, 0 already there, 0 refused)"),
        "{}",
        stdout(&out)
    );
    assert!(signs_in(&app, "five@contoso.com", "five-pw").await);
    assert!(!signs_in(&app, "six@contoso.com", "six-pw").await);
}

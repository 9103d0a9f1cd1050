//! `localidp user import` at size and in its other shapes: a 10,000-row file mixing
//! every hash format, plain passwords and bad rows of each kind (read in batches);
//! `--on-conflict update` changing only what differs; CSV and JSON Lines of the same
//! users giving the same directory.

use std::collections::BTreeMap;
use std::process::Command;

use crate::foreign_hashes::{FIXED, PASSWORD};
use crate::helpers::clients::{interop_dir, python};
use crate::helpers::graph::cli;
use crate::helpers::*;

/// `localidp user import FILE --tenant TENANT [more]`.
fn import(app: &TestApp, file: &str, tenant: &str, more: &[&str]) -> std::process::Output {
    cli(
        app,
        &[&["user", "import", file, "--tenant", tenant][..], more].concat(),
    )
}

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn token_status(app: &TestApp, client: &str, user: &str, password: &str) -> u16 {
    app.token(&[
        ("grant_type", "password"),
        ("client_id", client),
        ("username", user),
        ("password", password),
    ])
    .await
    .status()
    .as_u16()
}

/// One `password_hash`/`keycloak_credential` field per format, for `PASSWORD`: passlib
/// and Django made now by the real libraries, bcrypt and argon2 here, ASP.NET and
/// Keycloak the fixed vectors.
fn hash_fields(app: &TestApp) -> Vec<(String, String)> {
    let out = Command::new(python())
        .arg(interop_dir().join("foreign_hashes.py"))
        .arg(PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let mut fields = Vec::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let hash = v["password_hash"].as_str().unwrap();
        fields.push((
            "password_hash".to_owned(),
            serde_json::to_string(hash).unwrap(),
        ));
    }
    for (_, field, value) in FIXED {
        fields.push(((*field).to_owned(), (*value).to_owned()));
    }
    let bcrypt = bcrypt::hash(PASSWORD, 4).unwrap();
    fields.push(("password_hash".into(), format!("\"{bcrypt}\"")));
    let argon2 = app
        .state
        .hasher
        .hash_blocking(&secrecy::SecretString::from(PASSWORD))
        .unwrap();
    fields.push(("password_hash".into(), format!("\"{argon2}\"")));
    fields
}

on_every_backend!(ten_thousand_rows_of_every_format_go_in_and_a_rerun_changes_nothing);
async fn ten_thousand_rows_of_every_format_go_in_and_a_rerun_changes_nothing(backend: Backend) {
    let app = spawn_app(&backend).await;
    let formats = hash_fields(&app);
    let mut lines: Vec<String> = Vec::new();
    let mut samples = Vec::new();
    // Bad rows of each kind, by line, with what the refusal says.
    let mut bad: Vec<(usize, &str)> = Vec::new();
    let other_tenant =
        format!(r#"{{"email":"x8@bulk.test","oid":"{ALICE_OID}","tenant":"{FABRIKAM_ID}"}}"#);
    let bad_rows: [(&str, &str); 12] = [
        (r#"{"email": broken"#, "line "),
        (
            r#"{"email":"x1@bulk.test","colour":"blue"}"#,
            "unknown field `colour`",
        ),
        (
            r#"{"email":"x2@bulk.test","password_hash":"$1$salt$hash"}"#,
            "no accepted format",
        ),
        (
            r#"{"email":"x3@bulk.test","password":"a","password_hash":"$2b$04$x"}"#,
            "not both",
        ),
        (
            r#"{"email":"x4@bulk.test","password":""}"#,
            "the password is empty",
        ),
        (
            r#"{"email":"user7@bulk.test","password":"again"}"#,
            "is already on line",
        ),
        (
            r#"{"email":"x5@bulk.test","tenant":"no-such-tenant"}"#,
            "no tenant no-such-tenant",
        ),
        (r#"{"email":"x6@bulk.test","oid":"not-a-guid"}"#, "oid"),
        (r#"{"name":"Nobody"}"#, "an email address or a user name"),
        (r#"{"email":"not an email"}"#, "email"),
        (
            r#"{"email":"x7@bulk.test","groups":["ok",""]}"#,
            "a role or group name is empty",
        ),
        (&other_tenant, "belongs to a user of another tenant"),
    ];
    let mut next_bad = 0;
    for i in 0..10_000usize {
        let line_no = lines.len() + 1;
        if i % 800 == 400 && next_bad < bad_rows.len() {
            let (row, why) = bad_rows[next_bad];
            lines.push(row.to_owned());
            bad.push((line_no, why));
            next_bad += 1;
        } else if i % 500 == 250 {
            // A few plain passwords (argon2id at import: ~40 ms each).
            lines.push(format!(
                r#"{{"email":"plain{i}@bulk.test","password":"plain-pw-{i}","groups":["bulk"]}}"#
            ));
            samples.push((format!("plain{i}@bulk.test"), format!("plain-pw-{i}")));
        } else {
            let (field, value) = &formats[i % formats.len()];
            lines.push(format!(
                r#"{{"email":"user{i}@bulk.test","{field}":{value},"roles":["r{}"]}}"#,
                i % 3
            ));
            if i < formats.len() {
                samples.push((format!("user{i}@bulk.test"), PASSWORD.to_owned()));
            }
        }
    }
    assert_eq!(next_bad, bad_rows.len());
    let good = lines.len() - bad.len();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let path = file.to_str().unwrap();
    let tenant = ["--tenant", CONTOSO_ID];

    let started = std::time::Instant::now();
    let out = cli(&app, &[&["user", "import", path][..], &tenant].concat());
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "a refused row fails the command");
    let want = format!(
        "imported {good} users (0 updated, 0 unchanged, 0 already there, {} refused)",
        bad.len()
    );
    assert!(stdout.starts_with(&want), "{stdout}\n{stderr}");
    for (line, why) in &bad {
        let reported = stderr
            .lines()
            .find(|l| l.starts_with(&format!("line {line}: ")))
            .unwrap_or_else(|| panic!("line {line} not reported: {stderr}"));
        assert!(reported.contains(why), "line {line}: {reported}");
    }
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("line ")).count(),
        bad.len()
    );
    eprintln!("10,000 rows imported in {:?}", started.elapsed());

    // A second run (as update) finds every user as the file has them.
    let out = cli(
        &app,
        &[
            &["user", "import", path, "--on-conflict", "update"][..],
            &tenant,
        ]
        .concat(),
    );
    let (stdout, _) = text(&out);
    let want = format!(
        "imported 0 users (0 updated, {good} unchanged, 0 already there, {} refused)",
        bad.len()
    );
    assert!(stdout.starts_with(&want), "{stdout}");
    assert!(stdout.trim_end().ends_with("nothing changed"), "{stdout}");

    // One user of each format, and the plain passwords, sign in.
    for (user, password) in &samples {
        assert_eq!(
            token_status(&app, PUBLIC_APP, user, password).await,
            200,
            "{user}"
        );
    }
    assert_eq!(
        token_status(&app, PUBLIC_APP, "user7@bulk.test", "again").await,
        400
    );
    assert_eq!(
        token_status(&app, PUBLIC_APP, ALICE, ALICE_PASSWORD).await,
        200
    );
}

/// The tenant's users as the import set them: by sign-in name, every field an import
/// row gives (a hash only when it is not a fresh argon2id of a plain password).
async fn directory(app: &TestApp, tenant: &str) -> BTreeMap<String, String> {
    let tenant = tenant.to_owned();
    app.state
        .db(move |c| {
            let mut out = BTreeMap::new();
            for u in localidp::db::users::list(c, &tenant)? {
                let ours = u.email.as_deref().is_some_and(|e| e.ends_with("@one.test"))
                    || u.username.as_deref() == Some("bob");
                if !ours {
                    continue;
                }
                let mut groups: Vec<String> = localidp::db::groups::of_member(c, &u.id)?
                    .into_iter()
                    .map(|g| g.name)
                    .collect();
                groups.sort();
                let hash = match u.password_hash.as_deref() {
                    // A plain password's hash: a new salt each time.
                    Some(h) if h.starts_with("$argon2id$") => "argon2id",
                    Some(h) => h,
                    None => "none",
                };
                out.insert(
                    u.sign_in_name().to_owned(),
                    format!(
                        "{:?} {:?} {} {:?} {:?} {} {} {} {:?}",
                        u.email,
                        u.username,
                        u.display_name,
                        u.given_name,
                        u.family_name,
                        u.roles,
                        u.disabled,
                        hash,
                        groups
                    ),
                );
            }
            Ok(out)
        })
        .await
        .unwrap()
}

on_every_backend!(csv_and_json_lines_give_one_directory_and_update_changes_only_what_differs);
async fn csv_and_json_lines_give_one_directory_and_update_changes_only_what_differs(
    backend: Backend,
) {
    let app = spawn_app(&backend).await;
    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("users.jsonl");
    let csv = dir.path().join("users.csv");
    let existing_group = "Sales";
    std::fs::write(
        &jsonl,
        [
            format!(r#"{{"email":"ann@one.test","password_hash":"{hash}","name":"Ann, \"the\" first","given_name":"Ann","family_name":"One","roles":["reader","writer"],"groups":["Staff","{existing_group}"]}}"#),
            r#"{"username":"bob","password":"bob-pw-1","disabled":true}"#.to_owned(),
            format!(r#"{{"email":"cy@one.test","username":"cy","password_hash":"{hash}","groups":["Staff"],"disabled":false}}"#),
            r#"{"email":"dee@one.test","name":"Dee"}"#.to_owned(),
        ]
        .join("\n"),
    )
    .unwrap();
    std::fs::write(
        &csv,
        format!(
            "email,username,password,password_hash,name,given_name,family_name,roles,groups,disabled\r\n\
             ann@one.test,,,{hash},\"Ann, \"\"the\"\" first\",Ann,One,reader;writer,Staff;{existing_group},\r\n\
             ,bob,bob-pw-1,,,,,,,yes\r\n\
             cy@one.test,cy,,{hash},,,,,Staff,0\r\n\
             dee@one.test,,,,Dee,,,,,\r\n"
        ),
    )
    .unwrap();
    // A group that exists already is joined, not made again.
    let lead = dir.path().join("lead.jsonl");
    std::fs::write(
        &lead,
        format!(r#"{{"username":"lead","groups":["{existing_group}"]}}"#),
    )
    .unwrap();
    for tenant in [CONTOSO_ID, FABRIKAM_ID] {
        let out = cli(
            &app,
            &["user", "import", lead.to_str().unwrap(), "--tenant", tenant],
        );
        assert!(out.status.success(), "{}", text(&out).1);
    }
    let out = import(&app, jsonl.to_str().unwrap(), CONTOSO_ID, &[]);
    assert!(out.status.success(), "{}", text(&out).1);
    let out = import(&app, csv.to_str().unwrap(), FABRIKAM_ID, &[]);
    assert!(out.status.success(), "{}", text(&out).1);
    assert!(
        text(&out).0.starts_with("imported 4 users"),
        "{}",
        text(&out).0
    );
    let from_jsonl = directory(&app, CONTOSO_ID).await;
    assert_eq!(from_jsonl.len(), 4, "{from_jsonl:?}");
    assert_eq!(from_jsonl, directory(&app, FABRIKAM_ID).await);
    assert_eq!(
        token_status(&app, PUBLIC_APP, "ann@one.test", PASSWORD).await,
        200
    );
    assert_eq!(
        token_status(&app, PUBLIC_APP, "bob", "bob-pw-1").await,
        400,
        "disabled"
    );
    // The groups went into the tenant's directory (one Staff, the existing Sales).
    let staff = cli(&app, &["group", "list", "--tenant", CONTOSO_ID]);
    let listed = text(&staff).0;
    assert_eq!(listed.matches("Staff").count(), 1, "{listed}");
    assert_eq!(listed.matches(existing_group).count(), 1, "{listed}");

    // The same file again as CSV over the JSON Lines users: nothing differs.
    let out = import(
        &app,
        csv.to_str().unwrap(),
        CONTOSO_ID,
        &["--on-conflict", "update"],
    );
    assert!(
        text(&out)
            .0
            .starts_with("imported 0 users (0 updated, 4 unchanged"),
        "{}",
        text(&out).0
    );

    // Changes: Ann's names and groups, Bob enabled with a new password, Cy's roles;
    // Dee's row as it was; a row for a new user; a row in another tenant by name.
    let changed = dir.path().join("changed.jsonl");
    std::fs::write(
        &changed,
        [
            r#"{"email":"ANN@one.test","name":"Ann Two","groups":["Staff"]}"#,
            r#"{"username":"bob","password":"bob-pw-2","disabled":false}"#,
            r#"{"email":"cy@one.test","roles":["admin"]}"#,
            r#"{"email":"dee@one.test","name":"Dee"}"#,
            r#"{"email":"eve@one.test","password":"eve-pw"}"#,
            &format!(
                r#"{{"email":"ann@one.test","tenant":"{FABRIKAM_ID}","roles":["reader","writer"]}}"#
            ),
        ]
        .join("\n"),
    )
    .unwrap();
    let before = directory(&app, CONTOSO_ID).await;
    let out = import(
        &app,
        changed.to_str().unwrap(),
        CONTOSO_ID,
        &["--on-conflict", "update"],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.starts_with("imported 1 users (3 updated, 2 unchanged, 0 already there, 0 refused)"),
        "{stdout}"
    );
    let after = directory(&app, CONTOSO_ID).await;
    assert_eq!(after["dee@one.test"], before["dee@one.test"]);
    assert_ne!(after["ann@one.test"], before["ann@one.test"]);
    assert!(
        after["ann@one.test"].contains(r#"Ann Two Some("Ann") Some("One") ["reader","writer"] 0"#),
        "{}",
        after["ann@one.test"]
    );
    assert!(
        after["ann@one.test"].ends_with(r#"["Staff"]"#),
        "{}",
        after["ann@one.test"]
    );
    assert!(after["cy"].contains(r#"["admin"]"#), "{}", after["cy"]);
    assert!(after.contains_key("eve@one.test"));
    assert_eq!(token_status(&app, PUBLIC_APP, "bob", "bob-pw-1").await, 400);
    assert_eq!(token_status(&app, PUBLIC_APP, "bob", "bob-pw-2").await, 200);
    assert_eq!(
        token_status(&app, PUBLIC_APP, "ann@one.test", PASSWORD).await,
        200
    );
    assert_eq!(
        directory(&app, FABRIKAM_ID).await,
        from_jsonl,
        "fabrikam's ann unchanged"
    );

    // The changes are in the audit log as a CLI change's are.
    let kinds = app
        .state
        .db(|c| {
            use diesel::prelude::*;
            use localidp::db::schema::audit_events as a;
            Ok(a::table
                .filter(a::actor.eq("cli"))
                .select((a::kind, a::detail))
                .load::<(String, String)>(c)?)
        })
        .await
        .unwrap();
    let has = |kind: &str, detail: &str| kinds.iter().any(|(k, d)| k == kind && d.contains(detail));
    assert!(has("user.updated", "name, groups"), "{kinds:?}");
    assert!(has("user.updated", "roles"), "{kinds:?}");
    assert!(has("user.password_set", ""), "{kinds:?}");
    assert!(has("user.enabled", ""), "{kinds:?}");

    // An unknown CSV column is refused up front, by name; nothing is read.
    std::fs::write(&csv, "email,colour\nzed@one.test,blue\n").unwrap();
    let out = import(&app, csv.to_str().unwrap(), CONTOSO_ID, &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).1.contains("unknown column `colour`"),
        "{}",
        text(&out).1
    );
    assert!(
        !directory(&app, CONTOSO_ID)
            .await
            .contains_key("zed@one.test")
    );
}

on_every_backend!(a_repeat_after_the_first_batch_is_refused_and_bad_csv_rows_are_kept_as_read);
async fn a_repeat_after_the_first_batch_is_refused_and_bad_csv_rows_are_kept_as_read(
    backend: Backend,
) {
    let app = spawn_app(&backend).await;
    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    let errors = dir.path().join("refused.csv");
    let header = "email,password_hash,name";
    let short = format!("short@big.test,{hash}");
    let long = format!(r#"long@big.test,{hash},"Long, Row",extra"#);
    let mut bytes = format!("{header}\ndup@big.test,{hash},First\n{short}\n{long}\n").into_bytes();
    // 6,000 rows: the repeat below is in the second batch of 5,000.
    for i in 0..6_000 {
        bytes.extend(format!("user{i}@big.test,{hash},User {i}\n").bytes());
    }
    let again = format!("DUP@big.test,{hash},Again");
    bytes.extend(format!("{again}\n").bytes());
    bytes.extend(b"bad\xff@big.test,x,Not UTF-8\n");
    std::fs::write(&file, bytes).unwrap();
    let path = file.to_str().unwrap();
    let (again_line, bad_line) = (6_005, 6_006);

    let check = |out: &std::process::Output, want: &str| {
        let (stdout, stderr) = text(out);
        assert!(!out.status.success());
        assert!(stdout.starts_with(want), "{stdout}\n{stderr}");
        for (line, why) in [
            (3, "2 fields where the header has 3"),
            (4, "4 fields where the header has 3"),
            (again_line, "dup@big.test is already on line 2"),
            (bad_line, "not UTF-8"),
        ] {
            let reported = stderr
                .lines()
                .find(|l| l.starts_with(&format!("line {line}: ")))
                .unwrap_or_else(|| panic!("line {line} not reported: {stderr}"));
            assert!(reported.contains(why), "{reported}");
        }
    };
    // A dry run writes no user, yet finds the repeat a batch later.
    let out = import(&app, path, CONTOSO_ID, &["--dry-run"]);
    check(
        &out,
        "would import 6001 users (0 updated, 0 unchanged, 0 already there, 4 refused)",
    );
    let out = import(
        &app,
        path,
        CONTOSO_ID,
        &["--errors", errors.to_str().unwrap()],
    );
    check(
        &out,
        "imported 6001 users (0 updated, 0 unchanged, 0 already there, 4 refused)",
    );
    // The refused rows as they were read, under the header, ready to fix and re-run.
    let kept = std::fs::read_to_string(&errors).unwrap();
    let kept: Vec<&str> = kept.lines().collect();
    assert_eq!(kept.len(), 5, "{kept:?}");
    assert_eq!(&kept[..4], &[header, &short, &long, &again]);
    assert!(kept[4].starts_with("bad") && kept[4].ends_with("@big.test,x,Not UTF-8"));

    assert_eq!(
        token_status(&app, PUBLIC_APP, "dup@big.test", PASSWORD).await,
        200
    );
    assert_eq!(
        token_status(&app, PUBLIC_APP, "user5999@big.test", PASSWORD).await,
        200
    );
    let out = import(&app, path, CONTOSO_ID, &[]);
    check(
        &out,
        "imported 0 users (0 updated, 0 unchanged, 6001 already there, 4 refused)",
    );
}

on_every_backend!(a_repeat_of_a_row_refused_a_batch_earlier_is_refused_as_in_a_dry_run);
/// A row refused once its users were looked up (its oid is another tenant's user)
/// reached no user; its email repeated a batch later is still a repeat, as it is
/// within one batch and in a dry run, not a new user.
async fn a_repeat_of_a_row_refused_a_batch_earlier_is_refused_as_in_a_dry_run(backend: Backend) {
    let app = spawn_app(&backend).await;
    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    let mut text_in = format!("email,password_hash,oid\ntaken@fab.test,{hash},{ALICE_OID}\n");
    for i in 0..5_500 {
        text_in.push_str(&format!("user{i}@fab.test,{hash},\n"));
    }
    text_in.push_str(&format!("taken@fab.test,{hash},\n"));
    std::fs::write(&file, text_in).unwrap();
    let repeat_line = 5_503;
    for (args, want) in [
        (&["--dry-run"][..], "would import 5500 users"),
        (&[][..], "imported 5500 users"),
    ] {
        let out = import(&app, file.to_str().unwrap(), FABRIKAM_ID, args);
        let (stdout, stderr) = text(&out);
        assert!(!out.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.starts_with(want), "{args:?}: {stdout}\n{stderr}");
        assert!(stdout.contains("2 refused"), "{args:?}: {stdout}");
        let first = stderr.lines().find(|l| l.starts_with("line 2: "));
        assert!(
            first.is_some_and(|l| l.contains("another tenant")),
            "{args:?}: {stderr}"
        );
        let repeat = stderr
            .lines()
            .find(|l| l.starts_with(&format!("line {repeat_line}: ")));
        assert!(
            repeat.is_some_and(|l| l.contains("taken@fab.test is already on line 2")),
            "{args:?}: {stderr}"
        );
    }
    // "imported 5500 users": the fillers; taken@fab.test was not created.
}

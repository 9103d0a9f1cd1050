//! Graph's audit logs: `/auditLogs/signIns` (password sign-ins and sign-ups, with
//! Entra's error codes) and `/auditLogs/directoryAudits` (changes over Graph, from the
//! CLI and the seed file), read with `AuditLog.Read.All`, filtered, paged newest first
//! while events keep arriving, and only ever the caller's tenant's.

use std::collections::HashSet;
use std::time::Duration;

use localidp::audit::{AuditEvent, kind};
use serde_json::{Value, json};

use crate::helpers::graph::{append_to_seed, assert_graph_error, cli, get, graph};
use crate::helpers::*;

const AUDITOR: &str = "99999999-0000-4000-8000-0000000000a1";
const AUDITOR_SECRET: &str = "auditor-secret-0123456789abcdefghijklmnop";
const NOSY: &str = "99999999-0000-4000-8000-0000000000a2";
const NOSY_SECRET: &str = "nosy-secret-0123456789abcdefghijklmnopqrs";
const FAB_AUDITOR: &str = "99999999-0000-4000-8000-0000000000a3";
const FAB_AUDITOR_SECRET: &str = "fab-auditor-secret-0123456789abcdefghijk";
const GLOBAL_ADMIN: &str = "gadmin@contoso.com";
const GLOBAL_ADMIN_OID: &str = "a11ce000-0000-4000-8000-0000000000b2";
const USER_ADMIN: &str = "uadmin@contoso.com";
const ADMIN_PASSWORD: &str = "admin-password";
const CAROL: &str = "carol@contoso.com";
const SIGN_INS: &str = "/v1.0/auditLogs/signIns";
const AUDITS: &str = "/v1.0/auditLogs/directoryAudits";

/// The standard seed, accounts that lock after three wrong passwords, a Global and a
/// User Administrator, and applications with and without `AuditLog.Read.All`.
async fn spawn_audit_app(backend: &Backend) -> TestApp {
    let (mut settings, fixture) = test_fixture(backend);
    settings.lockout = localidp::config::LockoutPolicy::new(Some(3), Some(60), Some(3600)).unwrap();
    append_to_seed(
        &settings,
        &format!(
            r#"
[[users]]
email = "{GLOBAL_ADMIN}"
password = "{ADMIN_PASSWORD}"
oid = "{GLOBAL_ADMIN_OID}"
name = "Global Admin"
directory_roles = ["Global Administrator"]

[[users]]
email = "{USER_ADMIN}"
password = "{ADMIN_PASSWORD}"
name = "User Admin"
directory_roles = ["User Administrator"]

[[clients]]
client_id = "{AUDITOR}"
name = "auditor"
secret = "{AUDITOR_SECRET}"
grant_types = ["client_credentials"]
graph_permissions = ["auditlog.read.all", "User.ReadWrite.All", "Group.ReadWrite.All"]

[[clients]]
client_id = "{NOSY}"
name = "nosy"
secret = "{NOSY_SECRET}"
grant_types = ["client_credentials"]
graph_permissions = ["Directory.Read.All"]

[[clients]]
client_id = "{FAB_AUDITOR}"
name = "fabrikam auditor"
tenant = "fabrikam.onmicrosoft.com"
secret = "{FAB_AUDITOR_SECRET}"
grant_types = ["client_credentials"]
graph_permissions = ["AuditLog.Read.All"]
"#
        ),
    );
    spawn_with(settings, fixture).await
}

async fn app_token(app: &TestApp, tenant: &str, client: &str, secret: &str) -> String {
    let res = app
        .tenant_token(
            tenant,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client),
                ("client_secret", secret),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn auditor(app: &TestApp) -> String {
    app_token(app, CONTOSO_ID, AUDITOR, AUDITOR_SECRET).await
}

fn user_token(tokens: Value) -> String {
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// A password grant for `user` via the web app, with a correlation id.
async fn sign_in(app: &TestApp, user: &str, password: &str, correlation: &str) -> u16 {
    let res = app
        .http
        .post(app.url("/auth/token"))
        .header("client-request-id", correlation)
        .form(&[
            ("grant_type", "password"),
            ("client_id", WEB_APP),
            ("client_secret", WEB_APP_SECRET),
            ("username", user),
            ("password", password),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

/// The entries of a list once every event recorded so far is written.
async fn entries(app: &TestApp, path: &str, token: &str) -> Vec<Value> {
    app.state.audit.flush().await;
    let (status, body) = get(app, path, token).await;
    assert_eq!(status, 200, "{path}: {body}");
    assert!(
        body["@odata.context"]
            .as_str()
            .unwrap()
            .contains("$metadata#auditLogs/")
    );
    body["value"].as_array().unwrap().clone()
}

fn with_correlation<'a>(list: &'a [Value], correlation: &str) -> &'a Value {
    let found: Vec<&Value> = list
        .iter()
        .filter(|e| e["correlationId"] == correlation)
        .collect();
    assert_eq!(found.len(), 1, "{correlation}: {list:#?}");
    found[0]
}

on_every_backend!(sign_ins_are_listed_with_entra_s_error_codes);
async fn sign_ins_are_listed_with_entra_s_error_codes(backend: Backend) {
    let app = spawn_audit_app(&backend).await;
    assert_eq!(
        sign_in(
            &app,
            ALICE,
            ALICE_PASSWORD,
            "c0000000-0000-4000-8000-000000000001"
        )
        .await,
        200
    );
    assert_eq!(
        sign_in(&app, ALICE, "wrong", "c0000000-0000-4000-8000-000000000002").await,
        400
    );
    assert_eq!(
        sign_in(
            &app,
            "nobody@contoso.com",
            "x",
            "c0000000-0000-4000-8000-000000000003"
        )
        .await,
        400
    );
    assert_eq!(
        sign_in(
            &app,
            "bob@contoso.com",
            "bob-password",
            "c0000000-0000-4000-8000-000000000004"
        )
        .await,
        400
    );
    // Three wrong passwords lock Carol's account; the next attempt meets the lock.
    for n in 5..=7 {
        sign_in(
            &app,
            CAROL,
            "wrong",
            &format!("c0000000-0000-4000-8000-00000000000{n}"),
        )
        .await;
    }
    sign_in(
        &app,
        CAROL,
        CAROL_PASSWORD,
        "c0000000-0000-4000-8000-000000000008",
    )
    .await;
    let token = auditor(&app).await;
    let list = entries(&app, SIGN_INS, &token).await;
    // Sign-ins only: not the application's own token, nor the tokens issued.
    assert_eq!(list.len(), 8, "{list:#?}");

    let ok = with_correlation(&list, "c0000000-0000-4000-8000-000000000001");
    assert_eq!(
        ok["status"],
        json!({"errorCode": 0, "failureReason": null, "additionalDetails": null})
    );
    assert_eq!(ok["userId"], ALICE_OID);
    assert_eq!(ok["userPrincipalName"], ALICE);
    assert_eq!(ok["userDisplayName"], "Alice Smith");
    assert_eq!(ok["appId"], WEB_APP);
    assert_eq!(ok["appDisplayName"], "web app");
    assert_eq!(ok["ipAddress"], "127.0.0.1");
    assert_eq!(ok["clientAppUsed"], "Mobile Apps and Desktop clients");
    assert_eq!(ok["conditionalAccessStatus"], "notApplied");
    assert_eq!(ok["isInteractive"], true);
    assert_eq!(ok["location"]["city"], Value::Null);
    let created = ok["createdDateTime"].as_str().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(created).unwrap();
    assert!(
        created.ends_with('Z') && at.timestamp() == app.now(),
        "{created}"
    );
    assert!(uuid::Uuid::parse_str(ok["id"].as_str().unwrap()).is_ok());

    let code = |c: &str| with_correlation(&list, c)["status"]["errorCode"].clone();
    assert_eq!(code("c0000000-0000-4000-8000-000000000002"), 50126);
    let unknown = with_correlation(&list, "c0000000-0000-4000-8000-000000000003");
    assert_eq!(unknown["status"]["errorCode"], 50034);
    assert_eq!(unknown["userId"], Value::Null);
    assert_eq!(unknown["userPrincipalName"], "nobody@contoso.com");
    assert_eq!(code("c0000000-0000-4000-8000-000000000004"), 50057);
    assert_eq!(code("c0000000-0000-4000-8000-000000000007"), 50126);
    let locked = with_correlation(&list, "c0000000-0000-4000-8000-000000000008");
    assert_eq!(locked["status"]["errorCode"], 50053);
    assert!(
        locked["status"]["failureReason"]
            .as_str()
            .unwrap()
            .contains("locked")
    );
    assert_eq!(locked["userPrincipalName"], CAROL);

    // One entry by id, on v1.0 and beta.
    let id = locked["id"].as_str().unwrap();
    for version in ["v1.0", "beta"] {
        let (status, one) = get(&app, &format!("/{version}/auditLogs/signIns/{id}"), &token).await;
        assert_eq!(status, 200, "{one}");
        assert!(
            one["@odata.context"]
                .as_str()
                .unwrap()
                .ends_with("#auditLogs/signIns/$entity")
        );
        assert_eq!(one["status"], locked["status"]);
        assert_eq!(one["createdDateTime"], locked["createdDateTime"]);
    }
    let (_, picked) = get(&app, &format!("{SIGN_INS}/{id}?$select=id,status"), &token).await;
    assert_eq!(picked.as_object().unwrap().len(), 3, "{picked}");

    // The lockout, by its code; successes and failures.
    let path = format!("{SIGN_INS}?$filter=status/errorCode eq 50053");
    let lockouts = entries(&app, &path, &token).await;
    assert_eq!(lockouts.len(), 1);
    assert_eq!(lockouts[0]["id"], locked["id"]);
    let failed = entries(
        &app,
        &format!("{SIGN_INS}?$filter=status/errorCode ne 0"),
        &token,
    )
    .await;
    assert_eq!(failed.len(), 7);
    let fine = entries(
        &app,
        &format!("{SIGN_INS}?$filter=status/errorCode eq 0"),
        &token,
    )
    .await;
    assert_eq!(fine.len(), 1);
}

on_every_backend!(directory_audits_say_who_changed_what_over_graph_the_cli_and_the_seed);
async fn directory_audits_say_who_changed_what_over_graph_the_cli_and_the_seed(backend: Backend) {
    let app = spawn_audit_app(&backend).await;
    let token = auditor(&app).await;
    let new_user = |upn: &str| {
        json!({
            "accountEnabled": true,
            "displayName": upn.split('@').next().unwrap(),
            "mailNickname": upn.split('@').next().unwrap(),
            "userPrincipalName": upn,
            "passwordProfile": {"password": "Str0ng-Passw0rd!"},
        })
    };
    let post = |path: &'static str, token: String, body: Value| {
        let app = &app;
        async move { graph(app, reqwest::Method::POST, path, Some(&token), Some(body)).await }
    };
    // An application, a signed-in Global Administrator, and the CLI add a user each.
    let (status, by_app) = post("/v1.0/users", token.clone(), new_user("byapp@contoso.com")).await;
    assert_eq!(status, 201, "{by_app}");
    let admin = user_token(
        app.password_tokens(GLOBAL_ADMIN, ADMIN_PASSWORD, "User.ReadWrite.All")
            .await,
    );
    let (status, by_admin) = post("/v1.0/users", admin, new_user("byadmin@contoso.com")).await;
    assert_eq!(status, 201, "{by_admin}");
    let out = cli(
        &app,
        &[
            "user",
            "add",
            "--email",
            "bycli@contoso.com",
            "--password",
            "Cli-Passw0rd-1",
            "--tenant",
            CONTOSO_ID,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.catch_up_with_system_clock();
    let cli_user_id = String::from_utf8(out.stdout)
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_owned();
    // A group and a member, over Graph.
    let (status, group) = post(
        "/v1.0/groups",
        token.clone(),
        json!({"displayName": "auditors", "mailEnabled": false, "mailNickname": "auditors", "securityEnabled": true}),
    )
    .await;
    assert_eq!(status, 201, "{group}");
    let gid = group["id"].as_str().unwrap();
    let members = format!("/v1.0/groups/{gid}/members/$ref");
    let member = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{ALICE_OID}")});
    let (status, _) = graph(
        &app,
        reqwest::Method::POST,
        &members,
        Some(&token),
        Some(member),
    )
    .await;
    assert_eq!(status, 204);

    let path = format!("{AUDITS}?$filter=activityDisplayName eq 'Add user'");
    let added = entries(&app, &path, &token).await;
    let about = |id: &str| {
        added
            .iter()
            .find(|e| e["targetResources"][0]["id"] == id)
            .unwrap_or_else(|| panic!("no entry about {id}: {added:#?}"))
            .clone()
    };
    let e = about(by_app["id"].as_str().unwrap());
    assert_eq!(e["category"], "UserManagement");
    assert_eq!(e["operationType"], "Add");
    assert_eq!(e["result"], "success");
    assert_eq!(e["loggedByService"], "Core Directory");
    assert_eq!(e["initiatedBy"]["user"], Value::Null);
    assert_eq!(e["initiatedBy"]["app"]["appId"], AUDITOR);
    assert_eq!(e["initiatedBy"]["app"]["displayName"], "auditor");
    let target = &e["targetResources"][0];
    assert_eq!(target["type"], "User");
    assert_eq!(target["userPrincipalName"], "byapp@contoso.com");
    assert!(e["activityDateTime"].as_str().unwrap().ends_with('Z'));
    assert!(
        e["additionalDetails"]
            .as_array()
            .unwrap()
            .contains(&json!({"key": "via", "value": "graph"}))
    );

    let e = about(by_admin["id"].as_str().unwrap());
    assert_eq!(e["initiatedBy"]["app"], Value::Null);
    let who = &e["initiatedBy"]["user"];
    assert_eq!(who["id"], GLOBAL_ADMIN_OID);
    assert_eq!(who["userPrincipalName"], GLOBAL_ADMIN);
    assert_eq!(who["displayName"], "Global Admin");
    assert_eq!(who["ipAddress"], "127.0.0.1");

    let e = about(&cli_user_id);
    assert_eq!(e["initiatedBy"]["user"], Value::Null);
    assert_eq!(e["initiatedBy"]["app"]["displayName"], "localidp CLI");
    assert_eq!(e["initiatedBy"]["app"]["appId"], Value::Null);
    let e = about(ALICE_OID);
    assert_eq!(e["initiatedBy"]["app"]["displayName"], "localidp seed");

    // The membership names the member and the group.
    let path =
        format!("{AUDITS}?$filter=category eq 'GroupManagement' and operationType eq 'Assign'");
    let joined = entries(&app, &path, &token).await;
    assert_eq!(joined.len(), 1, "{joined:#?}");
    assert_eq!(joined[0]["activityDisplayName"], "Add member to group");
    let targets: Vec<(&Value, &Value)> = joined[0]["targetResources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (&t["type"], &t["id"]))
        .collect();
    assert_eq!(
        targets,
        [
            (&json!("User"), &json!(ALICE_OID)),
            (&json!("Group"), &json!(gid))
        ]
    );

    // Who did it; and no sign-in is a directory audit.
    let path = format!("{AUDITS}?$filter=initiatedBy/user/id eq '{GLOBAL_ADMIN_OID}'");
    let mine = entries(&app, &path, &token).await;
    assert_eq!(mine.len(), 1);
    let all = entries(&app, &format!("{AUDITS}?$top=1000"), &token).await;
    let categories = [
        "UserManagement",
        "GroupManagement",
        "ApplicationManagement",
        "RoleManagement",
        "DirectoryManagement",
        "KeyManagement",
    ];
    assert!(
        all.iter()
            .all(|e| categories.contains(&e["category"].as_str().unwrap())),
        "{all:#?}"
    );
    let id = mine[0]["id"].as_str().unwrap();
    let (status, one) = get(&app, &format!("{AUDITS}/{id}"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(one["targetResources"], mine[0]["targetResources"]);
    assert!(
        one["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#auditLogs/directoryAudits/$entity")
    );
}

on_every_backend!(filters_narrow_by_time_user_app_and_correlation);
async fn filters_narrow_by_time_user_app_and_correlation(backend: Backend) {
    let app = spawn_audit_app(&backend).await;
    let token = auditor(&app).await;
    sign_in(
        &app,
        ALICE,
        ALICE_PASSWORD,
        "f0000000-0000-4000-8000-000000000001",
    )
    .await;
    app.advance(Duration::from_secs(3600));
    let later = app.now();
    sign_in(&app, ALICE, "wrong", "f0000000-0000-4000-8000-000000000002").await;
    sign_in(
        &app,
        "dave@contoso.com",
        DAVE_PASSWORD,
        "f0000000-0000-4000-8000-000000000003",
    )
    .await;
    let time = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let count = |filter: String| {
        let app = &app;
        let token = token.clone();
        async move {
            let path = format!("{SIGN_INS}?$filter={}", urlencoding(&filter));
            entries(app, &path, &token).await.len()
        }
    };
    assert_eq!(
        count(format!("createdDateTime ge {}", time(later))).await,
        2
    );
    assert_eq!(
        count(format!("createdDateTime gt {}", time(later))).await,
        0
    );
    assert_eq!(
        count(format!("createdDateTime lt {}", time(later))).await,
        1
    );
    assert_eq!(
        count(format!(
            "createdDateTime le {} and createdDateTime ge {}",
            time(later),
            time(later - 7200)
        ))
        .await,
        3
    );
    assert_eq!(count(format!("userId eq '{ALICE_OID}'")).await, 2);
    assert_eq!(
        count(format!(
            "userId eq '{ALICE_OID}' and status/errorCode eq 50126"
        ))
        .await,
        1
    );
    assert_eq!(
        count("userPrincipalName eq 'dave@contoso.com'".into()).await,
        1
    );
    assert_eq!(
        count("userPrincipalName eq 'nobody@contoso.com'".into()).await,
        0
    );
    assert_eq!(count(format!("appId eq '{WEB_APP}'")).await, 3);
    assert_eq!(count(format!("appId eq '{PUBLIC_APP}'")).await, 0);
    assert_eq!(
        count("correlationId eq 'f0000000-0000-4000-8000-000000000002'".into()).await,
        1
    );

    // Directory audits by time and category.
    let seeded = entries(
        &app,
        &format!("{AUDITS}?$filter=category eq 'UserManagement'"),
        &token,
    )
    .await;
    assert!(!seeded.is_empty());
    let since = format!("{AUDITS}?$filter=activityDateTime ge {}", time(later));
    assert_eq!(entries(&app, &since, &token).await.len(), 0);

    for (query, code) in [
        ("$filter=riskState eq 'none'", "BadRequest"),
        ("$filter=userId ne 'x'", "BadRequest"),
        ("$filter=createdDateTime ge yesterday", "BadRequest"),
        ("$filter=status/errorCode eq 'x'", "BadRequest"),
        ("$top=1001", "BadRequest"),
        ("$skiptoken=not-a-token", "BadRequest"),
        ("$select=shoeSize", "BadRequest"),
        ("$orderby=createdDateTime asc", "Request_UnsupportedQuery"),
        ("$count=true", "Request_UnsupportedQuery"),
    ] {
        let (status, body) = get(&app, &format!("{SIGN_INS}?{query}"), &token).await;
        assert_graph_error(status, &body, 400, code);
    }
    let (status, body) = get(&app, &format!("{AUDITS}?$filter=userId eq 'x'"), &token).await;
    assert_graph_error(status, &body, 400, "BadRequest");
    let (status, body) = get(
        &app,
        &format!("{SIGN_INS}?$select=id,status&$orderby=createdDateTime desc"),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e.as_object().unwrap().len() == 2)
    );
}

fn urlencoding(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_owned()
}

/// Every entry of a list, following `@odata.nextLink`; `between` runs after each page.
async fn all_pages(
    app: &TestApp,
    first: &str,
    token: &str,
    mut between: impl AsyncFnMut(),
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut next = Some(first.to_owned());
    for _ in 0..100 {
        let Some(path) = next else { return ids };
        let (status, body) = get(app, &path, token).await;
        assert_eq!(status, 200, "{body}");
        ids.extend(
            body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned()),
        );
        next = body["@odata.nextLink"].as_str().map(str::to_owned);
        between().await;
    }
    panic!("more than 100 pages: {ids:?}");
}

on_every_backend!(pages_neither_repeat_nor_skip_while_events_arrive);
async fn pages_neither_repeat_nor_skip_while_events_arrive(backend: Backend) {
    let app = spawn_audit_app(&backend).await;
    let token = auditor(&app).await;
    let sign_in_event = || {
        AuditEvent::sign_in(kind::SIGN_IN_PASSWORD)
            .tenant(CONTOSO_ID)
            .user(ALICE_OID)
            .client(WEB_APP)
            .detail("via", "password_grant")
    };
    // 23 sign-ins, most in the same second (the order then rests on the row).
    for n in 0..23 {
        if n % 10 == 9 {
            app.advance(Duration::from_secs(1));
        }
        app.state.audit.record(sign_in_event()).await;
    }
    app.state.audit.flush().await;
    let before = entries(&app, &format!("{SIGN_INS}?$top=1000"), &token).await;
    assert_eq!(before.len(), 23);
    let expected: Vec<String> = before
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    // Pages of 5, with new sign-ins (newer than every page) written between pages.
    let state = app.state.clone();
    let paged = all_pages(
        &app,
        &format!("{SIGN_INS}?$top=5&$filter=appId eq '{WEB_APP}'"),
        &token,
        async || {
            state.audit.record(sign_in_event()).await;
            state.audit.flush().await;
        },
    )
    .await;
    assert_eq!(paged, expected, "newest first, each once");
    assert_eq!(
        entries(&app, &format!("{SIGN_INS}?$top=1000"), &token)
            .await
            .len(),
        23 + 5
    );

    // Directory audits merge their categories in one order across pages.
    for n in 0..7 {
        let event = if n % 2 == 0 {
            AuditEvent::admin(kind::GROUP_CREATED).detail("group_id", format!("g{n}"))
        } else {
            AuditEvent::api_key(kind::API_KEY_CREATED).user(ALICE_OID)
        };
        app.state
            .audit
            .record(event.tenant(CONTOSO_ID).actor("cli"))
            .await;
        if n == 3 {
            app.advance(Duration::from_secs(1));
        }
    }
    app.state.audit.flush().await;
    let whole = entries(&app, &format!("{AUDITS}?$top=1000"), &token).await;
    let expected: Vec<String> = whole
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    let times: Vec<&str> = whole
        .iter()
        .map(|e| e["activityDateTime"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    let paged = all_pages(&app, &format!("{AUDITS}?$top=3"), &token, async || {}).await;
    assert_eq!(paged, expected);
    assert_eq!(paged.iter().collect::<HashSet<_>>().len(), paged.len());
}

on_every_backend!(only_auditors_read_and_only_their_tenant_s_events);
async fn only_auditors_read_and_only_their_tenant_s_events(backend: Backend) {
    let app = spawn_audit_app(&backend).await;
    sign_in(
        &app,
        ALICE,
        ALICE_PASSWORD,
        "e0000000-0000-4000-8000-000000000001",
    )
    .await;
    let res = app
        .tenant_token(
            FABRIKAM_ID,
            &[
                ("grant_type", "password"),
                ("client_id", FABRIKAM_APP),
                ("client_secret", FABRIKAM_SECRET),
                ("username", "erin@fabrikam.com"),
                ("password", "erin-password"),
                ("scope", "openid"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);

    // 401 without a (good) token; 403 without the permission or the role.
    for path in [SIGN_INS, AUDITS] {
        let (status, body) = graph(&app, reqwest::Method::GET, path, None, None).await;
        assert_graph_error(status, &body, 401, "InvalidAuthenticationToken");
        let (status, body) = get(&app, path, "not.a.token").await;
        assert_graph_error(status, &body, 401, "InvalidAuthenticationToken");
    }
    let nosy = app_token(&app, CONTOSO_ID, NOSY, NOSY_SECRET).await;
    let (status, body) = get(&app, SIGN_INS, &nosy).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    let user_admin = user_token(
        app.password_tokens(USER_ADMIN, ADMIN_PASSWORD, "AuditLog.Read.All")
            .await,
    );
    let (status, body) = get(&app, AUDITS, &user_admin).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    let admin_without = user_token(
        app.password_tokens(GLOBAL_ADMIN, ADMIN_PASSWORD, "User.Read")
            .await,
    );
    let (status, body) = get(&app, SIGN_INS, &admin_without).await;
    assert_graph_error(status, &body, 403, "Authorization_RequestDenied");
    let admin = user_token(
        app.password_tokens(GLOBAL_ADMIN, ADMIN_PASSWORD, "AuditLog.Read.All")
            .await,
    );
    let list = entries(&app, SIGN_INS, &admin).await;
    assert!(list.iter().any(|e| e["userPrincipalName"] == GLOBAL_ADMIN));

    // Granted from the CLI, the permission is in the application's next token.
    let out = cli(&app, &["client", "grant-graph", NOSY, "AuditLog.Read.All"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let nosy = app_token(&app, CONTOSO_ID, NOSY, NOSY_SECRET).await;
    let contoso = entries(&app, SIGN_INS, &nosy).await;

    // Each tenant sees its own.
    let fabrikam_token = app_token(&app, FABRIKAM_ID, FAB_AUDITOR, FAB_AUDITOR_SECRET).await;
    let fabrikam = entries(&app, SIGN_INS, &fabrikam_token).await;
    assert_eq!(fabrikam.len(), 1, "{fabrikam:#?}");
    assert_eq!(fabrikam[0]["userPrincipalName"], "erin@fabrikam.com");
    assert!(
        contoso
            .iter()
            .all(|e| e["userPrincipalName"] != "erin@fabrikam.com")
    );
    assert!(contoso.iter().any(|e| e["userPrincipalName"] == ALICE));
    let erin = fabrikam[0]["id"].as_str().unwrap();
    let (status, body) = get(&app, &format!("{SIGN_INS}/{erin}"), &nosy).await;
    assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    let fab_audits = entries(&app, AUDITS, &fabrikam_token).await;
    assert!(
        fab_audits
            .iter()
            .all(|e| e["targetResources"][0]["id"] != ALICE_OID)
    );
    assert!(!fab_audits.is_empty());

    // 404: unknown ids, and an id of the other log.
    let alice = contoso[0]["id"].as_str().unwrap();
    for path in [
        format!("{SIGN_INS}/5191e000-0000-4000-8000-0000ffffffff"),
        format!("{SIGN_INS}/not-an-id"),
        format!("{AUDITS}/{alice}"),
    ] {
        let (status, body) = get(&app, &path, &nosy).await;
        assert_graph_error(status, &body, 404, "Request_ResourceNotFound");
    }
}

on_every_backend!(the_login_page_and_sign_up_are_browser_sign_ins);
async fn the_login_page_and_sign_up_are_browser_sign_ins(backend: Backend) {
    let app = spawn_audit_app(&backend).await;
    // The code flow: one sign-in (the login page), none for the code's redemption.
    let browser = Browser::new(&app);
    let code = browser.code_for_alice(&[]).await;
    assert_eq!(app.redeem_code(&code, Some(VERIFIER)).await.status(), 200);
    let token = auditor(&app).await;
    let list = entries(&app, SIGN_INS, &token).await;
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!(list[0]["clientAppUsed"], "Browser");
    assert_eq!(list[0]["appId"], RP_WEB);
    assert_eq!(list[0]["appDisplayName"], "Contoso Web");
    assert_eq!(list[0]["userId"], ALICE_OID);
    assert_eq!(list[0]["status"]["errorCode"], 0);

    // Sign-up on Fabrikam: refused (a weak password), then done.
    let html = browser
        .get(&fabrikam_request(&[]))
        .await
        .text()
        .await
        .unwrap();
    let html = browser
        .get(&link(&html, "Sign up now"))
        .await
        .text()
        .await
        .unwrap();
    let form = hidden_fields(&html);
    for password in ["short1A", "Correct-Horse-9"] {
        let mut f = form.clone();
        f.push(("email".into(), "frank@fabrikam.com".into()));
        f.push(("password".into(), password.into()));
        f.push(("password_confirm".into(), password.into()));
        browser.post("/signup", &f).await;
    }
    let fabrikam = app_token(&app, FABRIKAM_ID, FAB_AUDITOR, FAB_AUDITOR_SECRET).await;
    let list = entries(&app, SIGN_INS, &fabrikam).await;
    assert_eq!(list.len(), 2, "{list:#?}");
    let (done, refused) = (&list[0], &list[1]);
    assert_eq!(done["status"]["errorCode"], 0);
    assert_eq!(done["userPrincipalName"], "frank@fabrikam.com");
    assert!(done["userId"].is_string());
    assert_eq!(done["clientAppUsed"], "Browser");
    assert_eq!(refused["status"]["errorCode"], 90100);
    assert!(
        refused["status"]["additionalDetails"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert_eq!(refused["userId"], Value::Null);
    assert_eq!(refused["userPrincipalName"], "frank@fabrikam.com");
}

//! Graph's list options on `/v1.0/users` (and `/groups`, `/applications`,
//! `/servicePrincipals`): `$orderby=displayName` (ascending and descending, paged by
//! sort key and id) and `$count=true`, and the `ConsistencyLevel: eventual` header
//! Graph requires for them.

use std::collections::HashSet;

use serde_json::Value;

use crate::helpers::graph::{graph_app_token, spawn_with_seed};
use crate::helpers::*;

const READER: &str = "99999999-0000-4000-8000-0000000000a1";
const READER_SECRET: &str = "graph-lists-reader-secret-0123456789abcd";

async fn spawn_reader_app(backend: &Backend) -> (TestApp, String) {
    let app = spawn_with_seed(
        backend,
        &format!(
            r#"
[[clients]]
client_id = "{READER}"
name = "graph lists reader"
secret = "{READER_SECRET}"
grant_types = ["client_credentials"]
graph_permissions = ["User.Read.All", "Group.Read.All", "Application.Read.All"]
"#
        ),
    )
    .await;
    let token = graph_app_token(&app, READER, READER_SECRET).await;
    (app, token)
}

async fn get(app: &TestApp, path: &str, token: &str, eventual: bool) -> (u16, Value) {
    let url = if path.starts_with("http") {
        path.replace(PUBLIC_URL, &app.base)
    } else {
        app.url(path)
    };
    let mut req = app.http.get(url).bearer_auth(token);
    if eventual {
        req = req.header("ConsistencyLevel", "eventual");
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Users with the given display names, their ids ascending in the order given.
async fn add_named(app: &TestApp, names: &[&str]) {
    use localidp::directory::{self, users::NewUser};
    let hasher = app.state.hasher.clone();
    let now = app.now();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    app.state
        .db(move |c| {
            let tenant = directory::tenant(c, CONTOSO_ID).unwrap();
            for (i, name) in names.iter().enumerate() {
                let new = NewUser {
                    email: Some(format!("sorted{i}@contoso.com")),
                    display_name: Some(name.clone()),
                    // Ids in the order of `names`, which is not name order: the
                    // test sees whether sorting happened.
                    oid: Some(format!("50000000-0000-4000-8000-{i:012}")),
                    ..Default::default()
                };
                directory::users::create_user(c, &hasher, &tenant, &new, now).unwrap();
            }
            Ok(())
        })
        .await
        .unwrap();
}

/// Follows `@odata.nextLink` from `first`; the (id, displayName) of every user seen.
async fn all_pages(app: &TestApp, first: &str, token: &str) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    let mut next = Some(first.to_owned());
    let mut pages = 0;
    while let Some(link) = next {
        let (status, page) = get(app, &link, token, true).await;
        assert_eq!(status, 200, "{page}");
        for u in page["value"].as_array().unwrap() {
            seen.push((
                u["id"].as_str().unwrap().to_owned(),
                u["displayName"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
        pages += 1;
        assert!(pages < 100);
    }
    seen
}

const NAMES: [&str; 7] = [
    "Sorter Delta",
    "sorter bravo",
    "SORTER Charlie",
    "Sorter Delta",
    "sorter echo",
    "Sorter Alpha",
    "Sorter Delta",
];
const SORTERS: &str = "$filter=startswith(displayName,'sorter')";

on_every_backend!(users_are_ordered_by_display_name_and_paged_in_that_order);
async fn users_are_ordered_by_display_name_and_paged_in_that_order(backend: Backend) {
    let (app, token) = spawn_reader_app(&backend).await;
    add_named(&app, &NAMES).await;

    // The expected order: display name without case, then id (ties).
    let unsorted = all_pages(&app, &format!("/v1.0/users?{SORTERS}"), &token).await;
    assert_eq!(unsorted.len(), NAMES.len());
    let mut expected = unsorted.clone();
    expected.sort_by_key(|(id, name)| (name.to_lowercase(), id.clone()));
    assert_ne!(unsorted, expected, "id order is not already name order");

    for first in [
        format!("/v1.0/users?{SORTERS}&$orderby=displayName&$top=2"),
        format!("/v1.0/users?$top=2&{SORTERS}&$orderby=displayName%20asc"),
    ] {
        let seen = all_pages(&app, &first, &token).await;
        assert_eq!(seen, expected, "{first}");
    }
    let seen = all_pages(
        &app,
        &format!("/v1.0/users?{SORTERS}&$orderby=displayName desc&$top=3"),
        &token,
    )
    .await;
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(seen, reversed);

    // Without a filter no header is needed; every user comes once.
    let (status, page) = get(
        &app,
        "/v1.0/users?$orderby=displayName&$top=3",
        &token,
        false,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let every = all_pages(&app, "/v1.0/users?$orderby=displayName&$top=3", &token).await;
    let ids: HashSet<&String> = every.iter().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), every.len());
    let (_, all) = get(&app, "/v1.0/users?$top=999", &token, false).await;
    assert_eq!(ids.len(), all["value"].as_array().unwrap().len());

    // With a filter Graph needs ConsistencyLevel: eventual.
    let (status, body) = get(
        &app,
        &format!("/v1.0/users?{SORTERS}&$orderby=displayName"),
        &token,
        false,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "Request_UnsupportedQuery");
    assert_eq!(
        body["error"]["message"],
        "Sorting not supported for current query."
    );

    // Only displayName sorts; a token of one order does not continue another.
    let (status, body) = get(&app, "/v1.0/users?$orderby=mail", &token, true).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "BadRequest");
    let (_, page) = get(
        &app,
        "/v1.0/users?$orderby=displayName&$top=1",
        &token,
        false,
    )
    .await;
    let link = page["@odata.nextLink"].as_str().unwrap();
    let token_part = link.split("%24skiptoken=").nth(1).unwrap();
    let (status, body) = get(
        &app,
        &format!("/v1.0/users?$skiptoken={token_part}"),
        &token,
        false,
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

on_every_backend!(count_needs_consistency_level_and_counts_every_page_s_matches);
async fn count_needs_consistency_level_and_counts_every_page_s_matches(backend: Backend) {
    let (app, token) = spawn_reader_app(&backend).await;
    add_named(&app, &NAMES).await;

    let (status, body) = get(&app, "/v1.0/users?$count=true", &token, false).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "Request_UnsupportedQuery");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ConsistencyLevel:eventual")
    );

    let first = format!("/v1.0/users?{SORTERS}&$count=true&$top=2&$orderby=displayName");
    let (status, page) = get(&app, &first, &token, true).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["@odata.count"], NAMES.len());
    assert_eq!(page["value"].as_array().unwrap().len(), 2);
    // The next page counts the same matches, not what is left.
    let next = page["@odata.nextLink"].as_str().unwrap();
    assert!(next.contains("%24count=true"), "{next}");
    let (status, page) = get(&app, next, &token, true).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["@odata.count"], NAMES.len());

    let (_, all) = get(&app, "/v1.0/users?$top=999", &token, false).await;
    let (status, page) = get(&app, "/v1.0/users?$count=true&$top=1", &token, true).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["@odata.count"], all["value"].as_array().unwrap().len());
    // $count=false is no count, and needs no header.
    let (status, page) = get(&app, "/v1.0/users?$count=false", &token, false).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.get("@odata.count").is_none());
    let (status, _) = get(&app, "/v1.0/users?$count=maybe", &token, true).await;
    assert_eq!(status, 400);
}

on_every_backend!(b2c_identities_are_selected_and_filtered_as_graph_does);
async fn b2c_identities_are_selected_and_filtered_as_graph_does(backend: Backend) {
    let (app, token) = spawn_reader_app(&backend).await;
    add_named(&app, &NAMES).await;
    let filter = |id: &str, issuer: &str| {
        format!(
            "/v1.0/users?$select=id,displayName,identities&$filter=identities/any(c:c/issuerAssignedId eq '{id}' and c/issuer eq '{issuer}')"
        )
    };

    // B2C's look-up of a local account by its email address.
    let (status, page) = get(
        &app,
        &filter("Sorted3@contoso.com", "contoso.onmicrosoft.com"),
        &token,
        false,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let found = page["value"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{page}");
    assert_eq!(found[0]["id"], "50000000-0000-4000-8000-000000000003");
    assert_eq!(found[0]["displayName"], NAMES[3]);
    let identities = found[0]["identities"].as_array().unwrap();
    assert!(
        identities.contains(&serde_json::json!({
            "signInType": "emailAddress",
            "issuer": "contoso.onmicrosoft.com",
            "issuerAssignedId": "sorted3@contoso.com",
        })),
        "{page}"
    );
    assert!(
        identities
            .iter()
            .any(|i| i["signInType"] == "userPrincipalName"),
        "{page}"
    );
    assert!(
        page["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#users(id,displayName,identities)"),
        "{page}"
    );

    // Another issuer, or a sign-in type the address is not, finds nobody.
    let (status, page) = get(
        &app,
        &filter("sorted3@contoso.com", "facebook.com"),
        &token,
        false,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["value"], serde_json::json!([]));
    let (status, page) = get(
        &app,
        "/v1.0/users?$filter=identities/any(c:c/issuerAssignedId eq 'sorted3@contoso.com' and c/signInType eq 'userName')",
        &token,
        false,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["value"], serde_json::json!([]));

    // Without issuerAssignedId, or with an operator Graph does not take here: 400.
    for bad in [
        "/v1.0/users?$filter=identities/any(c:c/issuer eq 'contoso.onmicrosoft.com')",
        "/v1.0/users?$filter=identities/any(c:c/issuerAssignedId ne 'x')",
    ] {
        let (status, body) = get(&app, bad, &token, false).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "BadRequest", "{body}");
    }
}

/// Groups and clients named as `NAMES` (without repeats: group names are unique), ids
/// ascending in that order.
async fn add_named_groups_and_clients(app: &TestApp) -> Vec<&'static str> {
    use localidp::directory::{self, NewClient};
    let names = vec![
        "Sorter Delta",
        "sorter bravo",
        "SORTER Charlie",
        "sorter echo",
        "Sorter Alpha",
    ];
    let now = app.now();
    let list = names.clone();
    app.state
        .db(move |c| {
            let tenant = directory::tenant(c, CONTOSO_ID).unwrap();
            for (i, name) in list.iter().enumerate() {
                let group = localidp::db::groups::Group {
                    id: format!("60000000-0000-4000-8000-{i:012}"),
                    tenant_id: CONTOSO_ID.into(),
                    name: (*name).into(),
                    created_at: now,
                    description: None,
                    mail_nickname: None,
                    mail_enabled: false,
                    security_enabled: true,
                };
                localidp::db::groups::insert(c, &group)?;
                let client = NewClient {
                    client_id: Some(format!("70000000-0000-4000-8000-{i:012}")),
                    name: (*name).into(),
                    ..Default::default()
                };
                directory::create_client(c, &tenant, &client, now).unwrap();
            }
            Ok(())
        })
        .await
        .unwrap();
    names
}

on_every_backend!(groups_and_applications_are_ordered_counted_and_paged_as_users_are);
async fn groups_and_applications_are_ordered_counted_and_paged_as_users_are(backend: Backend) {
    let (app, token) = spawn_reader_app(&backend).await;
    let names = add_named_groups_and_clients(&app).await;
    let mut sorted: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    sorted.sort_by_key(|n| n.to_lowercase());
    for collection in ["groups", "applications", "servicePrincipals"] {
        let base = format!("/v1.0/{collection}?{SORTERS}");
        // Sorted with a filter: an advanced query, refused without the header.
        let (status, body) =
            get(&app, &format!("{base}&$orderby=displayName"), &token, false).await;
        assert_eq!(status, 400, "{collection}: {body}");
        assert_eq!(body["error"]["code"], "Request_UnsupportedQuery");
        let (status, body) = get(
            &app,
            &format!("/v1.0/{collection}?$count=true"),
            &token,
            false,
        )
        .await;
        assert_eq!(status, 400, "{collection}: {body}");

        let seen = all_pages(&app, &format!("{base}&$orderby=displayName&$top=2"), &token).await;
        let got: Vec<&str> = seen.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(got, sorted, "{collection}, ascending");
        let seen = all_pages(
            &app,
            &format!("{base}&$orderby=displayName desc&$top=2"),
            &token,
        )
        .await;
        let mut desc: Vec<&str> = seen.iter().map(|(_, n)| n.as_str()).collect();
        desc.reverse();
        assert_eq!(desc, sorted, "{collection}, descending");
        let ids: HashSet<String> = seen.into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids.len(), names.len(), "{collection}: each once");

        let (status, page) = get(&app, &format!("{base}&$count=true&$top=2"), &token, true).await;
        assert_eq!(status, 200, "{collection}: {page}");
        assert_eq!(page["@odata.count"], names.len(), "{collection}: {page}");
        assert_eq!(page["value"].as_array().unwrap().len(), 2);
    }
}

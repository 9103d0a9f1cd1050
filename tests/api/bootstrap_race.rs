//! Replicas started together on one empty database all start, and what first start
//! makes (tenant, demo user and clients, signing key) exists once.

use localidp::clock::Clock;
use localidp::config::Settings;
use localidp::db::{clients, signing_keys, tenants, users};
use localidp::startup::Application;

use crate::helpers::*;

const REPLICAS: usize = 5;

/// Builds `REPLICAS` servers on the same settings at once; every one must start.
async fn start_together(settings: &Settings) -> Vec<Application> {
    let starts: Vec<_> = (0..REPLICAS)
        .map(|_| {
            let settings = settings.clone();
            tokio::spawn(Application::build_with_clock(settings, Clock::adjustable()))
        })
        .collect();
    let mut apps = Vec::new();
    for (i, start) in starts.into_iter().enumerate() {
        match start.await.unwrap() {
            Ok(app) => apps.push(app),
            Err(e) => panic!("replica {i} did not start: {e}"),
        }
    }
    apps
}

struct Counts {
    tenants: usize,
    users: i64,
    clients: usize,
    keys: usize,
    active_keys: usize,
}

async fn counts(app: &Application) -> Counts {
    app.state()
        .db(|c| {
            let all_tenants = tenants::list(c)?;
            let mut client_count = 0;
            for t in &all_tenants {
                client_count += clients::list(c, &t.id)?.len();
            }
            let keys = signing_keys::all(c)?;
            Ok(Counts {
                tenants: all_tenants.len(),
                users: users::count(c)?,
                clients: client_count,
                active_keys: keys.iter().filter(|k| k.retired_at.is_none()).count(),
                keys: keys.len(),
            })
        })
        .await
        .unwrap()
}

/// Every replica signs with the one key.
fn one_signing_key(apps: &[Application]) {
    let kid = apps[0].state().keys.ring().active().kid.clone();
    for app in apps {
        assert_eq!(app.state().keys.ring().active().kid, kid);
    }
}

on_every_backend!(replicas_starting_together_on_an_empty_database_make_one_tenant_and_one_key);
async fn replicas_starting_together_on_an_empty_database_make_one_tenant_and_one_key(
    backend: Backend,
) {
    let (mut settings, _fixture) = test_fixture(&backend);
    // No seed: each replica finds an empty database to bootstrap.
    settings.seed = None;
    settings.default_tenant = None;
    settings.workers = 1;
    let apps = start_together(&settings).await;
    let made: Vec<_> = apps
        .iter()
        .filter_map(|a| a.report.bootstrap.as_ref())
        .collect();
    assert_eq!(made.len(), 1, "exactly one replica bootstrapped");
    let c = counts(&apps[0]).await;
    assert_eq!(c.tenants, 1);
    assert_eq!(c.users, 1, "one demo user");
    assert_eq!(c.clients, 2, "the demo public and confidential clients");
    assert_eq!((c.keys, c.active_keys), (1, 1), "one signing key");
    one_signing_key(&apps);
    // Every replica serves the same default tenant.
    let tenant = made[0].tenant.id.clone();
    for app in &apps {
        let default = app.state().directory.default_tenant().await.unwrap();
        assert_eq!(default.id, tenant);
    }
}

on_every_backend!(replicas_starting_together_with_a_seed_apply_it_once);
async fn replicas_starting_together_with_a_seed_apply_it_once(backend: Backend) {
    let (mut settings, _fixture) = test_fixture(&backend);
    settings.workers = 1;
    let apps = start_together(&settings).await;
    let c = counts(&apps[0]).await;
    assert_eq!(c.tenants, 2, "contoso and fabrikam");
    assert_eq!(c.users, 5);
    assert_eq!(c.clients, 11);
    assert_eq!((c.keys, c.active_keys), (1, 1), "one signing key");
    one_signing_key(&apps);
}

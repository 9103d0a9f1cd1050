//! Automatic key rotation: the next key is published ahead of use, takes over at the
//! rotation age, and the old one leaves the JWKS after its retention; two replicas
//! rotating at once leave one active key. The housekeeping step is called directly,
//! on the injected clock.

use std::time::Duration;

use localidp::config::Settings;
use localidp::crypto::key_rotation::RotationStep;
use localidp::crypto::keys::{KeyStatus, list_keys};
use localidp::db::DbError;
use localidp::db::signing_keys::{self, SigningKeyRow};
use serde_json::Value;

use crate::helpers::*;

const DAY: u64 = 86_400;

fn rotating(settings: Settings) -> Settings {
    Settings {
        key_rotation_days: 30,
        key_publish_ahead: 48,
        ..settings
    }
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn signing_kid(app: &TestApp) -> String {
    let token = app.alice_tokens("openid").await;
    header(token["access_token"].as_str().unwrap())["kid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `localidp keys list` at the server's time: (kid, status), newest first.
async fn listed(app: &TestApp) -> Vec<(String, KeyStatus)> {
    let now = app.now();
    let keys = app
        .state
        .db(move |c| list_keys(c, now, 3900).map_err(|e| DbError::Unavailable(e.to_string())))
        .await
        .unwrap();
    keys.into_iter().map(|k| (k.kid, k.status)).collect()
}

async fn rows(app: &TestApp) -> Vec<SigningKeyRow> {
    app.state.db(signing_keys::all).await.unwrap()
}

on_every_backend!(the_next_key_is_published_ahead_then_signs_then_the_old_one_leaves);
async fn the_next_key_is_published_ahead_then_signs_then_the_old_one_leaves(backend: Backend) {
    let (settings, fixture) = test_fixture(&backend);
    let app = spawn_with(rotating(settings), fixture).await;
    let first = signing_kid(&app).await;
    assert_eq!(
        app.state.rotate_keys_if_due().await.unwrap(),
        RotationStep::Nothing
    );

    // 28 days less a minute: not yet due (30 days less 48 hours ahead).
    app.advance(Duration::from_secs(28 * DAY - 60));
    assert_eq!(
        app.state.rotate_keys_if_due().await.unwrap(),
        RotationStep::Nothing
    );
    app.advance(Duration::from_secs(61));
    let RotationStep::Published { kid: next, from } = app.state.rotate_keys_if_due().await.unwrap()
    else {
        panic!("the next key is published 48 hours ahead");
    };
    assert_eq!(from - app.now(), 48 * 3600, "at least 48 hours ahead");
    let jwks = app.get_json("/.well-known/jwks.json").await;
    assert_eq!(
        kids(&jwks),
        [first.clone(), next.clone()],
        "active first, then next"
    );
    assert_eq!(signing_kid(&app).await, first, "published, not signing");
    assert_eq!(
        listed(&app).await,
        [
            (next.clone(), KeyStatus::Next { from }),
            (first.clone(), KeyStatus::Active)
        ]
    );
    // Checking again changes nothing.
    assert_eq!(
        app.state.rotate_keys_if_due().await.unwrap(),
        RotationStep::Nothing
    );

    // Ten minutes before the switch: a token of the old key.
    app.advance(Duration::from_secs(48 * 3600 - 600));
    let old_token = app.alice_tokens("openid").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(header(&old_token)["kid"], first.as_str());
    app.advance(Duration::from_secs(600));
    // The switch happens at its time, before any housekeeping.
    assert_eq!(signing_kid(&app).await, next);
    assert_eq!(
        app.state.rotate_keys_if_due().await.unwrap(),
        RotationStep::Promoted {
            kid: next.clone(),
            retired: vec![first.clone()]
        }
    );
    let jwks = app.get_json("/.well-known/jwks.json").await;
    assert_eq!(kids(&jwks), [next.clone(), first.clone()]);
    assert_eq!(
        app.verify(&old_token).await.status(),
        200,
        "old key still published"
    );
    assert_eq!(
        listed(&app).await,
        [
            (next.clone(), KeyStatus::Active),
            (
                first.clone(),
                KeyStatus::Previous {
                    until: app.now() + 3900
                }
            )
        ]
    );

    // Past the retention (token lifetime + 5 minutes) the old key leaves the JWKS.
    app.advance(Duration::from_secs(3600 + 300 + 1));
    assert_eq!(
        app.state.rotate_keys_if_due().await.unwrap(),
        RotationStep::Nothing
    );
    let jwks = app.get_json("/.well-known/jwks.json").await;
    assert_eq!(kids(&jwks), [next]);
    for kind in ["key.published", "key.rotated"] {
        let events = app.audit_events(kind).await;
        assert_eq!(events.len(), 1, "{kind}");
        assert_eq!(events[0].actor.as_deref(), Some("system"));
    }
}

on_every_backend!(a_server_down_past_the_rotation_age_still_publishes_ahead);
async fn a_server_down_past_the_rotation_age_still_publishes_ahead(backend: Backend) {
    let (settings, fixture) = test_fixture(&backend);
    let app = spawn_with(rotating(settings), fixture).await;
    let first = signing_kid(&app).await;
    app.advance(Duration::from_secs(45 * DAY));
    let RotationStep::Published { from, .. } = app.state.rotate_keys_if_due().await.unwrap() else {
        panic!("a next key");
    };
    assert_eq!(
        from,
        app.now() + 48 * 3600,
        "never signs before it was published"
    );
    assert_eq!(signing_kid(&app).await, first);
}

on_every_backend!(two_replicas_rotating_at_once_leave_one_active_key);
async fn two_replicas_rotating_at_once_leave_one_active_key(backend: Backend) {
    let (settings, fixture) = test_fixture(&backend);
    let settings = Settings {
        keys_in_database: true,
        ..rotating(settings)
    };
    let a = spawn_with(settings.clone(), fixture.clone()).await;
    let b = spawn_with_clock(settings, fixture, a.state.clock.clone()).await;
    let first = signing_kid(&a).await;

    for round in 0..3 {
        // Past the publish time of this round's key (each round is 30 days).
        a.advance(Duration::from_secs(28 * DAY + 1));
        let (x, y) = tokio::join!(a.state.rotate_keys_if_due(), b.state.rotate_keys_if_due());
        let steps = [x.unwrap(), y.unwrap()];
        let published: Vec<_> = steps
            .iter()
            .filter(|s| matches!(s, RotationStep::Published { .. }))
            .collect();
        assert_eq!(published.len(), 1, "round {round}: {steps:?}");
        assert!(steps.contains(&RotationStep::Nothing), "{steps:?}");
        let unretired: Vec<_> = rows(&a)
            .await
            .into_iter()
            .filter(|r| r.retired_at.is_none())
            .collect();
        assert_eq!(unretired.len(), 2, "round {round}: one active, one next");
        let now = a.now();
        assert_eq!(
            unretired
                .iter()
                .filter(|r| r.activates_at.is_some_and(|t| t > now))
                .count(),
            1,
            "round {round}: one next key"
        );
        // B serves the key A made, and A the one B made.
        assert_eq!(
            kids(&a.get_json("/.well-known/jwks.json").await)[..2],
            kids(&b.get_json("/.well-known/jwks.json").await)[..2]
        );

        a.advance(Duration::from_secs(2 * DAY));
        let (x, y) = tokio::join!(a.state.rotate_keys_if_due(), b.state.rotate_keys_if_due());
        let steps = [x.unwrap(), y.unwrap()];
        let promoted: Vec<_> = steps
            .iter()
            .filter_map(|s| match s {
                RotationStep::Promoted { kid, .. } => Some(kid.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(promoted.len(), 1, "round {round}: {steps:?}");
        let active: Vec<_> = rows(&a)
            .await
            .into_iter()
            .filter(|r| r.retired_at.is_none())
            .collect();
        assert_eq!(active.len(), 1, "round {round}: exactly one active key");
        assert_eq!(active[0].kid, promoted[0]);
        assert_eq!(signing_kid(&a).await, promoted[0]);
        assert_eq!(signing_kid(&b).await, promoted[0]);
        assert_ne!(promoted[0], first);
    }
}

on_every_backend!(key_retention_hours_keeps_the_previous_key_published_longer);
async fn key_retention_hours_keeps_the_previous_key_published_longer(backend: Backend) {
    let (settings, fixture) = test_fixture(&backend);
    let settings = Settings {
        key_retention_hours: 7 * 24,
        ..rotating(settings)
    };
    let app = spawn_with(settings, fixture).await;
    let first = signing_kid(&app).await;
    app.advance(Duration::from_secs(28 * DAY));
    app.state.rotate_keys_if_due().await.unwrap();
    app.advance(Duration::from_secs(2 * DAY));
    let step = app.state.rotate_keys_if_due().await.unwrap();
    assert!(matches!(step, RotationStep::Promoted { .. }), "{step:?}");
    app.advance(Duration::from_secs(7 * DAY - 60));
    app.state.rotate_keys_if_due().await.unwrap();
    let jwks = app.get_json("/.well-known/jwks.json").await;
    assert_eq!(kids(&jwks).len(), 2, "published for 7 days");
    assert_eq!(kids(&jwks)[1], first);
    app.advance(Duration::from_secs(61));
    app.state.rotate_keys_if_due().await.unwrap();
    assert_eq!(kids(&app.get_json("/.well-known/jwks.json").await).len(), 1);
}

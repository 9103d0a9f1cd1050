//! `keep_alive`: how long an idle keep-alive connection stays open. It is actix-web's
//! own timer on the server's worker threads, not the injected clock, so the first test
//! waits for the server to close the short-lived connection (about 1-2 s) instead of
//! moving a clock.

use std::net::TcpStream;
use std::time::Duration;

use crate::helpers::process::ask;
use crate::helpers::*;

on_every_backend!(
    an_idle_connection_lives_as_long_as_keep_alive_says,
    keep_alive_zero_closes_each_connection_after_its_answer,
);

/// [`ask`] off the runtime, which also runs the in-process server.
async fn ask_on(mut tcp: TcpStream, path: &'static str) -> (TcpStream, String) {
    tokio::task::spawn_blocking(move || {
        let answer = ask(&mut tcp, path);
        (tcp, answer)
    })
    .await
    .unwrap()
}

/// Waits (off the runtime, at most the read timeout) until the server closes an idle
/// connection: the read that returns no bytes.
async fn closed_by_server(mut tcp: TcpStream) -> TcpStream {
    tokio::task::spawn_blocking(move || {
        let _ = std::io::Read::read(&mut tcp, &mut [0u8; 64]);
        tcp
    })
    .await
    .unwrap()
}

fn connect(app: &TestApp) -> TcpStream {
    let address = app.base.trim_start_matches("http://");
    let tcp = TcpStream::connect(address).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp
}

async fn an_idle_connection_lives_as_long_as_keep_alive_says(backend: Backend) {
    let (mut short, fixture) = test_fixture(&backend);
    short.keep_alive = 1;
    let mut long = short.clone();
    long.keep_alive = 60;
    let short = spawn_with(short, fixture.clone()).await;
    let long = spawn_with(long, fixture).await;
    let mut open = Vec::new();
    for tcp in [connect(&short), connect(&long)] {
        let (tcp, answer) = ask_on(tcp, "/healthz").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            !answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
        open.push(tcp);
    }
    let (b, a) = (open.pop().unwrap(), open.pop().unwrap());
    // Until the server closes the short one (its timer is coarse: up to a second
    // late), well within the long one's 60 s.
    let idle = std::time::Instant::now();
    let a = closed_by_server(a).await;
    assert!(
        idle.elapsed() <= Duration::from_millis(3500),
        "keep_alive = 1 closed an idle connection only after {:?}",
        idle.elapsed()
    );
    let (_, closed) = ask_on(a, "/healthz").await;
    assert_eq!(
        closed, "",
        "a connection idle past keep_alive = 1 was still open"
    );
    let (_, answer) = ask_on(b, "/healthz").await;
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "keep_alive = 60: {answer}"
    );
}

async fn keep_alive_zero_closes_each_connection_after_its_answer(backend: Backend) {
    let (mut settings, fixture) = test_fixture(&backend);
    settings.keep_alive = 0;
    let app = spawn_with(settings, fixture).await;
    let (tcp, answer) = ask_on(connect(&app), "/healthz").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert_eq!(ask_on(tcp, "/healthz").await.1, "");
}

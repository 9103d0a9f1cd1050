//! Malformed requests from anyone write nothing at warn or error level, and no log
//! line carries more than a bounded amount of what a client sent: the real binary,
//! its stderr read line by line.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use localidp::db::DatabaseTarget;

use crate::helpers::*;

/// A log line longer than this would mean client text went in unbounded.
const MAX_LINE: usize = 400;

struct Server {
    child: Child,
    port: u16,
    stderr: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `localidp serve` on the fixture's database, logging at info (its default) plus
/// the debug events that malformed requests are turned into.
fn serve(backend: &Backend) -> (Server, std::sync::Arc<Fixture>) {
    let (settings, fixture) = test_fixture(backend);
    let database = match &settings.database {
        DatabaseTarget::Postgres(url) => url.clone(),
        DatabaseTarget::SqliteFile(path) => format!("sqlite://{path}"),
        DatabaseTarget::SqliteMemory => unreachable!("the fixture uses a file"),
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_localidp"))
        .args(["--database-url", &database])
        .arg("--keys-dir")
        .arg(&settings.keys_dir)
        .args(["serve", "--port", "0"])
        .arg("--seed")
        .arg(settings.seed.as_ref().unwrap())
        .env_remove("RUST_LOG")
        .env("LOCALIDP_LOG", "info,localidp::http=debug")
        // Plain lines: any escape character left would be one a client sent.
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start localidp");
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = stdout.next().expect("a banner").unwrap();
    // Keep reading: a closed pipe would fail the banner's next line.
    std::thread::spawn(move || stdout.map_while(Result::ok).for_each(drop));
    let port = first
        .split("listening on http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {first:?}"));
    let (lines, stderr) = mpsc::channel();
    let pipe = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (
        Server {
            child,
            port,
            stderr,
        },
        fixture,
    )
}

/// Sends raw bytes on a fresh connection and reads until the server closes it.
fn raw(port: u16, request: &[u8]) -> Vec<u8> {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // The server may answer and close before reading everything: ignore write errors.
    let _ = tcp.write_all(request);
    let _ = tcp.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer);
    answer
}

fn post(path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

fn get(target: &str, headers: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n").into_bytes()
}

/// Hostile and broken requests, each on its own connection.
fn malformed() -> Vec<(&'static str, Vec<u8>)> {
    let long = "x".repeat(6000);
    vec![
        ("garbage", b"GARBAGE\r\n\r\n".to_vec()),
        ("header without colon", b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".to_vec()),
        ("bad version", b"GET / HTTP/9.9\r\n\r\n".to_vec()),
        ("control bytes in the path", b"GET /\x1b[31m\xff HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("two lengths", b"POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc".to_vec()),
        ("bad length", b"POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n".to_vec()),
        ("bad chunk", b"POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n".to_vec()),
        ("cut-off body", b"POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nabc".to_vec()),
        ("TLS to a plain port", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03".to_vec()),
        ("broken JSON", post("/auth/login", "application/json", b"{abc,")),
        ("JSON of the wrong shape", post("/auth/login", "application/json", b"[]")),
        ("broken form", post("/auth/token", "application/x-www-form-urlencoded", b"%zz=\xff")),
        ("broken login form", post("/login", "application/x-www-form-urlencoded", b"%zz=\xff")),
        ("oversized body", post("/auth/token", "application/x-www-form-urlencoded", &vec![b'a'; 200_000])),
        ("bad query", get("/common/oauth2/v2.0/authorize?%zz=%ff&p=%00", "")),
        ("bad bearer", get("/auth/verify", "Authorization: Bearer abc.def.ghi\r\n")),
        ("non-UTF-8 bearer", b"GET /userinfo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n".to_vec()),
        ("bad basic", {
            let mut r = b"POST /introspect HTTP/1.1\r\nHost: x\r\nAuthorization: Basic !!!\r\n".to_vec();
            r.extend_from_slice(&post("/introspect", "application/x-www-form-urlencoded", b"token=x")[b"POST /introspect HTTP/1.1\r\n".len()..]);
            r
        }),
        ("long unknown path", get(&format!("/nope/{long}"), "")),
        ("long method", format!("{long} / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()),
        ("forged forwarded-for", get("/healthz", &format!("X-Forwarded-For: {long}\r\nUser-Agent: {long}\r\n"))),
    ]
}

on_every_backend!(malformed_requests_log_nothing_above_debug_and_no_line_is_unbounded);
async fn malformed_requests_log_nothing_above_debug_and_no_line_is_unbounded(backend: Backend) {
    let (server, _fixture) = serve(&backend);
    for (what, request) in malformed() {
        let answer = raw(server.port, &request);
        let status = String::from_utf8_lossy(&answer[..answer.len().min(12)]).into_owned();
        assert!(
            answer.is_empty() || !status.starts_with("HTTP/1.1 5"),
            "{what}: {status}"
        );
    }
    raw(server.port, &get("/quiet-logs-done", ""));
    let mut log = Vec::new();
    loop {
        let line = server
            .stderr
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no end marker in the log:\n{}", log.join("\n")));
        let done = line.contains("/quiet-logs-done");
        log.push(line);
        if done {
            break;
        }
    }
    let text = log.join("\n");
    for line in &log {
        assert!(
            !line.contains("ERROR") && !line.contains("WARN"),
            "a client's mistake logged above debug: {line}\n\n{text}"
        );
        assert!(line.len() <= MAX_LINE, "unbounded line: {line}");
        assert!(
            !line.contains('\u{1b}'),
            "a client's escape character: {line:?}"
        );
    }
    // What the connection-level failures became: debug lines, one per connection.
    let closed = log
        .iter()
        .filter(|l| l.contains("DEBUG localidp::http: connection closed on a malformed"))
        .count();
    assert!(closed >= 5, "{text}");
    // The access log names the address that connected, and cuts the path.
    let long_path = log
        .iter()
        .find(|l| l.contains("localidp::request") && l.contains("/nope/"))
        .unwrap_or_else(|| panic!("no access line for the long path:\n{text}"));
    assert!(
        long_path.contains("127.0.0.1 \"GET /nope/xxx"),
        "{long_path}"
    );
    assert!(long_path.contains("...\" 404"), "{long_path}");
    // A forged X-Forwarded-For from an untrusted peer is not believed, nor written.
    assert!(
        log.iter().any(
            |l| l.contains("localidp::request") && l.contains("127.0.0.1 \"GET /healthz\" 200")
        ),
        "{text}"
    );
    let method = log
        .iter()
        .find(|l| l.contains("localidp::request") && l.contains("\"xxxxxxxxxxxxxxxx... /\""));
    assert!(method.is_some(), "the long method is cut:\n{text}");
}

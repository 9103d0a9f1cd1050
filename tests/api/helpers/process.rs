//! The real `localidp` binary as a child process, for what only a process shows:
//! signals, exit status, its log on stderr; and raw HTTP/1.1 on one connection.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use localidp::config::Settings;
use localidp::db::DatabaseTarget;

/// The storage flags of a test fixture's settings: its database and keys directory.
pub fn storage_args(settings: &Settings) -> Vec<OsString> {
    let database = match &settings.database {
        DatabaseTarget::Postgres(url) => url.clone(),
        DatabaseTarget::SqliteFile(path) => format!("sqlite://{path}"),
        DatabaseTarget::SqliteMemory => unreachable!("the fixture uses a file"),
    };
    vec![
        "--database-url".into(),
        database.into(),
        "--keys-dir".into(),
        settings.keys_dir.clone().into(),
    ]
}

/// `localidp serve --port 0` on a fixture's storage and seed, with more `serve` flags
/// and environment variables; panics if it refuses to start.
pub fn serve_fixture(settings: &Settings, flags: &[&str], env: &[(&str, &str)]) -> ServerProcess {
    let mut args = storage_args(settings);
    args.extend(["serve", "--port", "0"].map(Into::into));
    args.extend(flags.iter().map(Into::into));
    args.push("--seed".into());
    args.push(settings.seed.clone().unwrap().into());
    start(&args, env).unwrap_or_else(|r| panic!("refused ({}):\n{}", r.status, r.stderr))
}

/// A running `localidp`, killed when dropped; its stderr collected line by line.
pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
    pub stdout: Vec<String>,
    stderr: Arc<Log>,
}

/// Stderr lines as they come; waiters are woken by each new line.
#[derive(Default)]
pub struct Log {
    lines: Mutex<Vec<String>>,
    added: Condvar,
}

impl Log {
    fn push(&self, line: String) {
        self.lines.lock().unwrap().push(line);
        self.added.notify_all();
    }

    /// The first line (so far, or to come within `within`) that `wanted` takes.
    pub fn wait_for<T>(
        &self,
        within: Duration,
        mut wanted: impl FnMut(&str) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + within;
        let mut lines = self.lines.lock().unwrap();
        let mut seen = 0;
        loop {
            if let Some(found) = lines[seen..].iter().find_map(|l| wanted(l)) {
                return Some(found);
            }
            seen = lines.len();
            let left = deadline.checked_duration_since(Instant::now())?;
            lines = self.added.wait_timeout(lines, left).unwrap().0;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a `localidp` run that was expected to refuse to start ended.
pub struct Refused {
    pub status: ExitStatus,
    pub stderr: String,
}

/// `localidp ARGS` with these environment variables (LOCALIDP_* and RUST_LOG of the
/// test's own environment removed), until it prints where it listens.
pub fn start(args: &[OsString], env: &[(&str, &str)]) -> Result<ServerProcess, Refused> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_localidp"));
    for (k, _) in std::env::vars() {
        if k.starts_with("LOCALIDP_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd
        .args(args)
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start localidp");
    let stderr = Arc::new(Log::default());
    let pipe = child.stderr.take().unwrap();
    let lines = stderr.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            lines.push(line);
        }
    });
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = Vec::new();
    let first = out.next().and_then(Result::ok);
    let Some(first) = first else {
        let status = child.wait().unwrap();
        // The stderr thread ends when the exited process's pipe closes: all lines read.
        let _ = reader.join();
        let stderr = stderr.lines.lock().unwrap().join("\n");
        return Err(Refused { status, stderr });
    };
    stdout.push(first.clone());
    // Keep reading: a closed pipe would fail the banner's next line.
    std::thread::spawn(move || out.map_while(Result::ok).for_each(drop));
    let port = first
        .split("listening on http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {first:?}"));
    Ok(ServerProcess {
        child,
        port,
        stdout,
        stderr,
    })
}

impl ServerProcess {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The stderr lines so far.
    pub fn log(&self) -> Vec<String> {
        self.stderr.lines.lock().unwrap().clone()
    }

    /// Waits (off the async test's thread) for a stderr line containing `needle`,
    /// woken by each line the server writes; panics with the log after `within`.
    pub async fn until_logged(&self, needle: &str, within: Duration) {
        let (log, wanted) = (self.stderr.clone(), needle.to_owned());
        let found = tokio::task::spawn_blocking(move || {
            log.wait_for(within, |l| l.contains(&wanted).then_some(()))
        })
        .await
        .unwrap();
        if found.is_none() {
            panic!(
                "no line with {needle:?} within {within:?}:\n{}",
                self.log().join("\n")
            );
        }
    }

    /// The log, to wait on from a blocking context ([`Log::wait_for`]).
    pub fn log_watch(&self) -> Arc<Log> {
        self.stderr.clone()
    }

    /// Sends a signal by name (`TERM`, `INT`) to the process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Its exit status, and how long after the call it came; `None` if it is still
    /// running after `within`.
    pub fn wait_exit(&mut self, within: Duration) -> Option<(ExitStatus, Duration)> {
        let start = Instant::now();
        while start.elapsed() < within {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some((status, start.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

/// One HTTP/1.1 request on an open keep-alive connection; the answer's head and body,
/// or what little came before the connection closed.
pub fn ask(tcp: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localidp\r\n\r\n");
    if tcp.write_all(request.as_bytes()).is_err() {
        return String::new();
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    // Enough for a small JSON answer: read until the body's length has arrived.
    while let Ok(n @ 1..) = tcp.read(&mut buf) {
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|v| v.trim().parse::<usize>().ok());
            if length.is_some_and(|n| body.len() >= n) {
                break;
            }
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

//! Start-up time for `bench/run.sh`: runs a server command, polls a URL until it
//! answers 200, and reports the time from exec to that first 200. Repeats the start
//! `--runs` times (stopping the server with SIGTERM between runs) and prints the
//! median. std only, so it measures the same way for localidp and the Node peers.
//!
//! cargo run --release --example startup_time -- --url http://127.0.0.1:PORT/healthz
//!     [--runs N] [--timeout-ms MS] [--log FILE] -- COMMAND [ARGS...]
//!
//! Prints `run 1: 12.3 ms` per run, then `startup_ms median=12.3 min=11.0 max=15.2 runs=N`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

#[path = "support/loopback_url.rs"]
mod loopback_url;
use loopback_url::parse_url;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Options {
    host: String,
    addr: SocketAddr,
    path: String,
    runs: usize,
    timeout: Duration,
    log: Option<String>,
    command: Vec<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut url = None;
    let mut runs = 1;
    let mut timeout_ms = 30_000u64;
    let mut log = None;
    let mut args = std::env::args().skip(1);
    let mut command = Vec::new();
    while let Some(flag) = args.next() {
        if flag == "--" {
            command.extend(args.by_ref());
            break;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => url = Some(value),
            "--runs" => runs = value.parse().map_err(|e| format!("--runs: {e}"))?,
            "--timeout-ms" => {
                timeout_ms = value.parse().map_err(|e| format!("--timeout-ms: {e}"))?
            }
            "--log" => log = Some(value),
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    let url = url.ok_or("--url is required")?;
    if command.is_empty() {
        return Err("give the server command after --".into());
    }
    if runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    let (host, addr, path) = parse_url(&url)?;
    Ok(Options {
        host,
        addr,
        path,
        runs,
        timeout: Duration::from_millis(timeout_ms),
        log,
        command,
    })
}

/// One GET; `Some(status)` when a status line came back.
fn probe(o: &Options) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&o.addr, Duration::from_millis(200)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.set_nodelay(true).ok()?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        o.path, o.host
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut head = [0u8; 64];
    let mut n = 0;
    while n < 12 {
        match stream.read(&mut head[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    let line = std::str::from_utf8(&head[..n]).ok()?;
    line.strip_prefix("HTTP/1.")?.get(2..5)?.parse().ok()
}

fn spawn(o: &Options) -> Result<Child, String> {
    let (stdout, stderr) = match &o.log {
        Some(path) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("{path}: {e}"))?;
            let g = f.try_clone().map_err(|e| e.to_string())?;
            (Stdio::from(f), Stdio::from(g))
        }
        None => (Stdio::null(), Stdio::null()),
    };
    Command::new(&o.command[0])
        .args(&o.command[1..])
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("{}: {e}", o.command[0]))
}

/// SIGTERM, then SIGKILL if the process has not exited within 10 s.
fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn main() {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("startup_time: {e}");
            std::process::exit(2);
        }
    };
    if probe(&o).is_some() {
        eprintln!("startup_time: something already answers on {}", o.addr);
        std::process::exit(1);
    }
    let mut times = Vec::with_capacity(o.runs);
    for run in 1..=o.runs {
        let start = Instant::now();
        let mut child = match spawn(&o) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("startup_time: {e}");
                std::process::exit(1);
            }
        };
        let elapsed = loop {
            if probe(&o) == Some(200) {
                break start.elapsed();
            }
            if let Ok(Some(status)) = child.try_wait() {
                eprintln!(
                    "startup_time: run {run}: the server exited with {status} before answering"
                );
                std::process::exit(1);
            }
            if start.elapsed() > o.timeout {
                stop(&mut child);
                eprintln!("startup_time: run {run}: no 200 within {:?}", o.timeout);
                std::process::exit(1);
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        stop(&mut child);
        let ms = elapsed.as_secs_f64() * 1000.0;
        println!("run {run}: {ms:.1} ms");
        times.push(ms);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let median = if times.len() % 2 == 1 {
        times[times.len() / 2]
    } else {
        (times[times.len() / 2 - 1] + times[times.len() / 2]) / 2.0
    };
    println!(
        "startup_ms median={median:.1} min={:.1} max={:.1} runs={}",
        times[0],
        times[times.len() - 1],
        times.len()
    );
}

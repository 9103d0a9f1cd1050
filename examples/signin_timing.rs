//! Failed sign-in timing for `bench/signin_timing.sh`: do an unknown email, a wrong
//! password on an argon2id account, on an imported bcrypt account, on an imported
//! argon2 account of older parameters, and any password on a locked account all take
//! the same time?
//!
//! cargo run --release --example signin_timing -- seed --out seed.toml --accounts N
//!     [--bcrypt-cost 12]
//!   writes a seed file: a tenant whose default client allows the password grant, N
//!   accounts of each kind (`argon2id<i>@`, `bcrypt<i>@`, `argon2old<i>@timing.test`,
//!   one hash of each kind shared by its accounts), `locked@` and `ok@timing.test`.
//!
//! cargo run --release --example signin_timing -- measure --url http://127.0.0.1:PORT
//!     --tries N --accounts N --threshold T [--warmup W]
//!   locks `locked@`, then POSTs /auth/login one request at a time (keep-alive), rows
//!   interleaved in a shuffled order each round, and prints for each row the median,
//!   p10 and p90 in ms and the median's ratio to the unknown-email row's, also as
//!   `TIMING_RESULT row=... median_ms=... ratio=...` lines. Each wrong password goes to
//!   the next account of its kind, so no measured account reaches the lockout
//!   threshold; every answer is checked (401 with the expected description).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use secrecy::SecretString;

const PASSWORD: &str = "timing-password-1";
const DOMAIN: &str = "timing.test";
/// PHP's PASSWORD_ARGON2ID defaults (memory_cost 65536 KiB, time_cost 4, threads 1):
/// what an imported argon2 hash of other parameters often looks like.
const OLD_ARGON2: (u32, u32) = (65_536, 4);

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("signin_timing: {msg}");
    std::process::exit(2)
}

fn flags(args: &[String]) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let Some(name) = flag.strip_prefix("--") else {
            fail(format!("unexpected argument {flag}"))
        };
        let value = it
            .next()
            .unwrap_or_else(|| fail(format!("{flag} needs a value")));
        out.insert(name.to_owned(), value.clone());
    }
    out
}

fn number(f: &std::collections::HashMap<String, String>, name: &str, default: Option<u64>) -> u64 {
    match (f.get(name), default) {
        (Some(v), _) => v
            .parse()
            .unwrap_or_else(|e| fail(format!("--{name} {v}: {e}"))),
        (None, Some(d)) => d,
        (None, None) => fail(format!("--{name} is required")),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("seed") => seed(&flags(&args[1..])),
        Some("measure") => measure(&flags(&args[1..])),
        _ => fail("usage: signin_timing (seed | measure) --flags (see the source)"),
    }
}

fn argon2_hash(memory_kib: u32, iterations: u32) -> String {
    localidp::crypto::password::PasswordHasher::new(memory_kib, iterations, 1, 1)
        .and_then(|h| h.hash_blocking(&SecretString::from(PASSWORD)))
        .unwrap_or_else(|e| fail(e))
}

fn seed(f: &std::collections::HashMap<String, String>) {
    let out = f.get("out").unwrap_or_else(|| fail("--out is required"));
    let accounts = number(f, "accounts", None);
    let cost = number(f, "bcrypt-cost", Some(12)) as u32;
    use localidp::crypto::password::{DEFAULT_ITERATIONS, DEFAULT_MEMORY_KIB};
    let kinds = [
        (
            "argon2id",
            argon2_hash(DEFAULT_MEMORY_KIB, DEFAULT_ITERATIONS),
        ),
        (
            "bcrypt",
            bcrypt::hash(PASSWORD, cost).unwrap_or_else(|e| fail(e)),
        ),
        ("argon2old", argon2_hash(OLD_ARGON2.0, OLD_ARGON2.1)),
    ];
    let mut toml = String::from(
        "[[tenants]]\nname = \"timing.onmicrosoft.com\"\ndefault_client = \"timing-client\"\n\n\
         [[clients]]\nclient_id = \"timing-client\"\npublic = true\ngrant_types = [\"password\"]\n",
    );
    let mut user = |email: String, hash: &str| {
        toml.push_str(&format!(
            "\n[[users]]\nemail = \"{email}\"\npassword_hash = \"{hash}\"\n"
        ));
    };
    for (kind, hash) in &kinds {
        for i in 0..accounts {
            user(format!("{kind}{i}@{DOMAIN}"), hash);
        }
    }
    user(format!("locked@{DOMAIN}"), &kinds[0].1);
    user(format!("ok@{DOMAIN}"), &kinds[0].1);
    std::fs::write(out, toml).unwrap_or_else(|e| fail(format!("{out}: {e}")));
}

/// One keep-alive HTTP/1.1 connection to the server.
struct Connection {
    addr: String,
    stream: Option<BufReader<TcpStream>>,
}

impl Connection {
    /// POSTs /auth/login; the status and body.
    fn login(&mut self, email: &str, password: &str) -> (u16, String) {
        let body = format!(r#"{{"email":"{email}","password":"{password}"}}"#);
        let request = format!(
            "POST /auth/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        for _ in 0..2 {
            if self.stream.is_none() {
                let s = TcpStream::connect(&self.addr).unwrap_or_else(|e| fail(e));
                s.set_nodelay(true).ok();
                self.stream = Some(BufReader::new(s));
            }
            let stream = self.stream.as_mut().unwrap();
            if stream.get_mut().write_all(request.as_bytes()).is_ok()
                && let Some(answer) = read_response(stream)
            {
                return answer;
            }
            self.stream = None;
        }
        fail("the server stopped answering")
    }
}

fn read_response(stream: &mut BufReader<TcpStream>) -> Option<(u16, String)> {
    let mut line = String::new();
    stream.read_line(&mut line).ok()?;
    let status: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
    let mut length = 0;
    loop {
        line.clear();
        stream.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).ok()?;
    Some((status, String::from_utf8_lossy(&body).into_owned()))
}

/// What a row asks and what it must be answered.
struct Row {
    name: &'static str,
    /// (email, password) of the n-th try.
    request: Box<dyn Fn(u64) -> (String, String)>,
    /// The status and a piece of the body every answer must have.
    expect: (u16, &'static str),
    /// Compared with the unknown-email row.
    judged: bool,
    times: Vec<Duration>,
}

const INCORRECT: &str = "The username or password is incorrect.";
const LOCKED: &str = "The account is locked";

fn measure(f: &std::collections::HashMap<String, String>) {
    let url = f.get("url").unwrap_or_else(|| fail("--url is required"));
    let addr = url
        .strip_prefix("http://")
        .unwrap_or_else(|| fail("--url must be http://HOST:PORT"))
        .trim_end_matches('/')
        .to_owned();
    let tries = number(f, "tries", None);
    let accounts = number(f, "accounts", None);
    let threshold = number(f, "threshold", None);
    let warmup = number(f, "warmup", Some(5));
    if (tries + warmup).div_ceil(accounts) >= threshold {
        fail("too few accounts: a measured account would be locked");
    }
    let mut conn = Connection { addr, stream: None };

    // Lock the locked row's account: `threshold` wrong passwords in a row.
    let mut locked = false;
    for _ in 0..threshold + 2 {
        let (_, body) = conn.login(&format!("locked@{DOMAIN}"), "wrong-password");
        if body.contains(LOCKED) {
            locked = true;
            break;
        }
    }
    if !locked {
        fail("locked@ is not locked after the threshold of wrong passwords");
    }

    let wrong = |kind: &'static str| -> Box<dyn Fn(u64) -> (String, String)> {
        Box::new(move |n| {
            (
                format!("{kind}{}@{DOMAIN}", n % accounts),
                "wrong-password".to_owned(),
            )
        })
    };
    let row = |name, request, expect, judged| Row {
        name,
        request,
        expect,
        judged,
        times: Vec::new(),
    };
    let mut rows = vec![
        row(
            "unknown_email",
            Box::new(|n| (format!("nobody{n}@{DOMAIN}"), "wrong-password".to_owned())),
            (401, INCORRECT),
            false,
        ),
        row("wrong_argon2id", wrong("argon2id"), (401, INCORRECT), true),
        row("wrong_bcrypt", wrong("bcrypt"), (401, INCORRECT), true),
        row(
            "wrong_argon2_old",
            wrong("argon2old"),
            (401, INCORRECT),
            true,
        ),
        // Right and wrong passwords alternately: both must get the locked answer.
        row(
            "locked",
            Box::new(|n| {
                let pw = if n % 2 == 0 {
                    PASSWORD
                } else {
                    "wrong-password"
                };
                (format!("locked@{DOMAIN}"), pw.to_owned())
            }),
            (401, LOCKED),
            true,
        ),
        // For information: a successful sign-in is not padded.
        row(
            "success_argon2id",
            Box::new(|_| (format!("ok@{DOMAIN}"), PASSWORD.to_owned())),
            (200, "access_token"),
            false,
        ),
    ];
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..warmup + tries {
        // A fresh order each round (xorshift), so no row always follows another.
        for i in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        for &r in &order {
            let row = &mut rows[r];
            let (email, password) = (row.request)(round);
            let started = Instant::now();
            let (status, body) = conn.login(&email, &password);
            let took = started.elapsed();
            if status != row.expect.0 || !body.contains(row.expect.1) {
                fail(format!(
                    "{}: {email} got {status} {body}, expected {} with {:?}",
                    row.name, row.expect.0, row.expect.1
                ));
            }
            if round >= warmup {
                row.times.push(took);
            }
        }
    }

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let quantile = |times: &mut Vec<Duration>, q: f64| {
        times.sort();
        ms(times[((times.len() - 1) as f64 * q).round() as usize])
    };
    let reference = quantile(&mut rows[0].times, 0.5);
    println!("row                median_ms  p10_ms  p90_ms  ratio_to_unknown  tries");
    for row in &mut rows {
        let median = quantile(&mut row.times, 0.5);
        let p10 = quantile(&mut row.times, 0.1);
        let p90 = quantile(&mut row.times, 0.9);
        let ratio = median / reference;
        println!(
            "{:<18} {median:>9.1}  {p10:>6.1}  {p90:>6.1}  {ratio:>16.3}  {}",
            row.name,
            row.times.len()
        );
        println!(
            "TIMING_RESULT row={} median_ms={median:.2} p10_ms={p10:.2} p90_ms={p90:.2} ratio={ratio:.3} judged={} tries={}",
            row.name,
            row.judged,
            row.times.len()
        );
    }
}

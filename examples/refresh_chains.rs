//! Drives the refresh-token grant for `bench/run.sh`: each of C chains signs in once
//! (password grant, `offline_access`), then redeems its refresh token and the successor
//! of each answer, one request at a time on its own keep-alive connection, for S
//! seconds. With `--grant client_credentials` the same client sends client-credentials
//! requests instead: the reference measured by the same code in the same run.
//! std only, like `mint_tokens`.
//!
//! cargo run --release --example refresh_chains -- --url http://127.0.0.1:PORT/auth/token
//!     --client-id ID --client-secret SECRET [--username U --password P]
//!     [--grant refresh_token|client_credentials] [--chains C] [--seconds S] [--scope SCOPE]
//!
//! The scope is `openid offline_access` for the refresh chains (as MSAL asks: an ID token
//! comes with each answer) and `{client id}/.default` for client credentials.
//!
//! Prints `REFRESH_RESULT grant=G chains=C requests=N seconds=S rps=R errors=E`; an error
//! (any answer but 200, or a missing token) ends its chain and is counted.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

#[path = "support/loopback_url.rs"]
mod loopback_url;
use loopback_url::parse_url;

struct Options {
    host: String,
    addr: SocketAddr,
    path: String,
    client_id: String,
    secret: String,
    username: String,
    password: String,
    scope: String,
    grant: String,
    chains: usize,
    seconds: f64,
}

fn parse_args() -> Result<Options, String> {
    let mut url = None;
    let mut o = Options {
        host: String::new(),
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        path: String::new(),
        client_id: String::new(),
        secret: String::new(),
        username: String::new(),
        password: String::new(),
        scope: String::new(),
        grant: "refresh_token".into(),
        chains: 16,
        seconds: 10.0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => url = Some(value),
            "--client-id" => o.client_id = value,
            "--client-secret" => o.secret = value,
            "--username" => o.username = value,
            "--password" => o.password = value,
            "--scope" => o.scope = value,
            "--grant" => o.grant = value,
            "--chains" => o.chains = value.parse().map_err(|e| format!("{flag}: {e}"))?,
            "--seconds" => o.seconds = value.parse().map_err(|e| format!("{flag}: {e}"))?,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    if !matches!(o.grant.as_str(), "refresh_token" | "client_credentials") {
        return Err(format!(
            "--grant {}: refresh_token or client_credentials",
            o.grant
        ));
    }
    if o.client_id.is_empty() || o.secret.is_empty() {
        return Err("--client-id and --client-secret are required".into());
    }
    if o.grant == "refresh_token" && (o.username.is_empty() || o.password.is_empty()) {
        return Err("--username and --password are required for refresh_token".into());
    }
    (o.host, o.addr, o.path) = parse_url(&url.ok_or("--url is required")?)?;
    o.chains = o.chains.max(1);
    if o.scope.is_empty() {
        o.scope = match o.grant.as_str() {
            "refresh_token" => "openid offline_access".into(),
            _ => format!("{}/.default", o.client_id),
        };
    }
    Ok(o)
}

/// application/x-www-form-urlencoded value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

struct Connection {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Connection {
    fn open(addr: SocketAddr) -> Result<Self, String> {
        let stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
        Ok(Connection { stream, reader })
    }

    /// One POST; the status line's code and the body.
    fn post(&mut self, o: &Options, body: &str) -> Result<(u16, String), String> {
        // One write per request: several small ones would wait on Nagle and delayed ACKs.
        let request = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{}",
            o.path,
            o.host,
            body.len(),
            body
        );
        self.stream
            .write_all(request.as_bytes())
            .map_err(|e| e.to_string())?;
        let mut status = String::new();
        self.reader
            .read_line(&mut status)
            .map_err(|e| e.to_string())?;
        let code = status
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| format!("bad status line {status:?}"))?;
        let mut length = None;
        loop {
            let mut line = String::new();
            self.reader
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.ok_or("no Content-Length")?];
        self.reader
            .read_exact(&mut body)
            .map_err(|e| e.to_string())?;
        Ok((code, String::from_utf8_lossy(&body).into_owned()))
    }
}

/// A string field of a JSON token response (tokens carry no escapes).
fn field<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("\"{name}\":\"");
    let start = body.find(&key)? + key.len();
    let len = body[start..].find('"')?;
    Some(&body[start..start + len])
}

struct ChainResult {
    requests: u64,
    errors: u64,
    last: Option<Instant>,
    error: Option<String>,
}

fn chain(o: &Options, start: Instant, end: Instant) -> ChainResult {
    let mut result = ChainResult {
        requests: 0,
        errors: 0,
        last: None,
        error: None,
    };
    let fail = |result: &mut ChainResult, e: String| {
        result.errors += 1;
        result.error.get_or_insert(e);
    };
    let mut conn = match Connection::open(o.addr) {
        Ok(c) => c,
        Err(e) => {
            fail(&mut result, e);
            return result;
        }
    };
    let base = format!(
        "client_id={}&client_secret={}&scope={}",
        encode(&o.client_id),
        encode(&o.secret),
        encode(&o.scope)
    );
    let mut refresh = None;
    if o.grant == "refresh_token" {
        let body = format!(
            "grant_type=password&{base}&username={}&password={}",
            encode(&o.username),
            encode(&o.password)
        );
        match conn.post(o, &body) {
            Ok((200, answer)) => match field(&answer, "refresh_token") {
                Some(t) => refresh = Some(t.to_owned()),
                None => fail(&mut result, format!("no refresh_token in {answer}")),
            },
            Ok((code, answer)) => fail(&mut result, format!("sign-in {code}: {answer}")),
            Err(e) => fail(&mut result, e),
        }
        if refresh.is_none() {
            return result;
        }
    }
    // Every chain starts at the same instant, after all have signed in.
    if let Some(wait) = start.checked_duration_since(Instant::now()) {
        std::thread::sleep(wait);
    }
    while Instant::now() < end {
        let body = match &refresh {
            Some(t) => format!(
                "grant_type=refresh_token&{base}&refresh_token={}",
                encode(t)
            ),
            None => format!("grant_type=client_credentials&{base}"),
        };
        match conn.post(o, &body) {
            Ok((200, answer)) => {
                result.requests += 1;
                result.last = Some(Instant::now());
                if refresh.is_some() {
                    match field(&answer, "refresh_token") {
                        Some(t) => refresh = Some(t.to_owned()),
                        None => {
                            fail(&mut result, format!("no refresh_token in {answer}"));
                            return result;
                        }
                    }
                }
            }
            Ok((code, answer)) => {
                fail(&mut result, format!("{code}: {answer}"));
                return result;
            }
            Err(e) => {
                fail(&mut result, e);
                return result;
            }
        }
    }
    result
}

fn main() {
    let o = parse_args().unwrap_or_else(|e| {
        eprintln!("refresh_chains: {e}");
        std::process::exit(2)
    });
    // Sign-ins (argon2, tens of ms each) happen before the timed part.
    let sign_in_allowance = if o.grant == "refresh_token" {
        Duration::from_millis(200 + 100 * o.chains as u64)
    } else {
        Duration::from_millis(50)
    };
    let start = Instant::now() + sign_in_allowance;
    let end = start + Duration::from_secs_f64(o.seconds);
    let results: Vec<ChainResult> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..o.chains)
            .map(|_| {
                let o = &o;
                s.spawn(move || chain(o, start, end))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or(ChainResult {
                    requests: 0,
                    errors: 1,
                    last: None,
                    error: Some("thread panicked".into()),
                })
            })
            .collect()
    });
    let requests: u64 = results.iter().map(|r| r.requests).sum();
    let errors: u64 = results.iter().map(|r| r.errors).sum();
    let last = results.iter().filter_map(|r| r.last).max().unwrap_or(start);
    let seconds = last
        .saturating_duration_since(start)
        .as_secs_f64()
        .max(1e-9);
    if let Some(e) = results.iter().find_map(|r| r.error.as_deref()) {
        eprintln!("refresh_chains: first error: {e}");
    }
    println!(
        "REFRESH_RESULT grant={} chains={} requests={requests} seconds={seconds:.3} rps={:.1} errors={errors}",
        o.grant,
        o.chains,
        requests as f64 / seconds
    );
}

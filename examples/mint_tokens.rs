//! Mints many distinct access tokens for `bench/run.sh` (the row that verifies 10,000
//! distinct tokens): client-credentials requests over a few keep-alive connections,
//! one token per line to a file. std only, like `startup_time`.
//!
//! cargo run --release --example mint_tokens -- --url http://127.0.0.1:PORT/auth/token
//!     --client-id ID --client-secret SECRET --count N --out FILE [--connections C]
//!
//! Prints `minted N tokens in S s (R/s)`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};

#[path = "support/loopback_url.rs"]
mod loopback_url;
use loopback_url::parse_url;
use std::time::Instant;

struct Options {
    host: String,
    addr: SocketAddr,
    path: String,
    body: String,
    count: usize,
    out: String,
    connections: usize,
}

fn parse_args() -> Result<Options, String> {
    let (mut url, mut client_id, mut secret, mut out) = (None, None, None, None);
    let mut count = 0usize;
    let mut connections = 8usize;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<usize>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--url" => url = Some(value),
            "--client-id" => client_id = Some(value),
            "--client-secret" => secret = Some(value),
            "--out" => out = Some(value),
            "--count" => count = number(&value)?,
            "--connections" => connections = number(&value)?.max(1),
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    let (host, addr, path) = parse_url(&url.ok_or("--url is required")?)?;
    let client_id = client_id.ok_or("--client-id is required")?;
    let secret = secret.ok_or("--client-secret is required")?;
    // The bench's ids and secrets are URL-safe: they are not encoded here.
    let body =
        format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}");
    Ok(Options {
        host,
        addr,
        path,
        body,
        count,
        out: out.ok_or("--out is required")?,
        connections,
    })
}

/// One POST on a keep-alive connection; the response body.
fn post(
    reader: &mut BufReader<TcpStream>,
    stream: &mut TcpStream,
    o: &Options,
) -> Result<String, String> {
    // One write per request: several small ones would wait on Nagle and delayed ACKs.
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{}",
        o.path,
        o.host,
        o.body.len(),
        o.body
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut status = String::new();
    reader.read_line(&mut status).map_err(|e| e.to_string())?;
    if !status.starts_with("HTTP/1.1 200") {
        return Err(format!("answer: {}", status.trim()));
    }
    let mut length = None;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
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
    reader.read_exact(&mut body).map_err(|e| e.to_string())?;
    String::from_utf8(body).map_err(|e| e.to_string())
}

/// The `access_token` of a JSON token response (a JWT: no escapes inside).
fn access_token(body: &str) -> Option<&str> {
    let start = body.find("\"access_token\":\"")? + "\"access_token\":\"".len();
    let len = body[start..].find('"')?;
    Some(&body[start..start + len])
}

fn mint(o: &Options, n: usize) -> Result<Vec<String>, String> {
    let mut stream = TcpStream::connect(o.addr).map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let mut tokens = Vec::with_capacity(n);
    for _ in 0..n {
        let body = post(&mut reader, &mut stream, o)?;
        let token = access_token(&body).ok_or_else(|| format!("no access_token in {body}"))?;
        tokens.push(token.to_owned());
    }
    Ok(tokens)
}

fn main() {
    let o = parse_args().unwrap_or_else(|e| {
        eprintln!("mint_tokens: {e}");
        std::process::exit(2)
    });
    let started = Instant::now();
    let per = o.count.div_ceil(o.connections);
    let results: Vec<Result<Vec<String>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..o.connections)
            .map(|i| {
                let n = per.min(o.count.saturating_sub(i * per));
                let o = &o;
                s.spawn(move || mint(o, n))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into())))
            .collect()
    });
    let mut file = std::io::BufWriter::new(std::fs::File::create(&o.out).unwrap_or_else(|e| {
        eprintln!("mint_tokens: {}: {e}", o.out);
        std::process::exit(1)
    }));
    let mut minted = 0;
    for result in results {
        match result {
            Ok(tokens) => {
                for t in tokens {
                    writeln!(file, "{t}").expect("write");
                    minted += 1;
                }
            }
            Err(e) => {
                eprintln!("mint_tokens: {e}");
                std::process::exit(1);
            }
        }
    }
    file.flush().expect("write");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "minted {minted} tokens in {secs:.2} s ({:.0}/s)",
        minted as f64 / secs
    );
}

//! Writes users for `localidp user import` (JSON Lines) for `bench/run.sh`: one
//! bcrypt hash (cost 4) is computed once and reused for every row, so a million
//! rows take a second to write.
//!
//! cargo run --release --example bench_users -- --out FILE --count N [--start I]
//!     [--domain bench.test]
//!
//! Rows are `{"email":"user<I>@<domain>","password_hash":"$2b$04$...","name":"Bench User <I>"}`
//! for I = start .. start+count-1.

use std::io::{BufWriter, Write};

fn main() {
    let mut out = None;
    let mut count: u64 = 0;
    let mut start: u64 = 0;
    let mut domain = String::from("bench.test");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            eprintln!("bench_users: {flag} needs a value");
            std::process::exit(2);
        };
        let number = |v: &str| {
            v.parse::<u64>().unwrap_or_else(|e| {
                eprintln!("bench_users: {flag} {v}: {e}");
                std::process::exit(2)
            })
        };
        match flag.as_str() {
            "--out" => out = Some(value),
            "--count" => count = number(&value),
            "--start" => start = number(&value),
            "--domain" => domain = value,
            _ => {
                eprintln!("bench_users: unknown argument {flag}");
                std::process::exit(2);
            }
        }
    }
    let Some(out) = out else {
        eprintln!("bench_users: --out is required");
        std::process::exit(2);
    };
    let hash = bcrypt::hash("imported-password", 4).expect("bcrypt hash");
    let file = std::fs::File::create(&out).unwrap_or_else(|e| {
        eprintln!("bench_users: {out}: {e}");
        std::process::exit(1)
    });
    let mut w = BufWriter::with_capacity(1 << 20, file);
    for i in start..start + count {
        writeln!(
            w,
            r#"{{"email":"user{i}@{domain}","password_hash":"{hash}","name":"Bench User {i}"}}"#
        )
        .expect("write");
    }
    w.flush().expect("flush");
}

//! Raw argon2id throughput of this machine, the reference for the password sign-in
//! rows of `bench/run.sh`: N threads (default: all CPUs) each hash a password for a
//! fixed time with the server's default parameters, and the total rate is printed.
//!
//! cargo run --release --example argon2_rate -- [--seconds S] [--threads N]
//!     [--memory-kib M] [--iterations T] [--reuse-memory]
//!
//! By default each hash allocates its memory, as `PasswordVerifier::verify_password`
//! (the server's path) does; `--reuse-memory` keeps one buffer per thread instead,
//! which shows what the allocation and page faults cost.
//!
//! Prints one line, e.g.
//! `argon2id m=19456 t=2 p=1 threads=2 memory=per-hash hashes=123 seconds=5.00 hashes/s=24.6`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, Version};

struct Options {
    seconds: f64,
    threads: usize,
    memory_kib: u32,
    iterations: u32,
    reuse_memory: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        seconds: 5.0,
        threads: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        memory_kib: 19_456,
        iterations: 2,
        reuse_memory: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--reuse-memory" {
            o.reuse_memory = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--seconds" => o.seconds = value.parse().map_err(|e| bad(&e))?,
            "--threads" => o.threads = value.parse().map_err(|e| bad(&e))?,
            "--memory-kib" => o.memory_kib = value.parse().map_err(|e| bad(&e))?,
            "--iterations" => o.iterations = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    if o.threads == 0 || o.seconds <= 0.0 {
        return Err("--threads and --seconds must be positive".into());
    }
    Ok(o)
}

fn main() {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("argon2_rate: {e}");
            std::process::exit(2);
        }
    };
    // The same parameters as the server: argon2id v0x13, 1 lane, 32-byte output.
    let params = match Params::new(o.memory_kib, o.iterations, 1, None) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("argon2_rate: invalid parameters: {e}");
            std::process::exit(2);
        }
    };
    let duration = Duration::from_secs_f64(o.seconds);
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let workers: Vec<_> = (0..o.threads)
        .map(|i| {
            let params = params.clone();
            let stop = stop.clone();
            let reuse_memory = o.reuse_memory;
            std::thread::spawn(move || {
                let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                let blocks = if reuse_memory {
                    argon2.params().block_count()
                } else {
                    0
                };
                let mut memory = vec![argon2::Block::default(); blocks];
                let salt = [i as u8; 16];
                let mut out = [0u8; 32];
                let mut count: u64 = 0;
                let mut password = *b"bench-password-00000000";
                while !stop.load(Ordering::Relaxed) {
                    password[15..23]
                        .copy_from_slice(format!("{:08}", count % 100_000_000).as_bytes());
                    let result = if reuse_memory {
                        argon2.hash_password_into_with_memory(
                            &password,
                            &salt,
                            &mut out,
                            &mut memory,
                        )
                    } else {
                        argon2.hash_password_into(&password, &salt, &mut out)
                    };
                    result.expect("argon2 hashing");
                    count += 1;
                }
                (count, Instant::now())
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut hashes = 0;
    let mut end = start;
    for w in workers {
        let (count, finished) = w.join().expect("worker thread");
        hashes += count;
        end = end.max(finished);
    }
    // Hashes in flight at the stop signal finish before the clock stops, so the
    // elapsed time covers every hash counted.
    let elapsed = end.duration_since(start).as_secs_f64();
    println!(
        "argon2id m={} t={} p=1 threads={} memory={} hashes={} seconds={:.2} hashes/s={:.1}",
        o.memory_kib,
        o.iterations,
        o.threads,
        if o.reuse_memory { "reused" } else { "per-hash" },
        hashes,
        elapsed,
        hashes as f64 / elapsed
    );
}

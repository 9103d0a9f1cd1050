//! How the server's password hashing pattern behaves on this machine: like
//! `PasswordHasher`, N concurrent sign-ins share a semaphore of `--permits` slots and
//! hash on tokio's blocking pool. `--mode alloc` allocates the argon2 memory per hash
//! (what `verify_password` does); `--mode pool` hands each hash one of `--permits`
//! buffers allocated once. Prints hashes/s, minor page faults per hash and peak RSS.
//!
//! cargo run --release --example argon2_pool -- [--mode alloc|pool] [--seconds S]
//!     [--permits P] [--clients C]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

fn proc_stat_field(n: usize) -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; field 3 is the first of them.
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    rest.split_whitespace()
        .nth(n - 3)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let mut mode = String::from("alloc");
    let mut seconds = 5.0f64;
    let mut permits = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut clients = 4 * permits;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--mode" => mode = value,
            "--seconds" => seconds = value.parse().expect("--seconds takes a number"),
            "--permits" => permits = value.parse().expect("--permits takes a number"),
            "--clients" => clients = value.parse().expect("--clients takes a number"),
            _ => {
                eprintln!("argon2_pool: unknown argument {flag}");
                std::process::exit(2);
            }
        }
    }
    let pooled = match mode.as_str() {
        "alloc" => false,
        "pool" => true,
        _ => {
            eprintln!("argon2_pool: --mode is alloc or pool");
            std::process::exit(2);
        }
    };
    let params = Params::new(19_456, 2, 1, None).expect("argon2 parameters");
    let blocks = params.block_count();
    let pool: Arc<Mutex<Vec<Vec<Block>>>> = Arc::new(Mutex::new(if pooled {
        (0..permits)
            .map(|_| vec![Block::default(); blocks])
            .collect()
    } else {
        Vec::new()
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(permits)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let hashes = Arc::new(AtomicU64::new(0));
    let faults_before = proc_stat_field(10);
    let start = Instant::now();
    runtime.block_on(async {
        let semaphore = Arc::new(Semaphore::new(permits));
        let deadline = start + Duration::from_secs_f64(seconds);
        let tasks: Vec<_> = (0..clients)
            .map(|c| {
                let semaphore = semaphore.clone();
                let pool = pool.clone();
                let params = params.clone();
                let hashes = hashes.clone();
                tokio::spawn(async move {
                    let mut i: u64 = 0;
                    while Instant::now() < deadline {
                        let _permit = semaphore.acquire().await.expect("semaphore");
                        let pool = pool.clone();
                        let params = params.clone();
                        let password = format!("password-{c}-{i}");
                        tokio::task::spawn_blocking(move || {
                            let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                            let mut out = [0u8; 32];
                            let salt = [7u8; 16];
                            if pooled {
                                let mut buf = pool.lock().expect("pool").pop().expect("a buffer");
                                argon2
                                    .hash_password_into_with_memory(
                                        password.as_bytes(),
                                        &salt,
                                        &mut out,
                                        &mut buf,
                                    )
                                    .expect("argon2");
                                pool.lock().expect("pool").push(buf);
                            } else {
                                argon2
                                    .hash_password_into(password.as_bytes(), &salt, &mut out)
                                    .expect("argon2");
                            }
                        })
                        .await
                        .expect("blocking task");
                        hashes.fetch_add(1, Ordering::Relaxed);
                        i += 1;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("client task");
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    let n = hashes.load(Ordering::Relaxed);
    let faults = proc_stat_field(10) - faults_before;
    println!(
        "mode={mode} permits={permits} clients={clients} hashes={n} seconds={elapsed:.2} hashes/s={:.1} minor_faults/hash={:.0} VmHWM={:.1}MB",
        n as f64 / elapsed,
        faults as f64 / n.max(1) as f64,
        status_kib("VmHWM:") as f64 / 1024.0
    );
}

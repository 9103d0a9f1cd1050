//! The crate's only `unsafe` code: two libc calls, each behind a safe function.
#![allow(unsafe_code)]

/// Makes glibc serve allocations of at least `bytes` with mmap, so they go back to the
/// system when freed instead of staying in an arena. Does nothing off Linux/glibc.
pub fn set_mmap_threshold(bytes: i32) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator parameters; no memory is passed to it.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, bytes);
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = bytes;
}

/// Gives the calling thread the niceness `nice`, so the scheduler favours other threads.
/// Failure leaves the priority as it was. Does nothing off Linux.
pub fn lower_thread_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: plain syscalls on the calling thread's own id; no memory is passed to them.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, nice);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

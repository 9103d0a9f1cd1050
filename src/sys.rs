//! The crate's only `unsafe` code: three libc calls, each behind a safe function.
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

/// Takes an exclusive `flock` on `file`, waiting for other holders; it is released
/// when the file is closed. `flock` locks belong to the open file, so two opens in one
/// process exclude each other too. Does nothing off Unix.
pub fn lock_exclusive(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    loop {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a descriptor the borrowed File keeps open; no memory is passed.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(())
    }
}

//! The `gatelint` binary: a thin wrapper around [`gatelint::cli::run`].

use std::io::Write;

fn main() {
    grow_heaps_in_large_steps();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    gatelint::cli::exit_after_run();
    // One write for the whole report instead of one per line (stdout is line-buffered):
    // a large site's report has thousands of lines.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let code = gatelint::cli::run(args, &mut out, &mut stderr.lock());
    // A reader that went away (`gatelint check | head`) is not an error of the run.
    let _ = out.flush();
    std::process::exit(code);
}

/// glibc grows the heap of each thread other than the main one by the few pages each
/// allocation lacks, one `mprotect` call at a time: reading a large site on a second
/// thread made thousands of them. A top pad makes every growth (and the main heap's)
/// reserve 16 MiB of address space at once; pages still cost memory only when touched.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn grow_heaps_in_large_steps() {
    // SAFETY: `mallopt` only changes a tuning parameter of glibc's allocator; it is called
    // before any other thread exists, and M_TOP_PAD accepts any non-negative value.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn grow_heaps_in_large_steps() {}

//! The `gatelint` binary: a thin wrapper around [`gatelint::cli::run`].

use std::io::Write;

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `check` reads whole sites, thousands of files: its heaps are backed by huge pages.
    // The other commands keep small heaps (`parse` has a memory budget).
    if args.get(1).is_some_and(|a| a == "check") {
        gatelint::machine::use_huge_pages();
    } else {
        gatelint::machine::grow_heaps_in_large_steps();
    }
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

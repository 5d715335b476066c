//! The `gatelint` binary: a thin wrapper around [`gatelint::cli::run`].

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
    let code = gatelint::cli::run(args, &mut stdout.lock(), &mut stderr.lock());
    std::process::exit(code);
}

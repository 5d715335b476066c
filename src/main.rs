//! The `gatelint` binary: a thin wrapper around [`gatelint::cli::run`].

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    gatelint::cli::exit_after_run();
    let code = gatelint::cli::run(args, &mut stdout.lock(), &mut stderr.lock());
    std::process::exit(code);
}

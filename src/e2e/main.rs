//! End-to-end tests: the built `gatelint` binary run the way users run it, from a shell
//! in some folder: on copies of the trees in `testdata/stacks/` (every way of naming a
//! tree), on the real-world configuration sets of `testdata/realworld/`, and on the
//! README's examples.

mod hostile;
mod journeys;
mod layouts;
mod realworld;

use std::path::Path;
use std::process::Command;

/// The binary under test.
pub fn gatelint() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gatelint"))
}

/// Run the binary in `cwd` with `args`: its exit code, stdout and stderr (lossy).
pub fn run(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = gatelint()
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("run gatelint");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The repository's top folder.
pub fn top() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

//! `gatelint parse --kind nginx`.

use super::{ParseArgs, EXIT_FAILURE};
use std::io::Write;

/// Parse an nginx file and print its tree.
pub fn run(_args: &ParseArgs, _out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let _ = writeln!(err, "error: the nginx parser is not built yet");
    EXIT_FAILURE
}

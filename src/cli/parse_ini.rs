//! `gatelint parse --kind php-ini|fpm`.

use super::{KindArg, ParseArgs, EXIT_FAILURE};
use std::io::Write;

/// Parse a php.ini or FPM file and print its tree and evaluated values.
pub fn run(_args: &ParseArgs, _kind: KindArg, _out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let _ = writeln!(err, "error: the ini parser is not built yet");
    EXIT_FAILURE
}

//! The short format: one line per finding, as compilers print them.

use super::Report;
use std::io::{self, Write};

/// `path:line:col: severity[rule] message`, one per line, sorted by path and position.
pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for d in report.sorted() {
        let (start, _) = report.span(d.file, d.range);
        // A message is one line by contract; a newline in one would break line-based tools.
        let message = d.message.replace(['\r', '\n'], " ");
        let message = super::escape_controls(&message);
        writeln!(
            out,
            "{}:{}:{}: {}[{}] {}",
            report.shown_path(d.file),
            start.line,
            start.column,
            d.severity,
            d.rule,
            message
        )?;
    }
    Ok(())
}

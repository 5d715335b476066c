//! GitHub Actions workflow commands, which GitHub shows as annotations on the diff.
//!
//! Syntax and escaping: <https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands>
//! and the toolkit's `command.ts` (<https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts>).

use super::Report;
use crate::diagnostic::Severity;
use std::io::{self, Write};

/// One `::error`, `::warning` or `::notice` command per finding.
pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for d in report.sorted() {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let (start, end) = report.span(d.file, d.range);
        let mut props = vec![
            format!("file={}", escape_property(&report.shown_path(d.file))),
            format!("line={}", start.line),
        ];
        // Columns mean nothing to GitHub when a range spans lines (ruff drops them too).
        if start.line == end.line {
            props.push(format!("col={}", start.column));
        }
        props.push(format!("endLine={}", end.line));
        if start.line == end.line {
            props.push(format!("endColumn={}", end.column));
        }
        props.push(format!(
            "title={}",
            escape_property(&format!("gatelint ({})", d.rule))
        ));
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        if let Some(fix) = &d.fix {
            message.push_str(&format!(
                "\nfix ({}): {}",
                fix.applicability.as_str(),
                fix.message
            ));
        }
        writeln!(
            out,
            "::{command} {}::{}",
            props.join(","),
            escape_data(&super::escape_controls(&message))
        )?;
    }
    Ok(())
}

/// Escape a command's message: `%`, CR and LF.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value: as data, plus `:` and `,`, which end a property.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_actions_toolkit() {
        assert_eq!(
            escape_data("50% done\r\nnext: a,b"),
            "50%25 done%0D%0Anext: a,b"
        );
        assert_eq!(escape_property("C:\\a,b%\n"), "C%3A\\a%2Cb%25%0A");
    }
}

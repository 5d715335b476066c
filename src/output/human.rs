//! The human format: miette's graphical reports with source snippets, then a summary.

use super::{plural, Report, RunContext};
use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::source::{FileId, LineIndex, TextRange};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

/// One report for miette: a finding, or a related place in another file.
#[derive(Debug)]
struct Rendered {
    message: String,
    code: Option<String>,
    severity: miette::Severity,
    source: Snippet,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    related: Vec<Rendered>,
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

/// Print every diagnostic as a miette report, then the summary line.
pub(super) fn write(report: &Report, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::none()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .without_primary_span_start()
        .with_show_related_as_nested(true);
    let mut sources = Sources::default();
    for d in report.sorted() {
        let rendered = render(report, &mut sources, d);
        let mut text = String::new();
        handler
            .render_report(&mut text, &rendered)
            .map_err(|_| io::Error::other("could not format a diagnostic"))?;
        out.write_all(text.as_bytes())?;
        writeln!(out)?;
    }
    if let Some(line) = report.context.and_then(RunContext::describe) {
        writeln!(out, "{line}")?;
    }
    writeln!(out, "{}", summary_line(report))
}

/// The last line: counts of each severity and of fixes.
fn summary_line(report: &Report) -> String {
    let s = report.summary();
    let unread = report.context.map_or(0, |c| c.unread);
    if unread > 0 {
        return format!(
            "{}, {}, {} in {}; {} could not be read or checked (see above)",
            plural(s.errors, "error", "errors"),
            plural(s.warnings, "warning", "warnings"),
            plural(s.infos, "info", "infos"),
            plural(s.files, "file", "files"),
            plural(unread, "input", "inputs"),
        );
    }
    if s.errors + s.warnings + s.infos == 0 {
        return format!("no problems found in {}", plural(s.files, "file", "files"));
    }
    let mut line = format!(
        "{}, {}, {} in {}",
        plural(s.errors, "error", "errors"),
        plural(s.warnings, "warning", "warnings"),
        plural(s.infos, "info", "infos"),
        plural(s.files, "file", "files"),
    );
    line.push_str(&format!("; {} fixable with --fix", s.fixable_safe));
    let unsafe_only = s.fixable - s.fixable_safe;
    if unsafe_only > 0 {
        line.push_str(&format!(" ({unsafe_only} more with --unsafe-fixes)"));
    }
    line
}

/// A file's text as miette reads it, with its line index.
#[derive(Debug)]
struct Text {
    lossy: String,
    lines: LineIndex,
    /// Where characters a terminal acts on were written as escapes: for each, the offset
    /// in the file just past it and how many bytes longer `lossy` is from there on.
    shifts: Vec<(u32, u32)>,
}

impl Text {
    /// The text of a file as shown: [`same_length_lossy`], then escapes
    /// ([`super::escape_controls`]) for what a terminal would act on.
    fn new(bytes: &[u8]) -> Text {
        let plain = same_length_lossy(bytes);
        let mut shifts = Vec::new();
        let lossy = if plain.chars().any(shown_escaped) {
            let mut out = String::with_capacity(plain.len() + 16);
            for (i, c) in plain.char_indices() {
                if shown_escaped(c) {
                    super::push_escape(&mut out, c);
                    let after = (i + c.len_utf8()) as u32;
                    shifts.push((after, (out.len() - after as usize) as u32));
                } else {
                    out.push(c);
                }
            }
            out
        } else {
            plain
        };
        let lines = LineIndex::new(lossy.as_bytes());
        Text {
            lossy,
            lines,
            shifts,
        }
    }

    /// The offset in `lossy` of an offset in the file.
    fn shown(&self, offset: u32) -> u32 {
        let n = self.shifts.partition_point(|&(after, _)| after <= offset);
        offset + n.checked_sub(1).map_or(0, |i| self.shifts[i].1)
    }

    /// A range of the file as a miette span of `lossy`.
    fn span(&self, range: TextRange) -> SourceSpan {
        span(
            &self.lossy,
            TextRange::new(self.shown(range.start), self.shown(range.end)),
        )
    }
}

/// Whether the snippet shows `c` as an escape: what [`super::is_hidden`] says, but for
/// the CR of a CRLF (the only CR [`same_length_lossy`] leaves), which ends the line.
fn shown_escaped(c: char) -> bool {
    c != '\r' && super::is_hidden(c)
}

/// A file as the source of one report, named `path:line:column`.
///
/// miette's own `SourceCode` for strings scans the text from its start for every label,
/// which made a report of thousands of findings in one large file take minutes; this one
/// finds the lines around a span with the line index and lets miette read only those.
#[derive(Debug, Clone)]
struct Snippet {
    name: String,
    text: Arc<Text>,
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text = self.text.lossy.as_str();
        let lines = &self.text.lines;
        let start = span.offset().min(text.len());
        let mut end = (span.offset() + span.len()).clamp(start, text.len());
        let first = lines.line_of(start as u32);
        let last = lines.line_of(end.saturating_sub(1).max(start) as u32);
        let mut window_first = first.saturating_sub(context_lines_before);
        let window_last = (last + context_lines_after).min(lines.line_count() - 1);
        let mut window_start = lines.line_start(window_first) as usize;
        let mut window_end = if window_last + 1 < lines.line_count() {
            lines.line_start(window_last + 1) as usize
        } else {
            text.len()
        };
        // A line of thousands of bytes (a minified configuration) is shown as a piece
        // around the span: miette would print the whole line for every finding, and
        // cannot draw a label past its 65 535th column.
        if window_end - window_start > LONG_WINDOW {
            let floor = |mut i: usize| {
                while !text.is_char_boundary(i) {
                    i -= 1;
                }
                i
            };
            let line_end = if last + 1 < lines.line_count() {
                lines.line_start(last + 1) as usize
            } else {
                text.len()
            };
            window_first = first;
            window_start = floor(
                start
                    .saturating_sub(PIECE_AROUND)
                    .max(lines.line_start(first) as usize),
            );
            window_end = floor(
                (end.max(start) + PIECE_AROUND)
                    .min(start + 4 * PIECE_AROUND)
                    .min(line_end),
            );
            end = end.min(window_end).max(start);
        }
        let window = &text[window_start..window_end];
        let inner_span = SourceSpan::new((start - window_start).into(), end - start);
        let inner = window.read_span(&inner_span, context_lines_before, context_lines_after)?;
        let data: &'a [u8] = inner.data();
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            data,
            SourceSpan::new(
                (inner.span().offset() + window_start).into(),
                inner.span().len(),
            ),
            inner.line() + window_first,
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// The longest source window shown whole, in bytes; past it, a piece around the span.
const LONG_WINDOW: usize = 4096;

/// How many bytes of a long line are shown before (and after) a span.
const PIECE_AROUND: usize = 120;

/// The texts of the files as miette reads them, built once per file.
#[derive(Default)]
struct Sources {
    texts: HashMap<FileId, Arc<Text>>,
}

impl Sources {
    /// The source of `file`, named `path:line:column` after the start of `range`.
    ///
    /// miette counts columns in bytes; naming the source ourselves (and turning miette's
    /// own position off) keeps the columns equal to those of every other format.
    fn get(&mut self, report: &Report, file: FileId, range: TextRange) -> Snippet {
        let text = self
            .texts
            .entry(file)
            .or_insert_with(|| Arc::new(Text::new(&report.files.get(file).text)))
            .clone();
        let (start, _) = report.span(file, range);
        let name = format!(
            "{}:{}:{}",
            report.shown_path(file),
            start.line,
            start.column
        );
        Snippet { name, text }
    }
}

/// The text as a `String` of the same byte length: each byte of an invalid UTF-8 sequence
/// becomes `?`, so byte offsets into the file stay right for miette. A CR that does not
/// start a CRLF becomes a space: miette would end a line there, nginx and PHP do not.
fn same_length_lossy(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        s.push_str(chunk.valid());
        s.extend(std::iter::repeat('?').take(chunk.invalid().len()));
    }
    if s.contains('\r') {
        let b = s.as_bytes();
        s = s
            .char_indices()
            .map(|(i, c)| {
                if c == '\r' && b.get(i + 1) != Some(&b'\n') {
                    ' '
                } else {
                    c
                }
            })
            .collect();
    }
    s
}

/// A range as a miette span, clamped to the text and widened to character boundaries
/// (miette slices the text there).
fn span(text: &str, range: TextRange) -> SourceSpan {
    let mut end = (range.end as usize).min(text.len());
    let mut start = (range.start as usize).min(end);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    SourceSpan::new(start.into(), end - start)
}

/// A message for the terminal (see [`super::escape_controls`]).
fn escape(s: &str) -> String {
    super::escape_controls(s).into_owned()
}

fn miette_severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

/// The help text: the rule's help, then what its fix would do and how to apply it.
fn help_text(d: &Diagnostic) -> Option<String> {
    let fix = d.fix.as_ref().map(|f| match f.applicability {
        Applicability::Safe => format!("fix available (safe, --fix): {}", f.message),
        Applicability::Unsafe => format!("fix available (unsafe, --unsafe-fixes): {}", f.message),
        Applicability::DisplayOnly => {
            format!("suggested fix (not applied automatically): {}", f.message)
        }
    });
    match (&d.help, fix) {
        (Some(h), Some(f)) => Some(format!("{h}\n{f}")),
        (Some(h), None) => Some(h.clone()),
        (None, f) => f,
    }
}

/// A diagnostic as a miette report: the primary label, related places in the same file as
/// more labels, related places in other files as related reports.
fn render(report: &Report, sources: &mut Sources, d: &Diagnostic) -> Rendered {
    let source = sources.get(report, d.file, d.range);
    let text = source.text.clone();
    let mut labels = vec![LabeledSpan::new_primary_with_span(None, text.span(d.range))];
    let mut related = Vec::new();
    for r in &d.related {
        if r.file == d.file {
            labels.push(LabeledSpan::new_with_span(
                Some(escape(&r.message)),
                text.span(r.range),
            ));
        } else {
            let other = sources.get(report, r.file, r.range);
            let other_span = other.text.span(r.range);
            related.push(Rendered {
                message: escape(&r.message),
                code: None,
                severity: miette::Severity::Advice,
                source: other,
                // The message heads the nested report; repeating it on the label adds nothing.
                labels: vec![LabeledSpan::new_primary_with_span(None, other_span)],
                help: None,
                related: Vec::new(),
            });
        }
    }
    Rendered {
        message: escape(&d.message),
        code: Some(format!("{}[{}]", d.severity, d.rule)),
        severity: miette_severity(d.severity),
        source,
        labels,
        help: help_text(d).map(|h| escape(&h)),
        related,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_text_keeps_byte_length() {
        let bytes = b"caf\xe9 \xe2\x82 ok \xc3\xa9";
        let s = same_length_lossy(bytes);
        assert_eq!(s.len(), bytes.len());
        assert_eq!(s, "caf? ?? ok é");
        assert_eq!(same_length_lossy(b"a\rb\r\nc\r"), "a b\r\nc ");
    }

    #[test]
    fn spans_are_clamped_to_char_boundaries() {
        let text = "aé b";
        let s = span(text, TextRange::new(2, 3));
        assert_eq!((s.offset(), s.len()), (1, 2));
        let s = span(text, TextRange::new(3, 99));
        assert_eq!((s.offset(), s.len()), (3, 2));
    }
}

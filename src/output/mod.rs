//! Every output format of `gatelint check`: human (miette), short, json, sarif, github.
//!
//! A [`Report`] holds what one run found; [`write_report`] prints it in the chosen
//! [`OutputFormat`]. Every format lists diagnostics in one order (path, position, rule),
//! and prints paths as the user named them.

mod github;
mod human;
mod json;
mod sarif;
mod short;

use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::source::{FileId, FileKind, Files, LineCol, TextRange};
use std::borrow::Cow;
use std::io::{self, Write};

pub use json::JSON_SCHEMA_VERSION;
pub use sarif::partial_fingerprint;

/// The output formats of `gatelint check --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum OutputFormat {
    /// Source snippets with labels, help and fixes, then a summary line.
    Human,
    /// One line per finding: `path:line:col: severity[rule] message`.
    Short,
    /// The stable JSON contract (schema_version 1).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…::…`).
    Github,
}

/// What the output needs to know about a rule: the registry's own metadata.
pub use crate::rules::RuleMeta;

/// What one run of `gatelint check` found, ready to print.
#[derive(Clone, Copy, Debug)]
pub struct Report<'a> {
    /// Every file the run read.
    pub files: &'a Files,
    /// The files of the run with their kinds, in the order they were read.
    pub file_kinds: &'a [(FileId, FileKind)],
    /// The findings, in any order.
    pub diagnostics: &'a [Diagnostic],
    /// Every registered rule.
    pub rules: &'a [RuleMeta],
    /// What the run assumed about the deployment, when it assumed anything.
    pub context: Option<&'a RunContext>,
}

/// What a run assumed: the deployment profile, the folder standing for `/`, and the stock
/// files that stood in for files the tree lacks. Reported once, so a finding (or its
/// absence) can be traced to an assumption.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunContext {
    /// The profile's name; `None` for `none`.
    pub profile: Option<&'static str>,
    /// How the profile was chosen.
    pub profile_chosen: Option<crate::profile::Chosen>,
    /// The folder that stands for `/` (a copy of a machine), as the user named it.
    pub root: Option<String>,
    /// The stock files read in place of files the tree lacks.
    pub stock_files: Vec<StockUse>,
    /// Inputs that could not be read (their errors went to stderr): a report with any is
    /// never a clean one.
    #[serde(skip)]
    pub unread: usize,
}

/// One stock file a run read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StockUse {
    /// The path the configuration asked for.
    pub path: String,
    /// The profile's file read in its place (its path on the machine).
    pub stock: &'static str,
}

impl RunContext {
    /// One line for people: `assumed: profile debian-12 (detected), …`; `None` when the
    /// run assumed nothing worth saying.
    pub fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(p) = self.profile {
            let how = match self.profile_chosen {
                Some(crate::profile::Chosen::Named) => "named",
                Some(crate::profile::Chosen::Detected) => "detected from the tree",
                _ => "the default; set it with --profile",
            };
            parts.push(format!("profile {p} ({how})"));
        }
        if let Some(r) = &self.root {
            parts.push(format!("`{r}` stands for /"));
        }
        if !self.stock_files.is_empty() {
            let names: Vec<&str> = self.stock_files.iter().map(|s| s.stock).collect();
            parts.push(format!(
                "stock {} read for what the tree lacks: {}",
                if names.len() == 1 { "file" } else { "files" },
                names.join(", ")
            ));
        }
        (!parts.is_empty()).then(|| format!("assumed: {}", escape_controls(&parts.join("; "))))
    }
}

/// The counts every format ends with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Diagnostics of severity error.
    pub errors: usize,
    /// Diagnostics of severity warning.
    pub warnings: usize,
    /// Diagnostics of severity info.
    pub infos: usize,
    /// Diagnostics whose fix `--fix` or `--unsafe-fixes` would apply.
    pub fixable: usize,
    /// Of those, the ones whose fix is safe (applied by `--fix` alone).
    #[serde(skip)]
    pub fixable_safe: usize,
}

impl<'a> Report<'a> {
    /// The diagnostics in print order: path, start, end, rule, message.
    pub fn sorted(&self) -> Vec<&'a Diagnostic> {
        let mut v: Vec<&Diagnostic> = self.diagnostics.iter().collect();
        v.sort_by(|a, b| {
            self.files
                .get(a.file)
                .path
                .cmp(&self.files.get(b.file).path)
                .then_with(|| (a.range.start, a.range.end).cmp(&(b.range.start, b.range.end)))
                .then_with(|| a.rule.cmp(b.rule))
                .then_with(|| a.message.cmp(&b.message))
        });
        v
    }

    /// The counts of this report.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            files: self.file_kinds.len(),
            ..Summary::default()
        };
        for d in self.diagnostics {
            match d.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Info => s.infos += 1,
            }
            match d.fix.as_ref().map(|f| f.applicability) {
                Some(Applicability::Safe) => {
                    s.fixable += 1;
                    s.fixable_safe += 1;
                }
                Some(Applicability::Unsafe) => s.fixable += 1,
                Some(Applicability::DisplayOnly) | None => {}
            }
        }
        s
    }

    /// The path of a file as the user named it.
    pub(crate) fn path(&self, file: FileId) -> String {
        self.files.get(file).display_path()
    }

    /// [`Report::path`] for a terminal: see [`escape_controls`].
    pub(crate) fn shown_path(&self, file: FileId) -> String {
        escape_controls(&self.path(file)).into_owned()
    }

    /// Start and end of a range as lines and columns.
    pub(crate) fn span(&self, file: FileId, range: TextRange) -> (LineCol, LineCol) {
        let f = self.files.get(file);
        (f.line_col(range.start), f.line_col(range.end))
    }

    /// The registered rule with this id.
    pub(crate) fn rule(&self, id: &str) -> Option<&'a RuleMeta> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// Print `report` to `out` in `format`. `color` turns on terminal colours in the human
/// format (the caller decides, e.g. from `std::io::IsTerminal` and `NO_COLOR`); the other
/// formats never use colour.
pub fn write_report(
    format: OutputFormat,
    report: &Report,
    out: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    match format {
        OutputFormat::Human => human::write(report, out, color),
        OutputFormat::Short => short::write(report, out),
        OutputFormat::Json => json::write(report, out),
        OutputFormat::Sarif => sarif::write(report, out),
        OutputFormat::Github => github::write(report, out),
    }
}

/// How to say "N things": `1 error`, `2 errors`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests;

/// Whether a terminal would act on `c` instead of showing it: control characters other
/// than tab and line feed (ESC starts the sequences that move the cursor, recolour or
/// retitle the terminal; BEL rings), and the bidirectional overrides and isolates that
/// reorder what is shown (<https://trojansource.codes/>).
pub(crate) fn is_hidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// How [`escape_controls`] writes `c`: `\x1b` for ASCII, `\u{202e}` beyond.
pub(crate) fn push_escape(out: &mut String, c: char) {
    use std::fmt::Write as _;
    if c.is_ascii() {
        let _ = write!(out, "\\x{:02x}", c as u32);
    } else {
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    }
}

/// `s` with every character a terminal would act on ([`is_hidden`]) written as an escape,
/// so that text from a configuration (a message quoting it, a file name) cannot rewrite
/// the reader's terminal. Formats read by programs (JSON, SARIF) escape by their own rules.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_hidden(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

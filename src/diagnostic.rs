//! Findings and the fixes that come with them.
//!
//! Rules and parsers produce [`Diagnostic`]s whose positions are byte ranges in a file of the
//! run's [`Files`](crate::source::Files) store; printers turn them into lines and columns.

use crate::source::{FileId, TextRange};
use std::fmt;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Fails under ordinary load or slow requests.
    Warning,
    /// Will fail: a 502, a refused start or a refused reload.
    Error,
}

impl Severity {
    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parse `error`, `warning` or `info`.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How safe it is to apply a fix without a human looking at it.
///
/// Ordered like ruff's: a higher value is safer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Shown, never applied: the tool cannot know which side is right.
    DisplayOnly,
    /// Changes an effective value; applied only with `--unsafe-fixes`.
    Unsafe,
    /// Keeps every effective value; `--fix` applies it.
    Safe,
}

impl Applicability {
    /// The kebab-case name used in JSON and SARIF.
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::DisplayOnly => "display-only",
            Applicability::Unsafe => "unsafe",
            Applicability::Safe => "safe",
        }
    }
}

/// One replacement of a byte range in one file.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edit {
    /// The file the edit applies to.
    pub file: FileId,
    /// The bytes replaced (empty for an insertion).
    pub range: TextRange,
    /// The new text.
    pub replacement: String,
}

impl Edit {
    /// Replace `range` in `file` with `replacement`.
    pub fn replace(file: FileId, range: TextRange, replacement: impl Into<String>) -> Self {
        Edit {
            file,
            range,
            replacement: replacement.into(),
        }
    }

    /// Insert `text` at `offset` in `file`.
    pub fn insert(file: FileId, offset: u32, text: impl Into<String>) -> Self {
        Edit::replace(file, TextRange::empty(offset), text)
    }

    /// Delete `range` in `file`.
    pub fn delete(file: FileId, range: TextRange) -> Self {
        Edit::replace(file, range, String::new())
    }
}

/// A set of edits that together mend one finding; applied whole or not at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, e.g. `set proxy_read_timeout 35s`.
    pub message: String,
    /// Whether `--fix` may apply it.
    pub applicability: Applicability,
    /// The edits, possibly in several files.
    pub edits: Vec<Edit>,
}

impl Fix {
    /// A fix with one or more edits.
    pub fn new(message: impl Into<String>, applicability: Applicability, edits: Vec<Edit>) -> Self {
        Fix {
            message: message.into(),
            applicability,
            edits,
        }
    }
}

/// Another place that is part of the cause, possibly in another file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    /// The file of the related place.
    pub file: FileId,
    /// The related bytes.
    pub range: TextRange,
    /// Why this place matters, e.g. `max_execution_time set here`.
    pub message: String,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable rule id, e.g. `fpm-socket-path-mismatch`.
    pub rule: &'static str,
    /// How bad it is (after the user's overrides).
    pub severity: Severity,
    /// One sentence saying what is wrong.
    pub message: String,
    /// The file to change.
    pub file: FileId,
    /// The bytes to change, or the place that lacks something.
    pub range: TextRange,
    /// Other places that are part of the cause.
    pub related: Vec<Related>,
    /// What to do about it.
    pub help: Option<String>,
    /// A fix, where one is right.
    pub fix: Option<Fix>,
}

impl Diagnostic {
    /// A finding without related places, help or fix.
    pub fn new(
        rule: &'static str,
        severity: Severity,
        file: FileId,
        range: TextRange,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            rule,
            severity,
            message: message.into(),
            file,
            range,
            related: Vec::new(),
            help: None,
            fix: None,
        }
    }

    /// Add a related place.
    pub fn with_related(
        mut self,
        file: FileId,
        range: TextRange,
        message: impl Into<String>,
    ) -> Self {
        self.related.push(Related {
            file,
            range,
            message: message.into(),
        });
        self
    }

    /// Add help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Attach a fix.
    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }
}

/// A syntax error found by a parser: a byte range in the parsed file and nginx's or PHP's
/// own wording.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SyntaxError {
    /// Where the error is.
    #[serde(skip)]
    pub range: TextRange,
    /// The message, worded as the real program words it where it has a wording.
    pub message: String,
}

impl SyntaxError {
    /// A syntax error at `range`.
    pub fn new(range: TextRange, message: impl Into<String>) -> Self {
        SyntaxError {
            range,
            message: message.into(),
        }
    }
}

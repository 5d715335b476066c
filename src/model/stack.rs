//! The joined view of one host: which nginx location reaches which PHP-FPM pool through
//! which socket, and which php.ini settings that pool runs with.

use super::nginx::NginxModel;
use crate::source::{FileId, TextRange};

/// What kind of problem loading met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// A syntax error, worded as the real program words it.
    Syntax,
    /// An include that fails: a missing file, a cycle.
    Include,
}

/// A problem met while reading the files, reported by the `syntax-error` and
/// `include-error` rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProblem {
    /// Syntax or include.
    pub kind: ProblemKind,
    /// The file.
    pub file: FileId,
    /// Where.
    pub range: TextRange,
    /// The message.
    pub message: String,
    /// What follows from it (e.g. PHP ignoring the rest of the file).
    pub note: Option<String>,
}

/// Every configuration of one run, joined.
#[derive(Debug, Default)]
pub struct Stack {
    /// Every nginx configuration of the run.
    pub nginx: NginxModel,
    /// Problems met while reading the files.
    pub problems: Vec<FileProblem>,
    /// Suppression comments of every file.
    pub suppressions: Vec<crate::suppress::Suppression>,
    /// Malformed suppression comments: file, range, message.
    pub bad_suppressions: Vec<(FileId, TextRange, String)>,
}

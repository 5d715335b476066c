//! The joined view of one host: which nginx location reaches which PHP-FPM pool through
//! which socket, and which php.ini settings that pool runs with.

use super::fpm::FpmConfig;
use super::nginx::NginxModel;
use super::php::PhpIni;
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

/// The php.ini settings one PHP installation reads: a php.ini and its scan dir.
#[derive(Debug)]
pub struct PhpSet {
    /// The effective settings.
    pub ini: PhpIni,
    /// The files, in reading order.
    pub files: Vec<FileId>,
    /// The FPM configuration (index into [`Stack::fpm`]) whose master reads them.
    pub fpm: Option<usize>,
}

/// Every configuration of one run, joined.
#[derive(Debug, Default)]
pub struct Stack {
    /// Every nginx configuration of the run.
    pub nginx: NginxModel,
    /// Every PHP-FPM configuration (a php-fpm.conf with its includes, or a lone pool file).
    pub fpm: Vec<FpmConfig>,
    /// Every php.ini set.
    pub php: Vec<PhpSet>,
    /// What would make each FPM master refuse to start (computed once at load).
    pub fpm_refusals: Vec<crate::diagnostic::Diagnostic>,
    /// Problems met while reading the files.
    pub problems: Vec<FileProblem>,
    /// Suppression comments of every file.
    pub suppressions: Vec<crate::suppress::Suppression>,
    /// Malformed suppression comments: file, range, message.
    pub bad_suppressions: Vec<(FileId, TextRange, String)>,
}

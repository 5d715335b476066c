//! Where FPM files come from: the disk, or memory (tests, stdin, an editor's buffer).

use crate::fsglob::has_magic;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `glob(GLOB_ERR | GLOB_MARK)` gave FPM for an include pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GlobOutcome {
    /// Matching files, sorted, directories left out.
    Matches(Vec<PathBuf>),
    /// `GLOB_NOMATCH`: FPM warns and goes on.
    NoMatch,
    /// `GLOB_ABORTED` (a directory of the pattern cannot be read): FPM stops.
    Aborted,
}

/// Reads files and expands include patterns.
pub trait FileSource {
    /// The bytes of a file.
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;
    /// Expand an absolute include pattern.
    fn glob(&self, pattern: &str) -> GlobOutcome;
}

/// The directory part of a pattern up to its first component with a wildcard.
fn literal_dir(pattern: &str) -> Option<&str> {
    let idx = pattern.rfind('/')?;
    let dir = &pattern[..idx];
    if has_magic(dir) {
        return None;
    }
    Some(if dir.is_empty() { "/" } else { dir })
}

/// The file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct DiskSource;

impl FileSource for DiskSource {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        crate::source::read_config(path)
    }

    fn glob(&self, pattern: &str) -> GlobOutcome {
        if let Some(dir) = literal_dir(pattern) {
            if has_magic(pattern) && std::fs::read_dir(dir).is_err() {
                return GlobOutcome::Aborted;
            }
        }
        let mut out: Vec<PathBuf> = crate::fsglob::fs_glob(pattern);
        if out.is_empty() {
            return GlobOutcome::NoMatch;
        }
        out.sort();
        out.retain(|p| !p.is_dir());
        GlobOutcome::Matches(out)
    }
}

/// Files held in memory, keyed by path.
#[derive(Clone, Debug, Default)]
pub struct MemorySource {
    /// Path → bytes.
    pub files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemorySource {
    /// Add a file.
    pub fn with(mut self, path: impl Into<PathBuf>, text: impl Into<Vec<u8>>) -> Self {
        self.files.insert(path.into(), text.into());
        self
    }
}

impl FileSource for MemorySource {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "not found"))
    }

    fn glob(&self, pattern: &str) -> GlobOutcome {
        let Ok(pat) = glob::Pattern::new(pattern) else {
            return GlobOutcome::NoMatch;
        };
        let opts = crate::fsglob::match_options();
        let out: Vec<PathBuf> = self
            .files
            .keys()
            .filter(|p| pat.matches_path_with(p, opts))
            .cloned()
            .collect();
        if out.is_empty() {
            if let Some(dir) = literal_dir(pattern) {
                let d = Path::new(dir);
                let known = self.files.keys().any(|p| p.starts_with(d));
                if has_magic(pattern) && !known {
                    return GlobOutcome::Aborted;
                }
            }
            return GlobOutcome::NoMatch;
        }
        GlobOutcome::Matches(out)
    }
}

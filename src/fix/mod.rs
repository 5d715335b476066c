//! Fixes: choosing them, applying their edits, looping to a fixpoint, printing them as
//! unified diffs and writing fixed files safely.
//!
//! The flow follows ruff's fix loop (<https://github.com/astral-sh/ruff>, `crates/ruff_linter/src/fix/`):
//! lint, take the fixes that do not overlap, apply them, re-parse every changed file, lint
//! again, until nothing applies. Nothing here writes to disk by itself: [`fix_to_fixpoint`]
//! changes the in-memory [`Files`](crate::source::Files) and returns a [`FixOutcome`]; the
//! caller prints diffs ([`unified_diff`]) or writes files ([`write_atomic`]).

mod apply;
mod diff;
mod fixpoint;
mod write;

pub use apply::{apply_edits, select_fixes};
pub use diff::{diff_path, unified_diff};
pub use fixpoint::{fix_to_fixpoint, ChangedFile, FixError, FixOutcome, DEFAULT_MAX_ROUNDS};
pub use write::write_atomic;

//! The fix loop: lint, apply the fixes that fit together, re-parse, lint again.

use super::apply::{apply_edits, select_where};
use super::unified_diff;
use super::write::{write_all_or_none, Replacement};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::source::{FileId, Files, SourceFile};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Rounds [`fix_to_fixpoint`] runs before giving up (ruff's test harness uses 10 too).
pub const DEFAULT_MAX_ROUNDS: usize = 10;

/// One file the fixes changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangedFile {
    /// The file.
    pub file: FileId,
    /// Its text before the first fix.
    pub original: Vec<u8>,
    /// Its text after the last fix.
    pub fixed: Vec<u8>,
}

/// A fix that would have broken a file that parsed before it: an internal error of the
/// rule that proposed it. Such a fix is rolled back and never written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixError {
    /// The rule whose fix it was.
    pub rule: &'static str,
    /// The fix's message.
    pub fix: String,
    /// The files that no longer parsed with the fix applied.
    pub files: Vec<FileId>,
}

impl FixError {
    /// A one-line description naming the files, for the error stream.
    pub fn describe(&self, files: &Files) -> String {
        let paths: Vec<String> = self
            .files
            .iter()
            .map(|id| files.get(*id).display_path())
            .collect();
        format!(
            "internal error: the fix \"{}\" of rule {} would break the syntax of {}; it was not applied",
            self.fix,
            self.rule,
            paths.join(", ")
        )
    }
}

/// What [`fix_to_fixpoint`] did. The caller decides what to do with it: print
/// [`FixOutcome::diff`] for `--diff`, call [`FixOutcome::write`] for `--fix`, report the
/// remaining diagnostics and the errors.
#[derive(Clone, Debug, Default)]
pub struct FixOutcome {
    /// Every file whose final text differs from its original one, in [`FileId`] order.
    pub changed: Vec<ChangedFile>,
    /// How many fixes were applied, over all rounds.
    pub applied: usize,
    /// The diagnostics of the last lint run, on the final texts.
    pub diagnostics: Vec<Diagnostic>,
    /// Fixes that were rolled back because they broke a file.
    pub errors: Vec<FixError>,
    /// False when `max_rounds` ran out while fixes still applied (a rule whose fix never
    /// settles); the texts are still consistent, just not at a fixpoint.
    pub converged: bool,
}

impl FixOutcome {
    /// The unified diff of every changed file (`a/` and `b/` prefixes), concatenated in
    /// [`FileId`] order; empty when nothing changed. With `base` (the folder the patch is
    /// applied from, the working directory), each path is written as
    /// [`super::write::patch_path`] says, so `git apply` and `patch -p1` apply it there;
    /// without it, paths are as the user named them.
    pub fn diff(&self, files: &Files, base: Option<&std::path::Path>) -> Vec<u8> {
        let mut out = Vec::new();
        for c in &self.changed {
            let full = &files.get(c.file).path;
            let path = match base {
                Some(b) => super::write::patch_path(full, b),
                None => full.clone(),
            }
            .display()
            .to_string();
            out.extend_from_slice(&unified_diff(&path, &c.original, &c.fixed));
        }
        out
    }

    /// Write every changed file to its path, all or none ([`write_all_or_none`]): on
    /// failure no file is changed and each cause is returned with its file.
    pub fn write(&self, files: &Files) -> Result<(), Vec<(FileId, std::io::Error)>> {
        let items: Vec<Replacement<'_>> = self
            .changed
            .iter()
            .map(|c| Replacement {
                path: &files.get(c.file).path,
                original: &c.original,
                fixed: &c.fixed,
            })
            .collect();
        write_all_or_none(&items).map_err(|errors| {
            errors
                .into_iter()
                .map(|(i, e)| (self.changed[i].file, e))
                .collect()
        })
    }
}

/// Lint, apply the fixes at or above `level` that fit together, re-parse the changed
/// files, and lint again, until no fix applies or `max_rounds` rounds have applied fixes.
///
/// `lint` runs every rule over `files` as they are now. `reparses` says whether a file's
/// text parses without syntax errors. It decides two things:
/// - which files may be changed at all: only those for which `reparses` is true on their
///   text before any fix (a file that was already broken is never touched, as the rules'
///   view of it is unreliable); a fix with an edit in any other file is not applied;
/// - whether a fix is kept: when a changed file no longer parses, the fixes of that round
///   are retried one at a time and each fix that breaks a file is rolled back, recorded in
///   [`FixOutcome::errors`] and not taken again (a fix is known by its rule, message and
///   replacements, not its offsets, which move as other fixes apply).
///
/// `files` holds the final texts afterwards (set with [`Files::set_text`]); nothing is
/// written to disk.
pub fn fix_to_fixpoint(
    files: &mut Files,
    level: Applicability,
    max_rounds: usize,
    lint: &mut dyn FnMut(&Files) -> Vec<Diagnostic>,
    reparses: &dyn Fn(&SourceFile) -> bool,
) -> FixOutcome {
    let mut originals: BTreeMap<FileId, Vec<u8>> = BTreeMap::new();
    let mut writable: HashMap<FileId, bool> = HashMap::new();
    let mut rejected: HashSet<FixKey> = HashSet::new();
    let mut outcome = FixOutcome::default();
    let mut rounds = 0;
    // Diagnostics still current because the texts did not change (all fixes rolled back).
    let mut current: Option<Vec<Diagnostic>> = None;

    loop {
        let diagnostics = match current.take() {
            Some(d) => d,
            None => lint(files),
        };
        let chosen = {
            let files_ref: &Files = files;
            select_where(&diagnostics, level, |d, fix| {
                !rejected.contains(&FixKey::new(d.rule, fix))
                    && fix.edits.iter().all(|e| {
                        *writable.entry(e.file).or_insert_with(|| {
                            (e.file.0 as usize) < files_ref.len() && reparses(files_ref.get(e.file))
                        })
                    })
                    && changes_something(files_ref, fix)
            })
        };
        if chosen.is_empty() {
            outcome.converged = true;
            outcome.diagnostics = diagnostics;
            break;
        }
        if rounds >= max_rounds {
            outcome.diagnostics = diagnostics;
            break;
        }
        let (kept, broke) = apply_round(files, &chosen, reparses);
        for (d, broken) in broke {
            rejected.insert(FixKey::new(d.rule, fix_of(d)));
            outcome.errors.push(FixError {
                rule: d.rule,
                fix: fix_of(d).message.clone(),
                files: broken,
            });
        }
        if kept.is_empty() {
            // Every fix of this round was rolled back, so the texts did not change and the
            // diagnostics are current. Choose again without the rejected fixes: a fix that
            // overlapped one of them may apply now. This ends, as each pass rejects more.
            current = Some(diagnostics);
            continue;
        }
        outcome.applied += kept.len();
        for (id, text) in new_texts(files, &kept) {
            originals
                .entry(id)
                .or_insert_with(|| files.get(id).text.clone());
            files.set_text(id, text);
        }
        rounds += 1;
    }

    outcome.changed = originals
        .into_iter()
        .filter(|(id, original)| files.get(*id).text != *original)
        .map(|(id, original)| ChangedFile {
            file: id,
            original,
            fixed: files.get(id).text.clone(),
        })
        .collect();
    outcome
}

/// False for a fix whose every edit replaces bytes with the same bytes: applying it would
/// count as progress forever without changing anything.
fn changes_something(files: &Files, fix: &Fix) -> bool {
    fix.edits
        .iter()
        .any(|e| files.get(e.file).slice(e.range) != e.replacement.as_bytes())
}

/// The fixes of `chosen` to keep this round, and those that break files, with the files.
type RoundResult<'d> = (Vec<&'d Diagnostic>, Vec<(&'d Diagnostic, Vec<FileId>)>);

/// Which of `chosen` to keep this round, and which break a file that parsed.
fn apply_round<'d>(
    files: &Files,
    chosen: &[&'d Diagnostic],
    reparses: &dyn Fn(&SourceFile) -> bool,
) -> RoundResult<'d> {
    // The common case: everything together parses.
    if broken_files(files, &new_texts(files, chosen), reparses).is_empty() {
        return (chosen.to_vec(), Vec::new());
    }
    // Otherwise find the culprits: add fixes one by one, keeping each that leaves the
    // files it touches parsing together with those already kept.
    let mut kept: Vec<&Diagnostic> = Vec::new();
    let mut errors = Vec::new();
    for d in chosen {
        kept.push(d);
        let touched: HashSet<FileId> = fix_of(d).edits.iter().map(|e| e.file).collect();
        let mut texts = new_texts(files, &kept);
        texts.retain(|id, _| touched.contains(id));
        let broken = broken_files(files, &texts, reparses);
        if !broken.is_empty() {
            kept.pop();
            errors.push((*d, broken));
        }
    }
    (kept, errors)
}

/// The new text of every file the fixes of `chosen` touch.
fn new_texts(files: &Files, chosen: &[&Diagnostic]) -> BTreeMap<FileId, Vec<u8>> {
    let mut by_file: BTreeMap<FileId, Vec<&Edit>> = BTreeMap::new();
    for d in chosen {
        for e in &fix_of(d).edits {
            by_file.entry(e.file).or_default().push(e);
        }
    }
    by_file
        .into_iter()
        .map(|(id, edits)| (id, apply_edits(&files.get(id).text, &edits)))
        .collect()
}

/// The files among `texts` that no longer parse.
fn broken_files(
    files: &Files,
    texts: &BTreeMap<FileId, Vec<u8>>,
    reparses: &dyn Fn(&SourceFile) -> bool,
) -> Vec<FileId> {
    texts
        .iter()
        .filter(|(id, text)| {
            !reparses(&SourceFile::new(
                files.get(**id).path.clone(),
                (*text).clone(),
            ))
        })
        .map(|(id, _)| *id)
        .collect()
}

/// The fix of a chosen diagnostic (chosen diagnostics always have one).
fn fix_of(d: &Diagnostic) -> &Fix {
    static NONE: Fix = Fix {
        message: String::new(),
        applicability: Applicability::DisplayOnly,
        edits: Vec::new(),
    };
    d.fix.as_ref().unwrap_or(&NONE)
}

/// What identifies a rejected fix across rounds: rule, message and the replacements per
/// file, but not offsets, which move when other fixes apply.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct FixKey {
    rule: &'static str,
    message: String,
    edits: Vec<(FileId, String)>,
}

impl FixKey {
    fn new(rule: &'static str, fix: &Fix) -> Self {
        FixKey {
            rule,
            message: fix.message.clone(),
            edits: fix
                .edits
                .iter()
                .map(|e| (e.file, e.replacement.clone()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;
    use crate::source::TextRange;

    /// A linter for "a file must not contain `x`": one diagnostic at the first `x` of each
    /// file, whose safe fix deletes that one `x` (so each round removes one per file).
    fn no_x(files: &Files) -> Vec<Diagnostic> {
        files
            .iter()
            .filter_map(|(id, f)| {
                let at = f.text.iter().position(|b| *b == b'x')? as u32;
                let range = TextRange::new(at, at + 1);
                Some(
                    Diagnostic::new("no-x", Severity::Warning, id, range, "x found").with_fix(
                        Fix::new(
                            "delete x",
                            Applicability::Safe,
                            vec![Edit::delete(id, range)],
                        ),
                    ),
                )
            })
            .collect()
    }

    /// A fix that turns the first `y` into `!`, which the fake parser below rejects.
    fn y_to_bang(files: &Files) -> Vec<Diagnostic> {
        files
            .iter()
            .filter_map(|(id, f)| {
                let at = f.text.iter().position(|b| *b == b'y')? as u32;
                let range = TextRange::new(at, at + 1);
                Some(
                    Diagnostic::new("y-bang", Severity::Error, id, range, "y found").with_fix(
                        Fix::new(
                            "make it loud",
                            Applicability::Safe,
                            vec![Edit::replace(id, range, "!")],
                        ),
                    ),
                )
            })
            .collect()
    }

    /// The fake parser: a text parses unless it holds a `!`.
    fn no_bang(f: &SourceFile) -> bool {
        !f.text.contains(&b'!')
    }

    fn store(texts: &[&str]) -> Files {
        let mut files = Files::new();
        for (i, t) in texts.iter().enumerate() {
            files.add(SourceFile::new(format!("f{i}.conf"), t.as_bytes().to_vec()));
        }
        files
    }

    fn text(files: &Files, i: u32) -> &str {
        std::str::from_utf8(&files.get(FileId(i)).text).unwrap()
    }

    #[test]
    fn loops_until_nothing_applies() {
        let mut files = store(&["axbxcx\n", "clean\n", "xx"]);
        let mut calls = 0;
        let mut lint = |f: &Files| {
            calls += 1;
            no_x(f)
        };
        let out = fix_to_fixpoint(&mut files, Applicability::Safe, 10, &mut lint, &no_bang);
        assert_eq!(text(&files, 0), "abc\n");
        assert_eq!(text(&files, 2), "");
        assert_eq!(out.applied, 5);
        assert!(out.converged);
        assert!(out.diagnostics.is_empty());
        assert!(out.errors.is_empty());
        assert_eq!(calls, 4, "three rounds of fixes, then one clean lint");
        let changed: Vec<_> = out
            .changed
            .iter()
            .map(|c| (c.file, c.original.clone(), c.fixed.clone()))
            .collect();
        assert_eq!(
            changed,
            vec![
                (FileId(0), b"axbxcx\n".to_vec(), b"abc\n".to_vec()),
                (FileId(2), b"xx".to_vec(), b"".to_vec()),
            ]
        );
        let diff = String::from_utf8(out.diff(&files, None)).unwrap();
        assert!(
            diff.starts_with(
                "--- a/f0.conf\n+++ b/f0.conf\n@@ -1 +1 @@\n-axbxcx\n+abc\n--- a/f2.conf\n"
            ),
            "{diff}"
        );
    }

    #[test]
    fn stops_after_max_rounds_without_converging() {
        let mut files = store(&["axbxcx\n"]);
        let out = fix_to_fixpoint(&mut files, Applicability::Safe, 2, &mut no_x, &no_bang);
        assert_eq!(text(&files, 0), "abcx\n");
        assert_eq!(out.applied, 2);
        assert!(!out.converged);
        assert_eq!(
            out.diagnostics.len(),
            1,
            "the diagnostics of the final text"
        );
        assert_eq!(out.diagnostics[0].range, TextRange::new(3, 4));
    }

    #[test]
    fn unsafe_fixes_need_the_unsafe_level() {
        let mut lint = |f: &Files| {
            let mut d = no_x(f);
            for x in &mut d {
                if let Some(fix) = &mut x.fix {
                    fix.applicability = Applicability::Unsafe;
                }
            }
            d
        };
        let mut files = store(&["xa"]);
        let out = fix_to_fixpoint(&mut files, Applicability::Safe, 10, &mut lint, &no_bang);
        assert_eq!((out.applied, text(&files, 0)), (0, "xa"));
        assert!(out.changed.is_empty() && out.converged);
        assert_eq!(out.diagnostics.len(), 1);
        let out = fix_to_fixpoint(&mut files, Applicability::Unsafe, 10, &mut lint, &no_bang);
        assert_eq!((out.applied, text(&files, 0)), (1, "a"));
    }

    #[test]
    fn a_fix_that_breaks_a_file_is_rolled_back_and_reported_once() {
        let mut files = store(&["y x\n"]);
        let mut lint = |f: &Files| {
            let mut d = y_to_bang(f);
            d.extend(no_x(f));
            d
        };
        let out = fix_to_fixpoint(&mut files, Applicability::Safe, 10, &mut lint, &no_bang);
        assert_eq!(
            text(&files, 0),
            "y \n",
            "the good fix applied, the bad one did not"
        );
        assert_eq!(out.applied, 1);
        assert!(out.converged);
        assert_eq!(
            out.errors,
            vec![FixError {
                rule: "y-bang",
                fix: "make it loud".into(),
                files: vec![FileId(0)]
            }]
        );
        assert!(out.errors[0].describe(&files).contains("f0.conf"));
        assert_eq!(out.diagnostics.len(), 1, "the y diagnostic remains");
        assert_eq!(out.changed[0].fixed, b"y \n");
    }

    #[test]
    fn a_fix_blocked_by_a_rejected_one_applies_after_it() {
        let mut files = store(&["abc\n"]);
        let lint = |f: &Files| {
            let t = &f.get(FileId(0)).text;
            if !t.starts_with(b"ab") {
                return Vec::new();
            }
            let bad = Fix::new(
                "bang",
                Applicability::Safe,
                vec![Edit::replace(FileId(0), TextRange::new(0, 2), "!")],
            );
            let good = Fix::new(
                "upper",
                Applicability::Safe,
                vec![Edit::replace(FileId(0), TextRange::new(1, 3), "BC")],
            );
            vec![
                Diagnostic::new("bad", Severity::Error, FileId(0), TextRange::new(0, 2), "m")
                    .with_fix(bad),
                Diagnostic::new(
                    "good",
                    Severity::Error,
                    FileId(0),
                    TextRange::new(1, 3),
                    "m",
                )
                .with_fix(good),
            ]
        };
        let mut calls = 0;
        let mut counting = |f: &Files| {
            calls += 1;
            lint(f)
        };
        let out = fix_to_fixpoint(&mut files, Applicability::Safe, 10, &mut counting, &no_bang);
        assert_eq!(text(&files, 0), "aBC\n");
        assert_eq!(out.applied, 1);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].rule, "bad");
        assert!(out.converged);
        assert_eq!(
            calls, 2,
            "no lint run for the round whose fixes were all rolled back"
        );
    }

    #[test]
    fn a_multi_file_fix_is_rolled_back_in_every_file() {
        let mut files = store(&["aaa\n", "bbb\n"]);
        let mut lint = |f: &Files| {
            if f.get(FileId(0)).text.starts_with(b"aaa") {
                let fix = Fix::new(
                    "both",
                    Applicability::Safe,
                    vec![
                        Edit::replace(FileId(0), TextRange::new(0, 1), "A"),
                        Edit::replace(FileId(1), TextRange::new(0, 1), "!"),
                    ],
                );
                vec![Diagnostic::new(
                    "pair",
                    Severity::Error,
                    FileId(0),
                    TextRange::new(0, 1),
                    "m",
                )
                .with_fix(fix)]
            } else {
                Vec::new()
            }
        };
        let out = fix_to_fixpoint(&mut files, Applicability::Safe, 10, &mut lint, &no_bang);
        assert_eq!((text(&files, 0), text(&files, 1)), ("aaa\n", "bbb\n"));
        assert!(out.changed.is_empty());
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].files, vec![FileId(1)]);
    }

    #[test]
    fn a_file_that_did_not_parse_is_never_changed() {
        let mut files = store(&["x!\n", "x\n"]);
        let out = fix_to_fixpoint(&mut files, Applicability::Safe, 10, &mut no_x, &no_bang);
        assert_eq!((text(&files, 0), text(&files, 1)), ("x!\n", "\n"));
        assert_eq!(out.applied, 1);
        assert!(out.errors.is_empty());
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].file, FileId(0));
    }

    #[test]
    fn an_edit_in_an_unknown_file_is_not_applied_and_does_not_panic() {
        let mut files = store(&["a\n"]);
        let mut lint = |_: &Files| {
            let fix = Fix::new(
                "ghost",
                Applicability::Safe,
                vec![Edit::insert(FileId(7), 0, "z")],
            );
            vec![Diagnostic::new(
                "ghost",
                Severity::Info,
                FileId(0),
                TextRange::new(0, 1),
                "m",
            )
            .with_fix(fix)]
        };
        let out = fix_to_fixpoint(&mut files, Applicability::Safe, 10, &mut lint, &no_bang);
        assert_eq!(out.applied, 0);
        assert!(out.converged);
    }

    #[test]
    fn a_fix_that_changes_nothing_is_not_applied() {
        let mut files = store(&["keep\n"]);
        let mut lint = |_: &Files| {
            let r = TextRange::new(0, 4);
            let fix = Fix::new(
                "same",
                Applicability::Safe,
                vec![Edit::replace(FileId(0), r, "keep")],
            );
            vec![Diagnostic::new("noop", Severity::Info, FileId(0), r, "m").with_fix(fix)]
        };
        let out = fix_to_fixpoint(&mut files, Applicability::Safe, 10, &mut lint, &no_bang);
        assert_eq!(out.applied, 0);
        assert!(out.converged && out.changed.is_empty());
        assert_eq!(out.diagnostics.len(), 1);
    }

    #[test]
    fn two_rules_that_undo_each_other_stop_at_max_rounds() {
        let mut files = store(&["a\n"]);
        let mut lint = |f: &Files| {
            let t = &f.get(FileId(0)).text;
            let (from, to) = if t[0] == b'a' { ("a", "b") } else { ("b", "a") };
            let r = TextRange::new(0, 1);
            let fix = Fix::new(
                format!("{from} to {to}"),
                Applicability::Safe,
                vec![Edit::replace(FileId(0), r, to)],
            );
            vec![Diagnostic::new("flip", Severity::Info, FileId(0), r, "m").with_fix(fix)]
        };
        let out = fix_to_fixpoint(&mut files, Applicability::Safe, 5, &mut lint, &no_bang);
        assert_eq!(out.applied, 5);
        assert!(!out.converged);
        assert_eq!(text(&files, 0), "b\n");
        assert_eq!(out.changed.len(), 1);
    }

    #[test]
    fn the_diff_of_a_multi_file_fix_applies_with_git() {
        let texts: [(&str, &[u8]); 2] = [
            ("etc/nginx/app.conf", b"fastcgi_read_timeout 5s;\n"),
            (
                "etc/php/pool.d/www.conf",
                b"[www]\r\nrequest_terminate_timeout = 60s",
            ),
        ];
        let mut files = Files::new();
        for (path, text) in texts {
            files.add(SourceFile::new(path, text.to_vec()));
        }
        let mut lint = |f: &Files| {
            if f.get(FileId(0))
                .text
                .starts_with(b"fastcgi_read_timeout 5s")
            {
                let fix = Fix::new(
                    "align timeouts",
                    Applicability::Unsafe,
                    vec![
                        Edit::replace(FileId(0), TextRange::new(21, 23), "65s"),
                        Edit::replace(FileId(1), TextRange::new(35, 38), "60s\r\n"),
                    ],
                );
                vec![Diagnostic::new(
                    "t",
                    Severity::Warning,
                    FileId(0),
                    TextRange::new(21, 23),
                    "m",
                )
                .with_fix(fix)]
            } else {
                Vec::new()
            }
        };
        let out = fix_to_fixpoint(&mut files, Applicability::Unsafe, 10, &mut lint, &no_bang);
        assert_eq!(out.applied, 1);
        let patch = out.diff(&files, None);
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in texts {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        std::fs::write(dir.path().join("fix.patch"), &patch).unwrap();
        let status = match std::process::Command::new("git")
            .args(["apply", "fix.patch"])
            .current_dir(dir.path())
            .status()
        {
            Ok(s) => s,
            Err(_) => {
                eprintln!("skipping: `git` is not on PATH");
                return;
            }
        };
        assert!(status.success(), "{}", String::from_utf8_lossy(&patch));
        for (i, (path, _)) in texts.iter().enumerate() {
            assert_eq!(
                std::fs::read(dir.path().join(path)).unwrap(),
                files.get(FileId(i as u32)).text
            );
        }
        assert_eq!(
            files.get(FileId(1)).text,
            b"[www]\r\nrequest_terminate_timeout = 60s\r\n"
        );
    }

    #[test]
    fn writes_changed_files_to_their_paths() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.conf");
        std::fs::write(&p, b"xox\n").unwrap();
        let mut files = Files::new();
        files.add(SourceFile::read(&p).unwrap());
        let out = fix_to_fixpoint(&mut files, Applicability::Safe, 10, &mut no_x, &no_bang);
        assert!(out.write(&files).is_ok());
        assert_eq!(std::fs::read(&p).unwrap(), b"o\n");
    }
}

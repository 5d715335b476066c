//! Applying edits to one text, and choosing which fixes of a lint run to apply together.

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::source::{FileId, TextRange};
use std::collections::HashMap;

/// Apply the edits of one file to its text and return the new text.
///
/// The edits may come in any order; they are applied by position (insertions at one offset
/// keep their given order). Ranges past the end of the text are clamped to it. Callers pass
/// non-overlapping edits ([`select_fixes`] guarantees that); an edit that overlaps an
/// earlier one is skipped rather than producing garbled text. The `file` of each edit is
/// not looked at.
pub fn apply_edits(text: &[u8], edits: &[&Edit]) -> Vec<u8> {
    let mut sorted: Vec<&Edit> = edits.to_vec();
    // A stable sort keeps two insertions at one offset in the order the fix gave them.
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let extra: usize = sorted.iter().map(|e| e.replacement.len()).sum();
    let mut out = Vec::with_capacity(text.len() + extra);
    let mut pos = 0usize;
    for edit in sorted {
        let end = (edit.range.end as usize).min(text.len());
        let start = (edit.range.start as usize).min(end);
        if start < pos {
            continue;
        }
        out.extend_from_slice(&text[pos..start]);
        out.extend_from_slice(edit.replacement.as_bytes());
        pos = end;
    }
    out.extend_from_slice(&text[pos..]);
    out
}

/// True when `fix` may be applied at the requested `level`: its applicability is at least
/// `level`, and it is never display-only.
pub(crate) fn applicable(fix: &Fix, level: Applicability) -> bool {
    fix.applicability != Applicability::DisplayOnly && fix.applicability >= level
}

/// Choose the fixes to apply together in one round: those at or above `level` (`Safe` for
/// `--fix`, `Unsafe` with `--unsafe-fixes`; display-only fixes never), in position order,
/// skipping any fix with an edit that overlaps an edit of a fix already taken.
///
/// A fix is taken whole, with all its edits in all its files, or not at all. A fix
/// without edits, or whose own edits overlap each other, is never taken. The result holds
/// the diagnostics whose fixes were taken, in the order they were chosen.
pub fn select_fixes(diagnostics: &[Diagnostic], level: Applicability) -> Vec<&Diagnostic> {
    select_where(diagnostics, level, |_, _| true)
}

/// [`select_fixes`] with an extra filter that runs before the overlap check, so a fix the
/// caller refuses does not block another one.
pub(crate) fn select_where<'d>(
    diagnostics: &'d [Diagnostic],
    level: Applicability,
    mut keep: impl FnMut(&Diagnostic, &Fix) -> bool,
) -> Vec<&'d Diagnostic> {
    let mut candidates: Vec<(&'d Diagnostic, &'d Fix)> = diagnostics
        .iter()
        .filter_map(|d| d.fix.as_ref().map(|f| (d, f)))
        .filter(|(d, f)| applicable(f, level) && !f.edits.is_empty() && keep(d, f))
        .collect();
    candidates.sort_by(|(da, fa), (db, fb)| {
        first_position(fa)
            .cmp(&first_position(fb))
            .then_with(|| da.rule.cmp(db.rule))
            .then_with(|| fa.message.cmp(&fb.message))
    });

    let mut taken: HashMap<FileId, Vec<TextRange>> = HashMap::new();
    let mut chosen = Vec::new();
    for (diagnostic, fix) in candidates {
        if overlaps_itself(fix) {
            continue;
        }
        let clashes = fix.edits.iter().any(|e| {
            taken
                .get(&e.file)
                .is_some_and(|ranges| ranges.iter().any(|r| r.overlaps(e.range)))
        });
        if clashes {
            continue;
        }
        for e in &fix.edits {
            taken.entry(e.file).or_default().push(e.range);
        }
        chosen.push(diagnostic);
    }
    chosen
}

/// The first place a fix touches: the smallest (file, start) of its edits.
fn first_position(fix: &Fix) -> (FileId, u32, u32) {
    fix.edits
        .iter()
        .map(|e| (e.file, e.range.start, e.range.end))
        .min()
        .unwrap_or((FileId(u32::MAX), u32::MAX, u32::MAX))
}

/// True when two edits of one fix touch overlapping bytes of one file (a broken fix).
fn overlaps_itself(fix: &Fix) -> bool {
    fix.edits.iter().enumerate().any(|(i, a)| {
        fix.edits[i + 1..]
            .iter()
            .any(|b| a.file == b.file && a.range.overlaps(b.range))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;

    const F: FileId = FileId(0);
    const G: FileId = FileId(1);

    fn apply(text: &str, edits: &[Edit]) -> String {
        let refs: Vec<&Edit> = edits.iter().collect();
        String::from_utf8(apply_edits(text.as_bytes(), &refs)).unwrap()
    }

    #[test]
    fn applies_insert_replace_and_delete_in_any_order() {
        let text = "listen 80;\nroot /srv;\nindex a;\n";
        let edits = [
            Edit::delete(F, TextRange::new(22, 31)),
            Edit::insert(F, 0, "# top\n"),
            Edit::replace(F, TextRange::new(7, 9), "8080"),
            Edit::insert(F, 22, "client_max_body_size 8m;\n"),
        ];
        assert_eq!(
            apply(text, &edits),
            "# top\nlisten 8080;\nroot /srv;\nclient_max_body_size 8m;\n"
        );
    }

    #[test]
    fn two_insertions_at_one_offset_keep_their_order() {
        let edits = [Edit::insert(F, 1, "x"), Edit::insert(F, 1, "y")];
        assert_eq!(apply("ab", &edits), "axyb");
    }

    #[test]
    fn no_edits_gives_the_text_back_and_ranges_are_clamped() {
        assert_eq!(apply("abc", &[]), "abc");
        let edits = [Edit::replace(F, TextRange::new(2, 99), "Z")];
        assert_eq!(apply("abc", &edits), "abZ");
        let edits = [Edit::insert(F, 50, "!")];
        assert_eq!(apply("abc", &edits), "abc!");
    }

    #[test]
    fn an_overlapping_edit_is_skipped_not_garbled() {
        let edits = [
            Edit::replace(F, TextRange::new(0, 3), "X"),
            Edit::replace(F, TextRange::new(2, 4), "Y"),
        ];
        assert_eq!(apply("abcdef", &edits), "Xdef");
    }

    #[test]
    fn bytes_outside_edits_are_kept_exactly() {
        let text = b"a\xff\r\nb\r\n";
        let e = Edit::replace(F, TextRange::new(4, 5), "c");
        assert_eq!(apply_edits(text, &[&e]), b"a\xff\r\nc\r\n");
    }

    fn diag(rule: &'static str, fix: Fix) -> Diagnostic {
        Diagnostic::new(rule, Severity::Warning, F, TextRange::new(0, 1), "m").with_fix(fix)
    }

    fn names<'a>(chosen: &[&'a Diagnostic]) -> Vec<&'a str> {
        chosen.iter().map(|d| d.rule).collect()
    }

    #[test]
    fn selection_sorts_by_position_and_skips_overlaps() {
        let diags = vec![
            diag(
                "late",
                Fix::new(
                    "l",
                    Applicability::Safe,
                    vec![Edit::replace(F, TextRange::new(10, 12), "x")],
                ),
            ),
            diag(
                "early",
                Fix::new(
                    "e",
                    Applicability::Safe,
                    vec![Edit::replace(F, TextRange::new(0, 5), "x")],
                ),
            ),
            diag(
                "clash",
                Fix::new(
                    "c",
                    Applicability::Safe,
                    vec![Edit::replace(F, TextRange::new(4, 6), "x")],
                ),
            ),
            diag(
                "adjacent",
                Fix::new("a", Applicability::Safe, vec![Edit::insert(F, 5, "x")]),
            ),
        ];
        assert_eq!(
            names(&select_fixes(&diags, Applicability::Safe)),
            ["early", "adjacent", "late"]
        );
    }

    #[test]
    fn selection_respects_the_level_and_never_takes_display_only() {
        let e = |s, t| vec![Edit::replace(F, TextRange::new(s, t), "x")];
        let diags = vec![
            diag("safe", Fix::new("s", Applicability::Safe, e(0, 1))),
            diag("unsafe", Fix::new("u", Applicability::Unsafe, e(2, 3))),
            diag("shown", Fix::new("d", Applicability::DisplayOnly, e(4, 5))),
            Diagnostic::new("nofix", Severity::Error, F, TextRange::new(6, 7), "m"),
        ];
        assert_eq!(names(&select_fixes(&diags, Applicability::Safe)), ["safe"]);
        assert_eq!(
            names(&select_fixes(&diags, Applicability::Unsafe)),
            ["safe", "unsafe"]
        );
        assert_eq!(
            names(&select_fixes(&diags, Applicability::DisplayOnly)),
            ["safe", "unsafe"]
        );
    }

    #[test]
    fn a_multi_file_fix_is_taken_whole_or_not_at_all() {
        let diags = vec![
            diag(
                "first",
                Fix::new(
                    "a",
                    Applicability::Safe,
                    vec![Edit::replace(G, TextRange::new(0, 4), "x")],
                ),
            ),
            // Its edit in F is free, but its edit in G clashes: the whole fix waits.
            diag(
                "both",
                Fix::new(
                    "b",
                    Applicability::Safe,
                    vec![
                        Edit::replace(F, TextRange::new(0, 2), "y"),
                        Edit::replace(G, TextRange::new(2, 3), "z"),
                    ],
                ),
            ),
            diag(
                "third",
                Fix::new(
                    "c",
                    Applicability::Safe,
                    vec![Edit::replace(F, TextRange::new(1, 2), "w")],
                ),
            ),
        ];
        // "both" sorts first (file F before G) and is taken; "first" clashes in G, "third" in F.
        assert_eq!(names(&select_fixes(&diags, Applicability::Safe)), ["both"]);
    }

    #[test]
    fn a_fix_whose_own_edits_overlap_or_that_has_none_is_never_taken() {
        let diags = vec![
            diag(
                "self",
                Fix::new(
                    "s",
                    Applicability::Safe,
                    vec![
                        Edit::replace(F, TextRange::new(0, 3), "a"),
                        Edit::replace(F, TextRange::new(2, 4), "b"),
                    ],
                ),
            ),
            diag("empty", Fix::new("e", Applicability::Safe, vec![])),
            diag(
                "ok",
                Fix::new(
                    "o",
                    Applicability::Safe,
                    vec![Edit::replace(F, TextRange::new(1, 2), "c")],
                ),
            ),
        ];
        assert_eq!(names(&select_fixes(&diags, Applicability::Safe)), ["ok"]);
    }

    proptest::proptest! {
        // No failure file at the crate root: a failing case is copied into a named test.
        #![proptest_config(proptest::prelude::ProptestConfig {
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]
        /// Whatever fixes the rules propose, the chosen ones never overlap, and applying
        /// them equals applying their edits one by one from the end of the text.
        #[test]
        fn chosen_fixes_apply_like_one_by_one_from_the_end(
            text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            raw in proptest::collection::vec((0u32..45, 0u32..6, "[a-z\\n]{0,3}"), 0..8),
        ) {
            let diags: Vec<Diagnostic> = raw
                .iter()
                .map(|(start, len, rep)| {
                    // Ranges inside the text (clamping is tested on its own above).
                    let n = text.len() as u32;
                    let start = start % (n + 1);
                    let range = TextRange::new(start, (start + len).min(n));
                    diag("r", Fix::new("f", Applicability::Safe, vec![Edit::replace(F, range, rep.clone())]))
                })
                .collect();
            let chosen = select_fixes(&diags, Applicability::Safe);
            let edits: Vec<&Edit> = chosen.iter().map(|d| &d.fix.as_ref().unwrap().edits[0]).collect();
            for (i, a) in edits.iter().enumerate() {
                for b in &edits[i + 1..] {
                    proptest::prop_assert!(!a.range.overlaps(b.range));
                }
            }
            let got = apply_edits(&text, &edits);
            let mut sorted = edits.clone();
            sorted.sort_by_key(|e| (e.range.start, e.range.end));
            let mut expected = text.clone();
            for e in sorted.iter().rev() {
                let end = (e.range.end as usize).min(expected.len());
                let start = (e.range.start as usize).min(end);
                expected.splice(start..end, e.replacement.bytes());
            }
            proptest::prop_assert_eq!(got, expected);
        }
    }
}

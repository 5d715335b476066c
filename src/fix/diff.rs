//! Unified diffs of fixed files that `git apply` and `patch -p1` accept.

use similar::{DiffTag, TextDiff};

/// The path as it goes after `a/` and `b/` in a diff header: `./` prefixes and the
/// leading `/` of an absolute path are dropped, so the diff applies with `-p1` from the
/// directory the path is relative to (`/` for an absolute one).
pub fn diff_path(display: &str) -> String {
    let mut p = display;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            break;
        }
    }
    p.to_string()
}

/// Lines of context around each change, as `diff -u` prints.
const CONTEXT: usize = 3;

/// What happens to one line in the diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tag {
    Equal,
    Delete,
    Insert,
}

/// One line of the diff: what happens to it, and where it stands in both texts (for a
/// deleted line, `new` is the number of new lines before it; for an inserted one, `old`
/// is the number of old lines before it).
#[derive(Clone, Copy, Debug)]
struct LineChange {
    tag: Tag,
    old: usize,
    new: usize,
}

/// Every line of both texts in diff order. Positions come from walking the operations'
/// lengths, not from their own indices: similar's Myers implementation can report a
/// `Delete` with a `new_index` past the hunk (seen with similar 2.7), which would give
/// a hunk header `patch` rejects.
fn line_changes(old: &[&[u8]], new: &[&[u8]]) -> Vec<LineChange> {
    let diff = TextDiff::configure()
        .newline_terminated(true)
        .diff_slices(old, new);
    let (mut o, mut n) = (0usize, 0usize);
    let mut lines = Vec::with_capacity(old.len().max(new.len()));
    for op in diff.ops() {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => {
                for _ in old_range {
                    lines.push(LineChange {
                        tag: Tag::Equal,
                        old: o,
                        new: n,
                    });
                    o += 1;
                    n += 1;
                }
            }
            DiffTag::Delete | DiffTag::Insert | DiffTag::Replace => {
                for _ in old_range {
                    lines.push(LineChange {
                        tag: Tag::Delete,
                        old: o,
                        new: n,
                    });
                    o += 1;
                }
                for _ in new_range {
                    lines.push(LineChange {
                        tag: Tag::Insert,
                        old: o,
                        new: n,
                    });
                    n += 1;
                }
            }
        }
    }
    lines
}

/// The ranges of `lines` that make hunks: each change with `context` lines around it,
/// merging hunks whose context would touch.
fn hunks(lines: &[LineChange], context: usize) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, _) in lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.tag != Tag::Equal)
    {
        let start = i.saturating_sub(context);
        let end = (i + context + 1).min(lines.len());
        match out.last_mut() {
            Some(last) if start <= last.end => last.end = end,
            _ => out.push(start..end),
        }
    }
    out
}

/// One hunk: its `@@ -a,b +c,d @@` header, then its lines.
fn write_hunk(out: &mut Vec<u8>, hunk: &[LineChange], old: &[&[u8]], new: &[&[u8]]) {
    let old_count = hunk.iter().filter(|l| l.tag != Tag::Insert).count();
    let new_count = hunk.iter().filter(|l| l.tag != Tag::Delete).count();
    let first = hunk.first().map_or((0, 0), |l| (l.old, l.new));
    out.extend_from_slice(
        format!(
            "@@ -{} +{} @@\n",
            hunk_range(first.0, old_count),
            hunk_range(first.1, new_count)
        )
        .as_bytes(),
    );
    for l in hunk {
        let (marker, line) = match l.tag {
            Tag::Equal => (b' ', old[l.old]),
            Tag::Delete => (b'-', old[l.old]),
            Tag::Insert => (b'+', new[l.new]),
        };
        out.push(marker);
        out.extend_from_slice(line);
        if !line.ends_with(b"\n") {
            out.extend_from_slice(b"\n\\ No newline at end of file\n");
        }
    }
}

/// `start,count` of a hunk side as GNU diff writes it: 1-based start, `,count` left out
/// when it is 1, and for an empty side the line after which the change goes.
fn hunk_range(first: usize, count: usize) -> String {
    match count {
        0 => format!("{first},0"),
        1 => format!("{}", first + 1),
        n => format!("{},{n}", first + 1),
    }
}

/// The lines of a text, each with its `\n`; only LF ends a line, as for `patch` and
/// `git apply` (similar's own splitter also ends lines at a lone CR, which would make
/// hunks those tools misread).
fn split_lines(text: &[u8]) -> Vec<&[u8]> {
    text.split_inclusive(|b| *b == b'\n').collect()
}

/// A header line `--- a/PATH` (or `+++ b/PATH`). A path holding a space, a quote, a
/// backslash or a control character is written in git's C-style quotes, which both
/// `git apply` and GNU patch (since 2.7) read.
fn header_line(marker: &str, prefix: &str, path: &str) -> String {
    // GNU patch ends an unquoted name at the first space; git and patch both read quotes.
    let needs_quotes = path
        .chars()
        .any(|c| c == '"' || c == '\\' || c == ' ' || c.is_control());
    if !needs_quotes {
        return format!("{marker} {prefix}{path}\n");
    }
    let mut quoted = String::new();
    for c in path.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\t' => quoted.push_str("\\t"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    quoted.push_str(&format!("\\{b:03o}"));
                }
            }
            c => quoted.push(c),
        }
    }
    format!("{marker} \"{prefix}{quoted}\"\n")
}

/// The unified diff from `old` to `new` of the file the user named `old_path_display`,
/// with `--- a/PATH` / `+++ b/PATH` headers and 3 lines of context; empty when the texts
/// are equal.
///
/// The diff works on bytes: CRLF line ends and non-UTF-8 bytes come out exactly as they
/// are in the file, and a last line without a newline gets `\ No newline at end of file`.
pub fn unified_diff(old_path_display: &str, old: &[u8], new: &[u8]) -> Vec<u8> {
    if old == new {
        return Vec::new();
    }
    let path = diff_path(old_path_display);
    let mut out = Vec::new();
    out.extend_from_slice(header_line("---", "a/", &path).as_bytes());
    out.extend_from_slice(header_line("+++", "b/", &path).as_bytes());
    let old_lines = split_lines(old);
    let new_lines = split_lines(new);
    let lines = line_changes(&old_lines, &new_lines);
    for hunk in hunks(&lines, CONTEXT) {
        write_hunk(&mut out, &lines[hunk], &old_lines, &new_lines);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::{Command, Stdio};

    fn diff_str(path: &str, old: &str, new: &str) -> String {
        String::from_utf8(unified_diff(path, old.as_bytes(), new.as_bytes())).unwrap()
    }

    #[test]
    fn equal_texts_give_no_diff() {
        assert!(unified_diff("a.conf", b"x\n", b"x\n").is_empty());
    }

    #[test]
    fn headers_hunk_and_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        assert_eq!(
            diff_str("./etc/app.conf", old, new),
            "--- a/etc/app.conf\n+++ b/etc/app.conf\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        );
    }

    #[test]
    fn absolute_paths_lose_their_leading_slash() {
        assert_eq!(diff_path("/etc/nginx/nginx.conf"), "etc/nginx/nginx.conf");
        assert_eq!(diff_path("././a/b"), "a/b");
        assert_eq!(diff_path("a/./b"), "a/./b");
    }

    #[test]
    fn odd_paths_are_quoted_like_git() {
        assert_eq!(
            header_line("---", "a/", "x\ty\"z"),
            "--- \"a/x\\ty\\\"z\"\n"
        );
        assert_eq!(
            header_line("+++", "b/", "my site.conf"),
            "+++ \"b/my site.conf\"\n"
        );
        assert_eq!(header_line("+++", "b/", "café.conf"), "+++ b/café.conf\n");
    }

    #[test]
    fn missing_final_newline_is_marked() {
        let d = diff_str("f", "a\nb", "a\nc");
        assert_eq!(
            d,
            "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn crlf_and_invalid_bytes_are_kept() {
        let d = unified_diff("f", b"a\r\n\xff\r\n", b"a\r\nb\xfe\r\n");
        assert_eq!(
            d,
            b"--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\r\n-\xff\r\n+b\xfe\r\n".to_vec()
        );
    }

    /// Write `old` at `rel` under a fresh folder, apply the diff with `program args` from
    /// that folder, and return the file's new bytes; `None` when the program is absent.
    fn apply_with(
        program: &str,
        args: &[&str],
        rel: &str,
        old: &[u8],
        new: &[u8],
    ) -> Option<Vec<u8>> {
        let probe = Command::new(program)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if probe.is_err() {
            eprintln!("skipping: `{program}` is not on PATH");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(rel);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, old).unwrap();
        let patch = unified_diff(rel, old, new);
        std::fs::write(dir.path().join("fix.patch"), &patch).unwrap();
        let output = Command::new(program)
            .args(args)
            .current_dir(dir.path())
            .stdin(std::fs::File::open(dir.path().join("fix.patch")).unwrap())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{program} failed: {}\n{}\npatch:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&patch)
        );
        Some(std::fs::read(Path::new(&file)).unwrap())
    }

    fn cases() -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
        let long: String = (1..40).map(|i| format!("line {i};\n")).collect();
        let long_new = long
            .replace("line 5;", "line five;")
            .replace("line 30;\n", "");
        vec![
            (
                "etc/nginx/app.conf",
                long.into_bytes(),
                long_new.into_bytes(),
            ),
            ("no-newline.conf", b"a\nb\nc".to_vec(), b"a\nB\nc".to_vec()),
            ("add-newline.conf", b"a\nb".to_vec(), b"a\nb\nc\n".to_vec()),
            (
                "pool.d/www.conf",
                b"[www]\r\npm = static\r\n".to_vec(),
                b"[www]\r\npm = dynamic\r\npm.max_children = 5\r\n".to_vec(),
            ),
            (
                "latin1.ini",
                b"; caf\xe9\nmemory_limit = 8M\n".to_vec(),
                b"; caf\xe9\nmemory_limit = 128M\n".to_vec(),
            ),
            ("my site.conf", b"x\n".to_vec(), b"y\n".to_vec()),
            ("lone-cr.conf", b"a\rb\nc\n".to_vec(), b"a\rB\nc\n".to_vec()),
            ("ends-in-cr.conf", b"a\nb\r".to_vec(), b"a\nc\r".to_vec()),
            ("odd \"name\"\\.conf", b"x\n".to_vec(), b"z\n".to_vec()),
        ]
    }

    #[test]
    fn git_apply_accepts_the_diff() {
        for (rel, old, new) in cases() {
            match apply_with("git", &["apply", "-"], rel, &old, &new) {
                Some(got) => assert_eq!(got, new, "git apply on {rel}"),
                None => return,
            }
        }
    }

    #[test]
    fn patch_p1_accepts_the_diff() {
        for (rel, old, new) in cases() {
            match apply_with("patch", &["-p1", "--quiet"], rel, &old, &new) {
                Some(got) => assert_eq!(got, new, "patch -p1 on {rel}"),
                None => return,
            }
        }
    }

    /// Found by `any_diff_applies`: similar's Myers ops put this delete at new line 16,
    /// and a header built from them (`@@ -1,3 +16,2 @@`) made git and patch fail.
    #[test]
    fn a_leading_delete_gets_a_correct_hunk_header() {
        let old = b" \n\na".to_vec();
        let mut new = vec![b'\n'; 16];
        new.push(b'a');
        let d = String::from_utf8(unified_diff("p.conf", &old, &new)).unwrap();
        assert!(d.contains("\n@@ -1,3 +1,17 @@\n- \n \n+\n"), "{d}");
        if let Some(got) = apply_with("patch", &["-p1", "--quiet"], "p.conf", &old, &new) {
            assert_eq!(got, new);
        }
        if let Some(got) = apply_with("git", &["apply", "-"], "p.conf", &old, &new) {
            assert_eq!(got, new);
        }
    }

    #[test]
    fn hunk_ranges_follow_gnu_diff() {
        assert_eq!(hunk_range(0, 0), "0,0");
        assert_eq!(hunk_range(4, 0), "4,0");
        assert_eq!(hunk_range(4, 1), "5");
        assert_eq!(hunk_range(4, 3), "5,3");
    }

    #[test]
    fn distant_changes_make_two_hunks_and_close_ones_merge() {
        let text = |changed: &[(usize, &str)]| -> String {
            (1..=20)
                .map(|i| match changed.iter().find(|(at, _)| *at == i) {
                    Some((_, s)) => format!("{s}\n"),
                    None => format!("{i}\n"),
                })
                .collect()
        };
        let old = text(&[]);
        let d = diff_str("f", &old, &text(&[(2, "two"), (19, "nineteen")]));
        assert_eq!(d.matches("\n@@ ").count(), 2, "{d}");
        assert!(
            d.contains("@@ -1,5 +1,5 @@") && d.contains("@@ -16,5 +16,5 @@"),
            "{d}"
        );
        // Six equal lines between two changes still make one hunk (3 + 3 context).
        let d = diff_str("f", &old, &text(&[(2, "two"), (9, "nine")]));
        assert_eq!(d.matches("\n@@ ").count(), 1, "{d}");
        assert!(d.contains("@@ -1,12 +1,12 @@"), "{d}");
        // Seven make two.
        let d = diff_str("f", &old, &text(&[(2, "two"), (10, "ten")]));
        assert_eq!(d.matches("\n@@ ").count(), 2, "{d}");
    }

    /// Texts of a few short lines over a small alphabet with CR, LF and an invalid byte,
    /// so diffs get context, several hunks and missing final newlines.
    fn text() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            proptest::sample::select(b"ab -+@\\ \r\n\n\n\xff".to_vec()),
            0..60,
        )
    }

    proptest::proptest! {
        // No failure file: a failing case is copied into a named test instead.
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 24,
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]
        /// Whatever the two texts, `git apply` and `patch -p1` turn old into new.
        #[test]
        fn any_diff_applies(old in text(), new in text()) {
            proptest::prop_assume!(old != new);
            if let Some(got) = apply_with("git", &["apply", "-"], "p.conf", &old, &new) {
                proptest::prop_assert_eq!(&got, &new);
            }
            if let Some(got) = apply_with("patch", &["-p1", "--quiet"], "p.conf", &old, &new) {
                proptest::prop_assert_eq!(&got, &new);
            }
        }
    }
}

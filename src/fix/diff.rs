//! Unified diffs of fixed files that `git apply` and `patch -p1` accept.

use similar::TextDiff;
use std::io::Write;

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
    let diff = TextDiff::from_lines(old, new);
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        // Writing to a Vec cannot fail; the hunk's own writer keeps the bytes as they are
        // (its Display would turn invalid UTF-8 into U+FFFD).
        let _ = hunk.to_writer(&mut out);
    }
    let _ = out.flush();
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
}

//! Glob patterns matched against the file system the way glob(3) matches them for nginx's
//! `include` and PHP-FPM's `include`: component by component, `*`, `?` and `[…]` within
//! one name, a leading `.` only matched literally, and only paths that exist.
//!
//! The `glob` crate's own walker is not used for this: it panics on a file name that is
//! not UTF-8 (nginx includes such a file like any other, and so does this), and it sorts
//! and tracks more than an include needs.

use std::path::{Path, PathBuf};

/// How a name (or, for in-memory sources, a whole path) is matched: as glob(3) does
/// without flags.
pub fn match_options() -> glob::MatchOptions {
    glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    }
}

/// True when `s` holds a glob metacharacter (nginx tests `strpbrk(file, "*?[")`).
pub fn has_magic(s: &str) -> bool {
    has_magic_bytes(s.as_bytes())
}

/// [`has_magic`] for a pattern that may not be UTF-8.
pub fn has_magic_bytes(pattern: &[u8]) -> bool {
    pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'['))
}

/// The existing paths that match `pattern`, in no particular order. A malformed pattern
/// (`[` without its `]`) matches nothing; folders that cannot be read are skipped. A
/// pattern ending in `/` matches folders only.
pub fn fs_glob(pattern: &str) -> Vec<PathBuf> {
    let folders_only = pattern.len() > 1 && pattern.ends_with('/');
    let mut found = glob_typed(pattern);
    found.retain(|(p, kind)| match kind {
        // A name read from its folder exists; only its kind may need a look.
        Some(k) if folders_only => k.is_dir() || (k.is_symlink() && p.is_dir()),
        Some(_) => true,
        None if folders_only => p.is_dir(),
        None => p.symlink_metadata().is_ok(),
    });
    found.into_iter().map(|(p, _)| p).collect()
}

/// [`fs_glob`] without the folders (and links to folders): what an include reads. The
/// kind of each match comes from its folder's listing where the system gives it, so most
/// matches cost no `stat`.
pub fn fs_glob_files(pattern: &str) -> Vec<PathBuf> {
    if pattern.len() > 1 && pattern.ends_with('/') {
        return Vec::new();
    }
    let mut found = glob_typed(pattern);
    found.retain(|(p, kind)| match kind {
        Some(k) if k.is_dir() => false,
        Some(k) if k.is_symlink() => !p.is_dir(),
        Some(_) => true,
        None => p.symlink_metadata().is_ok() && !p.is_dir(),
    });
    found.into_iter().map(|(p, _)| p).collect()
}

/// The candidate paths of a pattern, each with its kind when the last component was read
/// from a folder listing (which proves it exists), or `None` when the last component
/// was literal (its existence is not checked yet).
fn glob_typed(pattern: &str) -> Vec<(PathBuf, Option<std::fs::FileType>)> {
    let absolute = pattern.starts_with('/');
    // `.` components change nothing (`./conf.d/*` lists `conf.d/…`, as the glob crate
    // and glob(3) do).
    let parts: Vec<&str> = pattern
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if parts.is_empty() {
        return Vec::new();
    }
    let mut current: Vec<(PathBuf, Option<std::fs::FileType>)> = vec![(
        if absolute {
            PathBuf::from("/")
        } else {
            PathBuf::new()
        },
        None,
    )];
    for part in parts {
        if !has_magic(part) {
            for (p, kind) in &mut current {
                p.push(part);
                *kind = None;
            }
            continue;
        }
        let Ok(pat) = glob::Pattern::new(part) else {
            return Vec::new();
        };
        let mut next = Vec::new();
        for (base, _) in &current {
            let folder = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base.as_path()
            };
            let Ok(entries) = std::fs::read_dir(folder) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                // A name that is not UTF-8 is matched with its bad bytes replaced (they
                // can only match a wildcard, as in glob(3)), and kept as it is.
                if pat.matches_with(&name.to_string_lossy(), match_options()) {
                    next.push((base.join(&name), entry.file_type().ok()));
                }
            }
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(mut v: Vec<PathBuf>, base: &Path) -> Vec<String> {
        v.sort();
        v.iter()
            .map(|p| p.strip_prefix(base).unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn matches_component_by_component() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in [
            "a/x.conf",
            "a/y.conf",
            "a/.hidden.conf",
            "b/x.conf",
            "b/z.txt",
            "c/sub/x.conf",
        ] {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        let g = |p: &str| names(fs_glob(&format!("{}/{p}", d.display())), d);
        assert_eq!(g("a/*.conf"), ["a/x.conf", "a/y.conf"]);
        assert_eq!(g("a/.*.conf"), ["a/.hidden.conf"]);
        assert_eq!(g("*/x.conf"), ["a/x.conf", "b/x.conf"]);
        assert_eq!(
            g("?/*"),
            ["a/x.conf", "a/y.conf", "b/x.conf", "b/z.txt", "c/sub"]
        );
        assert_eq!(g("[ab]/x.conf"), ["a/x.conf", "b/x.conf"]);
        assert_eq!(g("*/sub/*.conf"), ["c/sub/x.conf"]);
        assert_eq!(g("*/"), ["a", "b", "c"]);
        assert_eq!(g("./a/./x*"), ["a/x.conf"]);
        assert!(g("a/missing.conf").is_empty());
        assert!(g("[").is_empty());
        assert!(g("nope/*").is_empty());
        // `**` is two `*` within one name for glob(3), not a recursive walk.
        assert_eq!(g("**/x.conf"), ["a/x.conf", "b/x.conf"]);
        let files = |p: &str| names(fs_glob_files(&format!("{}/{p}", d.display())), d);
        assert_eq!(
            files("?/*"),
            ["a/x.conf", "a/y.conf", "b/x.conf", "b/z.txt"]
        );
        assert_eq!(files("c/*"), Vec::<String>::new());
        assert_eq!(files("c/sub/x.conf"), ["c/sub/x.conf"]);
        assert_eq!(files("c/sub"), Vec::<String>::new());
        assert_eq!(files("*/"), Vec::<String>::new());
        assert!(files("a/missing.conf").is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn links_count_as_what_they_point_at() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("real/dir")).unwrap();
        std::fs::write(d.join("real/file.conf"), "").unwrap();
        std::fs::create_dir_all(d.join("links")).unwrap();
        std::os::unix::fs::symlink(d.join("real/dir"), d.join("links/to-dir")).unwrap();
        std::os::unix::fs::symlink(d.join("real/file.conf"), d.join("links/to-file")).unwrap();
        std::os::unix::fs::symlink(d.join("nowhere"), d.join("links/dangling")).unwrap();
        let files = |p: &str| names(fs_glob_files(&format!("{}/{p}", d.display())), d);
        let all = |p: &str| names(fs_glob(&format!("{}/{p}", d.display())), d);
        // A dangling link is kept: reading it reports the error, as nginx does.
        assert_eq!(files("links/*"), ["links/dangling", "links/to-file"]);
        assert_eq!(all("links/*/"), ["links/to-dir"]);
        assert_eq!(
            all("links/*"),
            ["links/dangling", "links/to-dir", "links/to-file"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_match_wildcards_in_any_component() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let bad = std::ffi::OsStr::from_bytes(b"\xff\xfe");
        std::fs::create_dir_all(d.join("x1/sub")).unwrap();
        std::fs::create_dir_all(d.join(bad).join("sub")).unwrap();
        std::fs::write(d.join("x1/sub/a.conf"), "").unwrap();
        std::fs::write(d.join("x1/sub").join(bad), "").unwrap();
        std::fs::write(d.join(bad).join("sub/b.conf"), "").unwrap();
        let mut found = fs_glob(&format!("{}/*/sub/*", d.display()));
        found.sort();
        let mut want = vec![
            d.join("x1/sub/a.conf"),
            d.join("x1/sub").join(bad),
            d.join(bad).join("sub/b.conf"),
        ];
        want.sort();
        assert_eq!(found, want);
        // Only a wildcard matches the bad bytes.
        assert_eq!(fs_glob(&format!("{}/x1/sub/*.conf", d.display())).len(), 1);
    }
}

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
    let absolute = pattern.starts_with('/');
    let folders_only = pattern.len() > 1 && pattern.ends_with('/');
    // `.` components change nothing (`./conf.d/*` lists `conf.d/…`, as the glob crate
    // and glob(3) do).
    let parts: Vec<&str> = pattern
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if parts.is_empty() {
        return Vec::new();
    }
    let mut current: Vec<PathBuf> = vec![if absolute {
        PathBuf::from("/")
    } else {
        PathBuf::new()
    }];
    for part in parts {
        if !has_magic(part) {
            for p in &mut current {
                p.push(part);
            }
            continue;
        }
        let Ok(pat) = glob::Pattern::new(part) else {
            return Vec::new();
        };
        let mut next = Vec::new();
        for base in &current {
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
                    next.push(base.join(&name));
                }
            }
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    current.retain(|p| {
        if folders_only {
            p.is_dir()
        } else {
            p.symlink_metadata().is_ok()
        }
    });
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

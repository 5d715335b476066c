//! Writing a fixed file without ever leaving a half-written one behind.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// How many symbolic links [`write_atomic`] follows before giving up (Linux's limit).
const MAX_SYMLINKS: usize = 40;

/// Replace the contents of `path` with `bytes` atomically: write a temporary file in the
/// same directory, flush it to disk, give it the original file's permissions (and, on
/// unix, its owner and group where the process may), then rename it over the original.
///
/// A symbolic link is followed: the file it points to is replaced and the link stays. A
/// reader sees the old or the new contents, never a mix. Changing the owner is best
/// effort: an unprivileged process may not give a file away, and a file system may not
/// support owners; the write goes on either way.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let target = resolve_symlinks(path)?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let original = fs::metadata(&target).ok();
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    tmp.write_all(bytes)?;
    if let Some(meta) = &original {
        tmp.as_file().set_permissions(meta.permissions())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            // Ignored on purpose: EPERM for a file owned by someone else, EINVAL/ENOTSUP
            // on file systems without owners. The contents matter more than the owner.
            let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid()));
        }
    }
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    #[cfg(unix)]
    {
        // Make the rename itself durable; not every file system allows syncing a folder.
        if let Ok(d) = fs::File::open(&dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// The path a patch names for the file at `path`, to be applied from `base`: the file a
/// symlink points to (what `--fix` writes; `git apply` does not follow symlinks), relative
/// to `base` when it lies inside it, else absolute (applied from `/`). A path that stays
/// relative holds no `..`, which `git apply` refuses.
pub fn patch_path(path: &Path, base: &Path) -> PathBuf {
    let target = resolve_symlinks(path).unwrap_or_else(|_| path.to_path_buf());
    let plain = target.is_relative()
        && target
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if plain && target == path {
        return target;
    }
    let physical = |p: &Path| -> Option<PathBuf> {
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(fs::canonicalize(base.join(dir)).ok()?.join(p.file_name()?))
    };
    let Some(abs) = physical(&target) else {
        return target;
    };
    match fs::canonicalize(base)
        .ok()
        .and_then(|b| abs.strip_prefix(b).ok().map(Path::to_path_buf))
    {
        Some(rel) if !rel.as_os_str().is_empty() => rel,
        _ => abs,
    }
}

/// Follow `path` while it is a symbolic link; a path that does not exist is returned as is.
fn resolve_symlinks(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("too many levels of symbolic links: {}", path.display()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_contents() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.conf");
        fs::write(&p, b"old contents\n").unwrap();
        write_atomic(&p, b"new\r\n\xff").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new\r\n\xff");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_mode_and_owner() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("www.conf");
        fs::write(&p, b"x").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let before = fs::metadata(&p).unwrap();
        write_atomic(&p, b"y").unwrap();
        let after = fs::metadata(&p).unwrap();
        assert_eq!(after.permissions().mode() & 0o7777, 0o640);
        assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
        assert_ne!(
            after.ino(),
            before.ino(),
            "the file was replaced, not rewritten in place"
        );
        assert_eq!(fs::read(&p).unwrap(), b"y");
    }

    #[cfg(unix)]
    #[test]
    fn follows_symlinks_and_keeps_the_link() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sites-available")).unwrap();
        fs::create_dir(dir.path().join("sites-enabled")).unwrap();
        let target = dir.path().join("sites-available/app");
        let link = dir.path().join("sites-enabled/app");
        fs::write(&target, b"old").unwrap();
        std::os::unix::fs::symlink("../sites-available/app", &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&target).unwrap(), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_is_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::os::unix::fs::symlink("b", &a).unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
        assert!(write_atomic(&a, b"x").is_err());
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_atomic(&dir.path().join("no/such/file"), b"x").is_err());
    }
}

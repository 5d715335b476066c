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
    stage(path, bytes, None)?.commit()
}

/// A file's new contents, complete and flushed in a temporary file beside it, not yet in
/// its place. Dropping it removes the temporary file and leaves the original as it was.
struct Staged {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
    dir: PathBuf,
}

/// Stage `bytes` as the new contents of `path` (see [`write_atomic`]). With `expected`,
/// the file must still hold exactly those bytes: a file changed on disk since it was
/// read is not overwritten.
fn stage(path: &Path, bytes: &[u8], expected: Option<&[u8]>) -> io::Result<Staged> {
    let target = resolve_symlinks(path)?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Some(expected) = expected {
        if fs::read(&target)? != expected {
            return Err(io::Error::other("it changed on disk since it was read"));
        }
    }
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
    Ok(Staged { tmp, target, dir })
}

impl Staged {
    /// Put the new contents in place with one rename.
    fn commit(self) -> io::Result<()> {
        self.tmp.persist(&self.target).map_err(|e| e.error)?;
        #[cfg(unix)]
        {
            // Make the rename itself durable; not every file system allows syncing a folder.
            if let Ok(d) = fs::File::open(&self.dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

/// One file of a [`write_all_or_none`]: where, the text it held when read, the new text.
pub struct Replacement<'a> {
    /// The file's path.
    pub path: &'a Path,
    /// Its contents when it was read.
    pub original: &'a [u8],
    /// Its new contents.
    pub fixed: &'a [u8],
}

/// Write every replacement or none: each new text is staged first (temporary file written,
/// flushed, permissions set, original unchanged on disk); only when all are staged are
/// they renamed into place. On any failure nothing is changed and the errors are returned
/// by index. A rename that fails after others succeeded (the folder changed under the
/// run) puts the renamed files' original texts back before returning.
pub fn write_all_or_none(items: &[Replacement<'_>]) -> Result<(), Vec<(usize, io::Error)>> {
    let mut staged = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, r) in items.iter().enumerate() {
        match stage(r.path, r.fixed, Some(r.original)) {
            Ok(s) => staged.push(s),
            Err(e) => errors.push((i, e)),
        }
    }
    if !errors.is_empty() {
        // Dropping the staged files removes their temporary files.
        return Err(errors);
    }
    for (i, s) in staged.into_iter().enumerate() {
        if let Err(e) = s.commit() {
            errors.push((i, e));
            for (j, done) in items.iter().enumerate().take(i) {
                if let Err(e) = write_atomic(done.path, done.original) {
                    errors.push((j, io::Error::other(format!("could not be put back: {e}"))));
                }
            }
            // The rest stay staged until dropped here, which removes their temporary files.
            return Err(errors);
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
    fn writes_all_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.conf"), dir.path().join("b.conf"));
        fs::write(&a, b"a\n").unwrap();
        fs::write(&b, b"b changed by someone else\n").unwrap();
        let items = [
            Replacement {
                path: &a,
                original: b"a\n",
                fixed: b"A\n",
            },
            Replacement {
                path: &b,
                original: b"b\n",
                fixed: b"B\n",
            },
        ];
        let errors = write_all_or_none(&items).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, 1);
        assert!(
            errors[0].1.to_string().contains("changed on disk"),
            "{}",
            errors[0].1
        );
        // Neither file changed, and no temporary file is left behind.
        assert_eq!(fs::read(&a).unwrap(), b"a\n");
        assert_eq!(fs::read(&b).unwrap(), b"b changed by someone else\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);

        fs::write(&b, b"b\n").unwrap();
        write_all_or_none(&items).unwrap();
        assert_eq!(fs::read(&a).unwrap(), b"A\n");
        assert_eq!(fs::read(&b).unwrap(), b"B\n");
    }

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

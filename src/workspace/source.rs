//! Where a run reads files from: the disk, seen through an optional root folder, with
//! in-memory texts laid over it (stdin, an editor's unsaved buffer, the texts of a fix
//! round).

use crate::syntax::nginx::{FileSource, FsSource, SharedOpen};
use std::collections::HashMap;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// The file source of a run.
///
/// A configuration copied out of a machine (`deploy/etc/nginx/…`, or the bundled example
/// stack) names absolute paths such as `/etc/nginx/mime.types`. When the run has a root
/// folder (the folder above an `etc` folder the user named), an absolute path that exists
/// under the root is read from there, so the copy lints as the machine would read it.
#[derive(Debug, Default)]
pub struct StackSource {
    /// The folder that stands for `/`, when the inputs are a copy of a machine's tree.
    pub root: Option<PathBuf>,
    /// Where the folder the user named sits under the root, so a path inside it is
    /// written the way the user named it (see [`Anchor`]).
    pub anchor: Option<Anchor>,
    /// Texts that take the place of files on disk, by path (after root mapping).
    pub overlay: HashMap<PathBuf, Vec<u8>>,
    /// The deployment profile whose stock files stand in for those the tree lacks.
    pub profile: Option<&'static crate::profile::Profile>,
    /// True when the inputs are the machine's own folders (`/etc/nginx`): a missing file
    /// is missing then, and no stock file stands in for it.
    pub live: bool,
    /// The paths a stock file was read for, with that file.
    stock_used: std::sync::Mutex<std::collections::BTreeMap<PathBuf, &'static str>>,
    /// The disk, which opens the files an include glob announces ahead of their reads.
    disk: FsSource,
}

impl StackSource {
    /// A source reading the disk through `root`.
    pub fn new(root: Option<PathBuf>) -> Self {
        StackSource {
            root,
            anchor: None,
            overlay: HashMap::new(),
            profile: None,
            live: false,
            stock_used: Default::default(),
            disk: FsSource::new(),
        }
    }

    /// The path a file is really read from: absolute paths are looked up under the root
    /// first (in the overlay, then on disk).
    /// The result is in [`crate::source::clean_path`] form, the form files are known by.
    pub fn map(&self, path: &Path) -> PathBuf {
        crate::source::clean_path_buf(map_under_root(
            self.root.as_deref(),
            self.anchor.as_ref(),
            path,
        ))
    }

    /// The stock file of the run's profile that stands for `mapped` (a path as
    /// [`Self::map`] gives it, missing from the tree): inside a copy of a machine, the file
    /// at the same place on the machine; outside one, a file whose place below the nginx
    /// prefix ends the path. Never on the live machine.
    pub fn stock_for(&self, mapped: &Path) -> Option<&'static crate::profile::StockFile> {
        let profile = self.profile?;
        if self.live {
            return None;
        }
        match &self.root {
            Some(root) => {
                let machine = crate::profile::machine_path(root, mapped)
                    .or_else(|| mapped.is_absolute().then(|| mapped.to_path_buf()))?;
                profile.file(&machine)
            }
            None if mapped.is_absolute() => profile.file(mapped),
            None => profile.file_ending(mapped),
        }
    }

    /// The text of `mapped` from the profile when the disk said it is not there.
    fn or_stock(&self, mapped: &Path, e: io::Error) -> io::Result<Vec<u8>> {
        if e.kind() != io::ErrorKind::NotFound {
            return Err(e);
        }
        match self.stock_for(mapped) {
            Some(s) => {
                if let Ok(mut used) = self.stock_used.lock() {
                    used.insert(mapped.to_path_buf(), s.path);
                }
                Ok(s.text.to_vec())
            }
            None => Err(e),
        }
    }

    /// The paths a stock file was read for, with the stock file's machine path.
    pub fn stock_used(&self) -> Vec<(PathBuf, &'static str)> {
        self.stock_used
            .lock()
            .map(|m| m.iter().map(|(p, s)| (p.clone(), *s)).collect())
            .unwrap_or_default()
    }
}

/// A folder the user named inside a copy of a machine whose root was found above it
/// through the file system (`cd deploy/etc/nginx && gatelint check .`): `/etc/nginx/x`
/// is then written `x`, as the walk of `.` writes it, not `../../etc/nginx/x`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// The folder as the user named it.
    pub named: PathBuf,
    /// Its place under the root, relative (`etc/nginx`).
    pub under_root: PathBuf,
}

/// `root` joined with `rel` (a path relative to `/`), written through the anchor when
/// `rel` lies in the anchored folder.
fn join_under(root: &Path, anchor: Option<&Anchor>, rel: &Path) -> PathBuf {
    if let Some(a) = anchor {
        if let Ok(inside) = rel.strip_prefix(&a.under_root) {
            return crate::source::clean_path_buf(a.named.join(inside));
        }
    }
    crate::source::clean_path_buf(root.join(rel))
}

/// The path `path` is read from under `root`: an absolute path outside the root is read
/// from inside it, never from the machine the run is on (a copy that lacks a file lacks
/// it; the profile's stock file may stand in, see [`StackSource::stock_for`]).
fn map_under_root(root: Option<&Path>, anchor: Option<&Anchor>, path: &Path) -> PathBuf {
    if let Some(root) = root {
        if path.is_absolute() && !path.starts_with(root) {
            let rel: PathBuf = path
                .components()
                .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
                .collect();
            return join_under(root, anchor, &rel);
        }
    }
    path.to_path_buf()
}

impl StackSource {
    /// The identity of the file `path` reads on disk (device and inode, symlinks followed),
    /// or `None` for a text in memory or a file that cannot be read. Two paths with one
    /// identity are one file, however they were written (a symlink, `..`, absolute).
    pub fn identity(&self, path: &Path) -> Option<(u64, u64)> {
        let p = self.map(path);
        if self.overlay.contains_key(&p) {
            return None;
        }
        disk_identity(&p)
    }
}

#[cfg(unix)]
fn disk_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn disk_identity(_path: &Path) -> Option<(u64, u64)> {
    None
}

/// The files a load has reached so far, to skip an input that is one of them.
///
/// Paths are compared first (in their clean form); only when an input's path is not among
/// them are the files' on-disk identities looked at, once per run, so a complete tree whose
/// inputs are all reached by path costs no extra system call.
#[derive(Debug, Default)]
pub struct Reached {
    paths: crate::model::hash::FastSet<PathBuf>,
    /// The identities of `paths`, computed on first need and kept up to date after.
    identities: Option<crate::model::hash::FastSet<(u64, u64)>>,
}

impl Reached {
    /// Note a file as reached.
    pub fn insert(&mut self, source: &StackSource, path: PathBuf) {
        if let Some(ids) = &mut self.identities {
            if let Some(id) = source.identity(&path) {
                ids.insert(id);
            }
        }
        self.paths.insert(path);
    }

    /// Make room for `n` more files.
    pub fn reserve(&mut self, n: usize) {
        self.paths.reserve(n);
    }

    /// True when `path` names a file already reached, by path or by identity.
    pub fn contains(&mut self, source: &StackSource, path: &Path) -> bool {
        if self.paths.contains(path) {
            return true;
        }
        let Some(id) = source.identity(path) else {
            return false;
        };
        let paths = &self.paths;
        self.identities
            .get_or_insert_with(|| paths.iter().filter_map(|p| source.identity(p)).collect())
            .contains(&id)
    }
}

/// Opens disk files through a run's root, for the threads that read an include glob's
/// files ahead of the walk.
struct RootOpen {
    root: Option<PathBuf>,
    anchor: Option<Anchor>,
}

impl SharedOpen for RootOpen {
    fn open(&self, path: &Path) -> io::Result<std::fs::File> {
        crate::source::open_config(&map_under_root(
            self.root.as_deref(),
            self.anchor.as_ref(),
            path,
        ))
    }
}

impl StackSource {
    /// Check that `path` can be opened.
    pub fn check_path(&self, path: &Path) -> io::Result<()> {
        let p = self.map(path);
        if self.overlay.contains_key(&p) {
            return Ok(());
        }
        let opened = crate::source::open_config(&p);
        match opened.and_then(|f| crate::source::check_readable(&f)) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound && self.stock_for(&p).is_some() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Read a file (overlay first, then disk, then the profile's stock files), through the
    /// root.
    pub fn read_path(&self, path: &Path) -> io::Result<Vec<u8>> {
        let p = self.map(path);
        if let Some(t) = self.overlay.get(&p) {
            return Ok(t.clone());
        }
        crate::source::read_config(&p).or_else(|e| self.or_stock(&p, e))
    }

    /// The files (not folders) matching a glob pattern, through the root, overlay included.
    pub fn glob_paths(&self, pattern: &Path) -> io::Result<Vec<PathBuf>> {
        let options = crate::fsglob::match_options();
        // Under a root, an absolute pattern is matched inside the root.
        let mapped = match &self.root {
            Some(root) if pattern.is_absolute() && !pattern.starts_with(root) => {
                let rel: PathBuf = pattern
                    .components()
                    .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
                    .collect();
                join_under(root, self.anchor.as_ref(), &rel)
            }
            _ => pattern.to_path_buf(),
        };
        let mapped = crate::source::clean_path_buf(mapped);
        let Some(p) = mapped.to_str() else {
            return Ok(Vec::new());
        };
        let mut out: Vec<PathBuf> = crate::fsglob::fs_glob_files(p)
            .into_iter()
            .map(crate::source::clean_path_buf)
            .collect();
        if let Ok(pat) = glob::Pattern::new(p) {
            for k in self.overlay.keys() {
                if k.to_str().is_some_and(|s| pat.matches_with(s, options)) && !out.contains(k) {
                    out.push(k.clone());
                }
            }
        }
        Ok(out)
    }
}

impl FileSource for StackSource {
    fn check(&mut self, path: &Path) -> io::Result<()> {
        self.check_path(path)
    }

    fn read(&mut self, path: &Path) -> io::Result<Vec<u8>> {
        let p = self.map(path);
        match self.overlay.get(&p) {
            Some(t) => Ok(t.clone()),
            None => self.disk.read(&p).or_else(|e| self.or_stock(&p, e)),
        }
    }

    fn prefetch(&mut self, paths: &[PathBuf]) {
        let on_disk: Vec<PathBuf> = paths
            .iter()
            .map(|p| self.map(p))
            .filter(|p| !self.overlay.contains_key(p))
            .collect();
        self.disk.prefetch(&on_disk);
    }

    fn glob(&mut self, pattern: &Path) -> io::Result<Vec<PathBuf>> {
        self.glob_paths(pattern)
    }

    fn shared_open(&self) -> Option<Arc<dyn SharedOpen>> {
        // Texts in memory (stdin, a fix round) stay on the walk's thread.
        if !self.overlay.is_empty() {
            return None;
        }
        Some(Arc::new(RootOpen {
            root: self.root.clone(),
            anchor: self.anchor.clone(),
        }))
    }
}

impl crate::model::fpm::FileSource for StackSource {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.read_path(path)
    }

    fn glob(&self, pattern: &str) -> crate::model::fpm::GlobOutcome {
        use crate::model::fpm::GlobOutcome;
        let p = Path::new(pattern);
        // A folder of the pattern that cannot be read stops FPM (GLOB_ABORTED).
        let literal = p
            .ancestors()
            .skip(1)
            .find(|a| !a.as_os_str().to_string_lossy().contains(['*', '?', '[']));
        // FPM's glob runs with GLOB_MARK and skips the folders it marks: glob_paths
        // lists files only.
        let mut out = self.glob_paths(p).unwrap_or_default();
        if out.is_empty() {
            let dir_known = literal.is_some_and(|d| {
                let mapped = self.map(d);
                mapped.is_dir() || self.overlay.keys().any(|k| k.starts_with(&mapped))
            });
            if pattern.contains(['*', '?', '[']) && !dir_known {
                return GlobOutcome::Aborted;
            }
            return GlobOutcome::NoMatch;
        }
        out.sort();
        GlobOutcome::Matches(out)
    }
}

/// How many components above an `etc` folder the machine's `/` is: `etc` itself sits at
/// the top, but `usr/local/etc` (the official PHP images' prefix) and `opt/NAME/etc`
/// (software installed under /opt) sit deeper.
fn etc_depth(before: &[Component]) -> usize {
    let name = |i: usize| before.get(i).map(|c| c.as_os_str());
    let n = before.len();
    let usr_local = name(n.wrapping_sub(2)) == Some("usr".as_ref())
        && name(n.wrapping_sub(1)) == Some("local".as_ref());
    let opt = name(n.wrapping_sub(2)) == Some("opt".as_ref());
    if n >= 2 && (usr_local || opt) {
        2
    } else {
        0
    }
}

/// The root folder of a run: the folder that stands for `/` above the first `etc`
/// component of a path the user named (`deploy/etc/nginx` → `deploy`,
/// `image/usr/local/etc/php-fpm.d` → `image`), when there is one and it is not `/`; or a
/// named folder that holds `etc/`, `usr/local/etc/` or `opt/`.
pub fn root_of(path: &Path) -> Option<PathBuf> {
    let comps: Vec<Component> = path.components().collect();
    if let Some(at) = comps.iter().position(|c| c.as_os_str() == "etc") {
        let top = at - etc_depth(&comps[..at]);
        let acc: PathBuf = comps[..top].iter().collect();
        if acc.as_os_str().is_empty() {
            return Some(PathBuf::from("."));
        }
        if acc == Path::new("/") {
            return None;
        }
        return Some(acc);
    }
    // A folder that holds a machine's folders is a root too.
    if ["etc", "usr/local/etc", "opt"]
        .iter()
        .any(|d| path.join(d).is_dir())
    {
        return Some(path.to_path_buf());
    }
    None
}

/// The root of a run when the path's own words do not show one but the folder it names
/// lies inside a copy of a machine (`cd deploy/etc/nginx && gatelint check .`): the
/// folder above the `etc` of its physical path, written relative to the path (`../..`),
/// with the anchor that keeps the paths inside it as the user wrote them.
pub fn root_of_physical(path: &Path) -> Option<(PathBuf, Anchor)> {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    };
    let physical = std::fs::canonicalize(&dir).ok()?;
    let comps: Vec<Component> = physical.components().collect();
    let etc = comps.iter().position(|c| c.as_os_str() == "etc")?;
    let at = etc - etc_depth(&comps[..etc]);
    // `/etc` (or `/usr/local/etc`) itself is the machine, not a copy.
    if at <= 1 {
        return None;
    }
    let under_root: PathBuf = comps[at..].iter().collect();
    let mut root = dir.clone();
    for _ in at..comps.len() {
        root.push("..");
    }
    Some((
        crate::source::clean_path_buf(root),
        Anchor {
            named: crate::source::clean_path_buf(dir),
            under_root,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots() {
        assert_eq!(
            root_of(Path::new("deploy/etc/nginx/nginx.conf")),
            Some(PathBuf::from("deploy"))
        );
        assert_eq!(root_of(Path::new("/etc/nginx")), None);
        assert_eq!(root_of(Path::new("etc/nginx")), Some(PathBuf::from(".")));
        assert_eq!(root_of(Path::new("nginx/nginx.conf")), None);
        assert_eq!(
            root_of(Path::new("img/usr/local/etc/php-fpm.d/www.conf")),
            Some(PathBuf::from("img"))
        );
        assert_eq!(
            root_of(Path::new("usr/local/etc")),
            Some(PathBuf::from("."))
        );
        assert_eq!(root_of(Path::new("/usr/local/etc/php-fpm.conf")), None);
        assert_eq!(
            root_of(Path::new("w/opt/docker/etc/nginx")),
            Some(PathBuf::from("w"))
        );
    }

    #[test]
    fn absolute_paths_map_under_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::create_dir_all(root.join("etc/nginx/conf.d")).unwrap();
        std::fs::write(root.join("etc/nginx/mime.types"), "types {}\n").unwrap();
        std::fs::write(root.join("etc/nginx/conf.d/a.conf"), "server {}\n").unwrap();
        let mut s = StackSource::new(Some(root.clone()));
        assert_eq!(
            s.map(Path::new("/etc/nginx/mime.types")),
            root.join("etc/nginx/mime.types")
        );
        assert_eq!(
            s.read(Path::new("/etc/nginx/mime.types")).unwrap(),
            b"types {}\n"
        );
        // A path missing under the root is missing: the machine's own file is never read.
        assert_eq!(s.map(Path::new("/etc/hosts")), root.join("etc/hosts"));
        assert!(s.read_path(Path::new("/etc/hosts")).is_err());
        // Unless the profile ships it.
        s.profile = crate::profile::by_name("debian-12");
        let t = s.read_path(Path::new("/etc/nginx/fastcgi_params")).unwrap();
        assert!(t.starts_with(b"\nfastcgi_param"));
        assert_eq!(
            s.stock_used(),
            vec![(
                root.join("etc/nginx/fastcgi_params"),
                "/etc/nginx/fastcgi_params"
            )]
        );
        s.live = true;
        assert!(s.read_path(Path::new("/etc/nginx/proxy_params")).is_err());
        s.live = false;
        let g = s.glob(Path::new("/etc/nginx/conf.d/*.conf")).unwrap();
        assert_eq!(g, vec![root.join("etc/nginx/conf.d/a.conf")]);
        s.overlay
            .insert(root.join("etc/nginx/mime.types"), b"types { }\n".to_vec());
        assert_eq!(
            s.read(Path::new("/etc/nginx/mime.types")).unwrap(),
            b"types { }\n"
        );
    }
}

//! Include expansion as nginx does it (`ngx_conf_include` in src/core/ngx_conf_file.c):
//! a relative pattern is joined to the prefix (the main file's folder unless given), a
//! pattern with `*`, `?` or `[` is a glob whose matches are sorted and may be none, and a
//! literal path that cannot be opened is an error worded like nginx's
//! `open() "PATH" failed (2: No such file or directory)`.
//!
//! Files are visited breadth first in the order their includes appear (the order
//! `crossplane parse` lists them), each file is read and parsed once even when several
//! contexts include it, and no file is kept in memory longer than its visit unless the
//! caller keeps it: [`walk`] hands each parsed file to a closure, [`load`] keeps them all in
//! a [`Files`] store. Cycles cannot hang the walk (a file is parsed once) and are reported
//! by an iterative search afterwards.

use super::read_ahead::{advise_willneed, read_exact_size, Reader};
pub use super::read_ahead::{PlainOpen, SharedOpen};
use super::tree::{DirectiveEnd, DirectiveId, NginxTree};
use crate::model::hash::FastMap;
use crate::source::{FileId, Files, SourceFile, TextRange};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::path::{Path, PathBuf};

/// Where the loader reads files from: the file system, or files already in memory (the
/// virtual files of an `nginx -T` dump).
pub trait FileSource {
    /// Check that `path` can be opened, as nginx's `open()` of an include does.
    fn check(&mut self, path: &Path) -> io::Result<()>;
    /// Read the whole file.
    fn read(&mut self, path: &Path) -> io::Result<Vec<u8>>;
    /// The paths matching a glob pattern (`*`, `?`, `[…]`; a leading `.` in a name must
    /// be matched literally, as with glob(3)). Order does not matter: the loader sorts.
    fn glob(&mut self, pattern: &Path) -> io::Result<Vec<PathBuf>>;
    /// A hint that these files will be read soon, one by one, in this order: a source
    /// that reads from a disk may ask for all of them at once, so the reads overlap
    /// instead of waiting on the device one file at a time. Errors are ignored (the read
    /// itself reports them). The default does nothing.
    fn prefetch(&mut self, paths: &[PathBuf]) {
        let _ = paths;
    }
    /// How other threads may open this source's files, so the walk can read and parse
    /// a glob's files on several cores; `None` (the default) keeps every read on the
    /// walk's thread, as a source with files in memory must.
    fn shared_open(&self) -> Option<std::sync::Arc<dyn SharedOpen>> {
        None
    }
}

/// The real file system.
///
/// Files announced with [`FileSource::prefetch`] are opened ahead of their reads, a
/// bounded window at a time, and the kernel is asked to start reading each one then
/// (`posix_fadvise(WILLNEED)` where it exists): the device gets many requests at once and
/// a cold read no longer waits for the disk file by file. The open file is kept for its
/// read, so a file costs no extra `open`.
#[derive(Debug, Default)]
pub struct FsSource {
    /// Announced files not opened yet, in the order they will be read.
    pub(super) pending: VecDeque<PathBuf>,
    /// Opened and advised files waiting for their read, oldest first.
    pub(super) ready: VecDeque<(PathBuf, std::fs::File)>,
    /// The folder of the last file opened ahead: its siblings (a glob's matches) are
    /// opened relative to it, so the kernel does not walk the whole path for each.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    folder: Option<(PathBuf, rustix::fd::OwnedFd)>,
    /// The buffer files are read into; each text is then copied out at its exact size, so
    /// the texts a run keeps hold no spare capacity.
    scratch: Vec<u8>,
}

/// How many announced files are kept open ahead of the reader: enough to keep a disk's
/// queue full, few enough to stay far below the limit on open files.
const PREFETCH_WINDOW: usize = 256;

impl FsSource {
    /// A source with nothing announced.
    pub fn new() -> Self {
        FsSource::default()
    }

    /// Open and advise announced files until the window is full.
    fn fill(&mut self) {
        while self.ready.len() < PREFETCH_WINDOW {
            let Some(path) = self.pending.pop_front() else {
                return;
            };
            // A file that cannot be opened now is opened again by its read, which
            // reports the error.
            if let Ok(file) = self.open_ahead(&path) {
                advise_willneed(&file);
                self.ready.push_back((path, file));
            }
        }
    }

    /// Open an announced file, relative to its folder when the last one was there too.
    fn open_ahead(&mut self, path: &Path) -> io::Result<std::fs::File> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let (Some(dir), Some(name)) = (path.parent(), path.file_name()) {
            use rustix::fs::{Mode, OFlags};
            if !dir.as_os_str().is_empty() {
                let known =
                    matches!(&self.folder, Some((d, _)) if d.as_os_str() == dir.as_os_str());
                if !known {
                    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
                    self.folder = rustix::fs::open(dir, flags, Mode::empty())
                        .ok()
                        .map(|fd| (dir.to_path_buf(), fd));
                }
                if let Some((_, fd)) = &self.folder {
                    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK;
                    if let Ok(file) = rustix::fs::openat(fd, name, flags, Mode::empty()) {
                        return Ok(std::fs::File::from(file));
                    }
                }
            }
        }
        crate::source::open_config(path)
    }

    /// The file for `path`: the one opened ahead when there is one, else a new one.
    fn open(&mut self, path: &Path) -> io::Result<std::fs::File> {
        // Reads come in the announced order, so the match is nearly always in front.
        let found = self.ready.iter().position(|(p, _)| p == path);
        let file = match found.and_then(|i| self.ready.remove(i)) {
            Some((_, file)) => file,
            None => crate::source::open_config(path)?,
        };
        self.fill();
        Ok(file)
    }
}

impl FileSource for FsSource {
    fn check(&mut self, path: &Path) -> io::Result<()> {
        crate::source::check_readable(&crate::source::open_config(path)?).map(|_| ())
    }

    fn read(&mut self, path: &Path) -> io::Result<Vec<u8>> {
        let file = self.open(path)?;
        read_exact_size(file, &mut self.scratch)
    }

    fn glob(&mut self, pattern: &Path) -> io::Result<Vec<PathBuf>> {
        let Some(p) = pattern.to_str() else {
            return Ok(Vec::new());
        };
        Ok(crate::fsglob::fs_glob(p))
    }

    fn prefetch(&mut self, paths: &[PathBuf]) {
        self.pending.extend(paths.iter().cloned());
        self.fill();
    }

    fn shared_open(&self) -> Option<std::sync::Arc<dyn SharedOpen>> {
        Some(std::sync::Arc::new(PlainOpen))
    }
}

/// Files held in memory, keyed by path.
#[derive(Clone, Debug, Default)]
pub struct MemorySource {
    /// The files.
    pub files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemorySource {
    /// An empty set of files.
    pub fn new() -> Self {
        MemorySource::default()
    }

    /// Add a file.
    pub fn insert(&mut self, path: impl Into<PathBuf>, text: Vec<u8>) {
        self.files.insert(path.into(), text);
    }
}

fn not_found() -> io::Error {
    io::Error::from_raw_os_error(2)
}

impl FileSource for MemorySource {
    fn check(&mut self, path: &Path) -> io::Result<()> {
        if self.files.contains_key(path) {
            Ok(())
        } else {
            Err(not_found())
        }
    }

    fn read(&mut self, path: &Path) -> io::Result<Vec<u8>> {
        self.files.get(path).cloned().ok_or_else(not_found)
    }

    fn glob(&mut self, pattern: &Path) -> io::Result<Vec<PathBuf>> {
        let Some(p) = pattern.to_str() else {
            return Ok(Vec::new());
        };
        let Ok(pat) = glob::Pattern::new(p) else {
            return Ok(Vec::new());
        };
        Ok(self
            .files
            .keys()
            .filter(|k| {
                k.to_str()
                    .is_some_and(|s| pat.matches_with(s, crate::fsglob::match_options()))
            })
            .cloned()
            .collect())
    }
}

/// An I/O error kept for a second pass: its kind, OS code and text.
type KeptError = (io::ErrorKind, Option<i32>, String);

/// A source for two passes over the same files: the first pass reads through to the
/// inner source and keeps each text, the second takes the kept texts (and frees them) and
/// reads nothing again. Opening a file to check it reads it at once, saving an `open`.
pub struct CachingSource<'a> {
    inner: &'a mut dyn FileSource,
    texts: HashMap<PathBuf, Result<Vec<u8>, KeptError>>,
    globs: HashMap<PathBuf, Vec<PathBuf>>,
    second: bool,
}

impl<'a> CachingSource<'a> {
    /// Wrap `inner`.
    pub fn new(inner: &'a mut dyn FileSource) -> Self {
        CachingSource {
            inner,
            texts: HashMap::new(),
            globs: HashMap::new(),
            second: false,
        }
    }

    /// From now on, each kept text is handed out once and dropped.
    pub fn second_pass(&mut self) {
        self.second = true;
    }

    fn fetch(&mut self, path: &Path) -> &Result<Vec<u8>, KeptError> {
        if !self.texts.contains_key(path) {
            let r = self
                .inner
                .read(path)
                .map_err(|e| (e.kind(), e.raw_os_error(), e.to_string()));
            self.texts.insert(path.to_path_buf(), r);
        }
        &self.texts[path]
    }
}

fn rebuild_error(kind: io::ErrorKind, code: Option<i32>, text: &str) -> io::Error {
    match code {
        Some(c) => io::Error::from_raw_os_error(c),
        None => io::Error::new(kind, text.to_string()),
    }
}

impl FileSource for CachingSource<'_> {
    fn check(&mut self, path: &Path) -> io::Result<()> {
        match self.fetch(path) {
            Ok(_) => Ok(()),
            Err((k, c, t)) => Err(rebuild_error(*k, *c, t)),
        }
    }

    fn read(&mut self, path: &Path) -> io::Result<Vec<u8>> {
        if self.second {
            if let Some(r) = self.texts.remove(path) {
                return r.map_err(|(k, c, t)| rebuild_error(k, c, &t));
            }
            return self.inner.read(path);
        }
        match self.fetch(path) {
            Ok(t) => Ok(t.clone()),
            Err((k, c, t)) => Err(rebuild_error(*k, *c, t)),
        }
    }

    fn glob(&mut self, pattern: &Path) -> io::Result<Vec<PathBuf>> {
        if let Some(g) = self.globs.get(pattern) {
            return Ok(g.clone());
        }
        let g = self.inner.glob(pattern)?;
        self.globs.insert(pattern.to_path_buf(), g.clone());
        Ok(g)
    }

    fn prefetch(&mut self, paths: &[PathBuf]) {
        // The second pass reads kept texts: nothing to fetch then.
        if !self.second {
            self.inner.prefetch(paths);
        }
    }
}

/// Word an I/O error as nginx does: `open() "PATH" failed (2: No such file or directory)`.
pub fn nginx_open_error(path: &Path, e: &io::Error) -> String {
    let text = e.to_string();
    let reason = match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    match e.raw_os_error() {
        Some(code) => format!("open() \"{}\" failed ({code}: {reason})", path.display()),
        None => format!("open() \"{}\" failed ({reason})", path.display()),
    }
}

/// One `include` directive and what it reached.
#[derive(Clone, Debug)]
pub struct Include {
    /// Index (in visit order) of the file holding the directive.
    pub from: usize,
    /// The include directive in that file.
    pub directive: DirectiveId,
    /// The directive's span.
    pub range: TextRange,
    /// The first line of the directive (1-based), for messages.
    pub line: u32,
    /// The pattern as written (decoded).
    pub pattern: String,
    /// The pattern joined to the prefix.
    pub resolved: PathBuf,
    /// Names of the blocks around the directive inside its own file, outermost first.
    pub local_context: Vec<String>,
    /// Indices (in visit order) of the files it included, sorted by path for globs.
    pub targets: Vec<usize>,
    /// nginx's error when a literal path could not be opened.
    pub error: Option<String>,
}

/// One visited file, handed to the [`walk`] closure.
#[derive(Debug)]
pub struct VisitedFile {
    /// Index in visit order (0 is the main file).
    pub index: usize,
    /// The path as resolved (prefix joined to the include pattern).
    pub path: PathBuf,
    /// The bytes.
    pub text: Vec<u8>,
    /// The syntax tree.
    pub tree: NginxTree,
    /// This file's include directives (also in [`WalkResult::includes`]).
    pub includes: Vec<Include>,
    /// What [`WalkOptions::prepare`] made of the file, if it is set.
    pub prepared: Prepared,
}

/// Work a caller wants done on each file as soon as it is parsed, on the thread that
/// parsed it ([`WalkOptions::prepare`]): with reading ahead, that spreads the caller's
/// own per-file work over the same cores, while the file is still in the cache.
pub type Prepare = fn(&[u8], &NginxTree) -> Prepared;

/// What a [`Prepare`] made of one file, for the caller to take back by type.
pub type Prepared = Option<Box<dyn std::any::Any + Send>>;

/// A file the walk reached but could not read after all (it vanished, or is a directory).
#[derive(Clone, Debug)]
pub struct Unreadable {
    /// Index in visit order.
    pub index: usize,
    /// The path.
    pub path: PathBuf,
    /// nginx-style message.
    pub message: String,
}

/// What a [`walk`] found besides the files themselves.
#[derive(Clone, Debug, Default)]
pub struct WalkResult {
    /// Paths in visit order.
    pub paths: Vec<PathBuf>,
    /// Every include directive, grouped by file in visit order.
    pub includes: Vec<Include>,
    /// Files that were found but could not be read.
    pub unreadable: Vec<Unreadable>,
    /// The includes' local contexts, each distinct one stored once.
    local: LocalContexts,
}

/// Block paths inside a file, each distinct one once (`table`), and for each include of
/// the walk the index of its own (`ids`, parallel to [`WalkResult::includes`]).
#[derive(Clone, Debug, Default)]
struct LocalContexts {
    table: Vec<Vec<String>>,
    index: FastMap<Vec<String>, u32>,
    ids: Vec<u32>,
}

impl LocalContexts {
    fn push(&mut self, path: &[String]) {
        let id = match self.index.get(path) {
            Some(&id) => id,
            None => {
                let id = self.table.len() as u32;
                self.table.push(path.to_vec());
                self.index.insert(path.to_vec(), id);
                id
            }
        };
        self.ids.push(id);
    }
}

impl WalkResult {
    /// Include cycles: `(index into includes, message)` for each include that leads back
    /// to a file that is still being included. Iterative: any depth is safe.
    pub fn cycles(&self) -> Vec<(usize, String)> {
        let n = self.paths.len();
        let mut by_file: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, inc) in self.includes.iter().enumerate() {
            if inc.from < n {
                by_file[inc.from].push(i);
            }
        }
        // 0 = unseen, 1 = on the stack, 2 = done.
        let mut state = vec![0u8; n];
        let mut out = Vec::new();
        if n == 0 {
            return out;
        }
        // Stack of (file, next include position, next target position).
        let mut stack: Vec<(usize, usize, usize)> = vec![(0, 0, 0)];
        state[0] = 1;
        while let Some(top) = stack.last_mut() {
            let (file, ii, ti) = *top;
            let Some(&inc_idx) = by_file[file].get(ii) else {
                state[file] = 2;
                stack.pop();
                continue;
            };
            let inc = &self.includes[inc_idx];
            let Some(&target) = inc.targets.get(ti) else {
                top.1 += 1;
                top.2 = 0;
                continue;
            };
            top.2 += 1;
            match state[target] {
                0 => {
                    state[target] = 1;
                    stack.push((target, 0, 0));
                }
                1 => {
                    let from_pos = stack.iter().position(|f| f.0 == target).unwrap_or(0);
                    let mut chain: Vec<String> = stack[from_pos..]
                        .iter()
                        .map(|f| format!("\"{}\"", self.paths[f.0].display()))
                        .collect();
                    chain.push(format!("\"{}\"", self.paths[target].display()));
                    out.push((inc_idx, format!("include cycle: {}", chain.join(" -> "))));
                }
                _ => {}
            }
        }
        out
    }

    /// The block paths each file is included into (the main file: one empty path),
    /// following every include edge except those that close a cycle; at most
    /// `MAX_CONTEXTS` distinct paths per file.
    pub fn contexts(&self) -> Vec<Vec<Vec<String>>> {
        let (table, ids) = self.context_ids();
        ids.iter()
            .map(|file| file.iter().map(|&c| table[c as usize].clone()).collect())
            .collect()
    }

    /// [`contexts`](Self::contexts) with each distinct block path stored once: the table
    /// of paths, and for each file the indices of its paths in that table. Thousands of
    /// files included into the same few blocks then cost a few bytes each.
    pub fn context_ids(&self) -> (Vec<Vec<String>>, Vec<Vec<u32>>) {
        const MAX_CONTEXTS: usize = 32;
        let n = self.paths.len();
        let mut out: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut table: Vec<Vec<String>> = Vec::new();
        if n == 0 {
            return (table, out);
        }
        let mut path_id: FastMap<Vec<String>, u32> = FastMap::default();
        table.push(Vec::new());
        path_id.insert(Vec::new(), 0);
        out[0].push(0);
        // Each include's local context, interned (by the walk, unless `includes` was
        // changed since), and (context, local context) -> the context they make together.
        let mut locals: Vec<&[String]> = Vec::new();
        let local_of: Vec<u32> = if self.local.ids.len() == self.includes.len() {
            locals.extend(self.local.table.iter().map(Vec::as_slice));
            self.local.ids.clone()
        } else {
            let mut index: FastMap<&[String], u32> = FastMap::default();
            self.includes
                .iter()
                .map(|inc| {
                    *index
                        .entry(inc.local_context.as_slice())
                        .or_insert_with(|| {
                            locals.push(&inc.local_context);
                            locals.len() as u32 - 1
                        })
                })
                .collect()
        };
        let mut joined: FastMap<(u32, u32), u32> = FastMap::default();
        let back: std::collections::HashSet<usize> =
            self.cycles().into_iter().map(|c| c.0).collect();
        // Kahn's order over the edges that do not close a cycle.
        let mut indegree = vec![0usize; n];
        let mut edges_from: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, inc) in self.includes.iter().enumerate() {
            if back.contains(&i) || inc.from >= n {
                continue;
            }
            edges_from[inc.from].push(i);
            for &t in &inc.targets {
                if t < n {
                    indegree[t] += 1;
                }
            }
        }
        let mut queue: std::collections::VecDeque<usize> =
            (0..n).filter(|&i| indegree[i] == 0).collect();
        while let Some(f) = queue.pop_front() {
            for &ei in &edges_from[f] {
                let inc = &self.includes[ei];
                let local = local_of[ei];
                let from_ctx = out[f].clone();
                for &t in &inc.targets {
                    if t >= n {
                        continue;
                    }
                    for &ctx in &from_ctx {
                        if out[t].len() >= MAX_CONTEXTS {
                            break;
                        }
                        let c = *joined.entry((ctx, local)).or_insert_with(|| {
                            let mut c = table[ctx as usize].clone();
                            c.extend(locals[local as usize].iter().cloned());
                            match path_id.get(&c) {
                                Some(&id) => id,
                                None => {
                                    let id = table.len() as u32;
                                    path_id.insert(c.clone(), id);
                                    table.push(c);
                                    id
                                }
                            }
                        });
                        if !out[t].contains(&c) {
                            out[t].push(c);
                        }
                    }
                    indegree[t] -= 1;
                    if indegree[t] == 0 {
                        queue.push_back(t);
                    }
                }
            }
        }
        (table, out)
    }
}

/// Options of a [`walk`].
#[derive(Clone, Copy, Debug, Default)]
pub struct WalkOptions {
    /// Ignore the include directives after a file's first syntax error, as
    /// `crossplane parse` does (it stops reading a file at its first error).
    pub stop_at_first_error: bool,
    /// Keep in [`WalkResult::includes`] only the graph, which is what
    /// [`WalkResult::cycles`] and [`WalkResult::contexts`] use: `pattern`, `resolved`,
    /// `local_context` and `error` are left empty there (each [`VisitedFile`] still gets its includes whole). For callers that
    /// handle those per file and would rather not hold them for thousands of includes.
    pub slim_includes: bool,
    /// Read and parse each file on the walk's own thread, even when the source could be
    /// shared with others: for a visitor slower than the reads, where reading ahead
    /// would only hold more files in memory at once.
    pub one_thread: bool,
    /// Parse without recording the token stream ([`super::parse_directives`]): the trees
    /// have directives, words, comments and errors, but [`NginxTree::pieces`] and
    /// [`NginxTree::tokens`] are empty (they are no longer lossless). For callers that
    /// read only directives, on thousands of files (a third less memory per tree).
    pub directives_only: bool,
    /// Run on each file as soon as it is parsed; the result is [`VisitedFile::prepared`].
    pub prepare: Option<Prepare>,
}

/// Walk the main file and everything it includes, breadth first, handing each parsed
/// file to `visit` (which may keep or drop it). Fails only when the main file cannot be
/// read. `prefix` is the folder relative include patterns are joined to (nginx's conf
/// prefix); `None` means the main file's folder.
pub fn walk(
    main: &Path,
    prefix: Option<&Path>,
    source: &mut dyn FileSource,
    options: WalkOptions,
    visit: &mut dyn FnMut(VisitedFile),
) -> io::Result<WalkResult> {
    let prefix: PathBuf = match prefix {
        Some(p) => p.to_path_buf(),
        None => main.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let mut result = WalkResult {
        paths: vec![main.to_path_buf()],
        ..WalkResult::default()
    };
    let mut index_of: FastMap<PathBuf, usize> = FastMap::default();
    index_of.insert(main.to_path_buf(), 0);

    let mut reader = Reader::new(source, options);
    let mut next = 0;
    while next < result.paths.len() {
        let index = next;
        next += 1;
        let path = result.paths[index].clone();
        let (text, tree, prepared) = match reader.read(index, &path) {
            Ok(t) => t,
            Err(e) if index == 0 => return Err(e),
            Err(e) => {
                result.unreadable.push(Unreadable {
                    index,
                    path: path.clone(),
                    message: nginx_open_error(&path, &e),
                });
                continue;
            }
        };
        let mut file_includes: Vec<Include> = Vec::new();
        // Include directives come in increasing offsets: count lines forward, only as far
        // as the last include, instead of indexing the whole file.
        let mut lines = super::crossplane::LineCursor::default();
        let cutoff = match (options.stop_at_first_error, tree.errors.first()) {
            (true, Some(e)) => e.range.start,
            _ => u32::MAX,
        };
        for d in tree.all(&text) {
            if d.span().start >= cutoff {
                break;
            }
            if !d.is("include")
                || !matches!(d.end(), DirectiveEnd::Semicolon(_))
                || d.arg_count() != 1
            {
                continue;
            }
            let Some(arg) = d.arg(0) else { continue };
            let pattern_bytes = arg.value().into_owned();
            let pattern = String::from_utf8_lossy(&pattern_bytes).into_owned();
            let resolved = join_prefix(&prefix, &pattern_bytes);
            let local_context: Vec<String> =
                d.block_path().into_iter().map(|c| c.into_owned()).collect();
            let line = lines.line(&text, d.span().start);
            let mut targets = Vec::new();
            let mut error = None;
            if has_glob_magic(&pattern_bytes) {
                let mut matches = reader.source.glob(&resolved).unwrap_or_default();
                sort_bytewise(&mut matches);
                matches.dedup();
                let first_new = result.paths.len();
                index_of.reserve(matches.len());
                for m in matches {
                    targets.push(intern(&mut index_of, &mut result.paths, m));
                }
                reader.announce(first_new, &result.paths[first_new..]);
            } else {
                match index_of.get(&resolved) {
                    Some(&i) => targets.push(i),
                    None => match reader.source.check(&resolved) {
                        Ok(()) => {
                            targets.push(intern(&mut index_of, &mut result.paths, resolved.clone()))
                        }
                        Err(e) => error = Some(nginx_open_error(&resolved, &e)),
                    },
                }
            }
            file_includes.push(Include {
                from: index,
                directive: d.id(),
                range: d.span(),
                line,
                pattern,
                resolved,
                local_context,
                targets,
                error,
            });
        }
        for inc in &file_includes {
            result.local.push(&inc.local_context);
        }
        if options.slim_includes {
            result
                .includes
                .extend(file_includes.iter().map(|inc| Include {
                    from: inc.from,
                    directive: inc.directive,
                    range: inc.range,
                    line: inc.line,
                    pattern: String::new(),
                    resolved: PathBuf::new(),
                    local_context: Vec::new(),
                    targets: inc.targets.clone(),
                    error: None,
                }));
        } else {
            result.includes.extend(file_includes.iter().cloned());
        }
        visit(VisitedFile {
            index,
            path,
            text,
            tree,
            includes: file_includes,
            prepared,
        });
    }
    Ok(result)
}

/// Hint the source about the files a glob just added to the queue, when there are
/// several (one file gains nothing from it).
pub(crate) fn prefetch_new(source: &mut dyn FileSource, new: &[PathBuf]) {
    if new.len() > 1 {
        source.prefetch(new);
    }
}

fn intern(
    index_of: &mut FastMap<PathBuf, usize>,
    paths: &mut Vec<PathBuf>,
    path: PathBuf,
) -> usize {
    // One hash of the path whether it is new or not.
    match index_of.entry(path) {
        std::collections::hash_map::Entry::Occupied(e) => *e.get(),
        std::collections::hash_map::Entry::Vacant(e) => {
            let i = paths.len();
            paths.push(e.key().clone());
            e.insert(i);
            i
        }
    }
}

/// nginx tests a pattern with `strpbrk(file, "*?[")`.
pub fn has_glob_magic(pattern: &[u8]) -> bool {
    crate::fsglob::has_magic_bytes(pattern)
}

/// Join a decoded include pattern to the prefix, as `ngx_conf_full_name` does: an
/// absolute pattern stays as it is.
pub fn join_prefix(prefix: &Path, pattern: &[u8]) -> PathBuf {
    let p = bytes_to_path(pattern);
    if p.is_absolute() {
        p
    } else {
        prefix.join(p)
    }
}

#[cfg(unix)]
fn bytes_to_path(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

#[cfg(not(unix))]
fn bytes_to_path(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(b).into_owned())
}

/// Sort paths by their bytes, as glob(3) sorts its matches (not by `Path`'s component
/// order). The key is borrowed: a glob of thousands of files is compared without
/// allocating.
#[cfg(unix)]
pub(crate) fn sort_bytewise(paths: &mut [PathBuf]) {
    use std::os::unix::ffi::OsStrExt;
    paths.sort_unstable_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
}

/// Sort paths by their bytes, as glob(3) sorts its matches.
#[cfg(not(unix))]
pub(crate) fn sort_bytewise(paths: &mut [PathBuf]) {
    paths.sort_by_cached_key(|p| p.to_string_lossy().as_bytes().to_vec());
}

/// One file of a loaded configuration.
#[derive(Debug)]
pub struct ConfigFile {
    /// The file in the run's [`Files`] store.
    pub file: FileId,
    /// Its syntax tree.
    pub tree: NginxTree,
    /// The block paths it is included into, e.g. `[["http", "server"]]`; one empty path
    /// for the main file. A file included from several places has several.
    pub contexts: Vec<Vec<String>>,
}

/// A problem with includes: a missing literal file, an unreadable match, a cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncludeError {
    /// The file holding the include directive.
    pub file: FileId,
    /// The include directive.
    pub range: TextRange,
    /// nginx's wording where it has one.
    pub message: String,
}

/// One resolved `include` edge.
#[derive(Clone, Debug)]
pub struct IncludeEdge {
    /// The file holding the directive.
    pub from: FileId,
    /// The directive.
    pub directive: DirectiveId,
    /// Its span.
    pub range: TextRange,
    /// Block names around it inside its file.
    pub local_context: Vec<String>,
    /// The files it included, in nginx's order.
    pub targets: Vec<FileId>,
}

/// An nginx configuration: the main file and every file it includes.
#[derive(Debug)]
pub struct NginxConfig {
    /// The main file.
    pub main: FileId,
    /// Every file, in visit order (the main file first).
    pub files: Vec<ConfigFile>,
    /// Every include directive.
    pub includes: Vec<IncludeEdge>,
    /// Include problems.
    pub errors: Vec<IncludeError>,
}

impl NginxConfig {
    /// The parsed file with this id.
    pub fn file(&self, id: FileId) -> Option<&ConfigFile> {
        self.files.iter().find(|f| f.file == id)
    }

    /// True when no file has a syntax error and no include failed.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty() && self.files.iter().all(|f| f.tree.is_ok())
    }
}

/// Load `main` and its includes from the file system into `files`.
pub fn load(main: &Path, prefix: Option<&Path>, files: &mut Files) -> io::Result<NginxConfig> {
    load_from(main, prefix, files, &mut FsSource::new())
}

/// Load `main` and its includes from `source` into `files`.
pub fn load_from(
    main: &Path,
    prefix: Option<&Path>,
    files: &mut Files,
    source: &mut dyn FileSource,
) -> io::Result<NginxConfig> {
    let mut visited: Vec<(usize, FileId, NginxTree)> = Vec::new();
    let result = walk(
        main,
        prefix,
        source,
        WalkOptions::default(),
        &mut |v: VisitedFile| {
            let id = files.add(SourceFile::new(v.path, v.text));
            visited.push((v.index, id, v.tree));
        },
    )?;
    let mut id_of: Vec<Option<FileId>> = vec![None; result.paths.len()];
    for (index, id, _) in &visited {
        id_of[*index] = Some(*id);
    }
    let contexts = result.contexts();
    let main_id = id_of[0].unwrap_or(FileId(0));
    let mut errors = Vec::new();
    let mut includes = Vec::new();
    for inc in &result.includes {
        let Some(from) = id_of[inc.from] else {
            continue;
        };
        if let Some(msg) = &inc.error {
            errors.push(IncludeError {
                file: from,
                range: inc.range,
                message: msg.clone(),
            });
        }
        includes.push(IncludeEdge {
            from,
            directive: inc.directive,
            range: inc.range,
            local_context: inc.local_context.clone(),
            targets: inc.targets.iter().filter_map(|&t| id_of[t]).collect(),
        });
    }
    for u in &result.unreadable {
        if let Some(inc) = result
            .includes
            .iter()
            .find(|i| i.targets.contains(&u.index))
        {
            if let Some(from) = id_of[inc.from] {
                errors.push(IncludeError {
                    file: from,
                    range: inc.range,
                    message: u.message.clone(),
                });
            }
        }
    }
    for (inc_idx, msg) in result.cycles() {
        let inc = &result.includes[inc_idx];
        if let Some(from) = id_of[inc.from] {
            errors.push(IncludeError {
                file: from,
                range: inc.range,
                message: msg,
            });
        }
    }
    let files_out = visited
        .into_iter()
        .map(|(index, file, tree)| ConfigFile {
            file,
            tree,
            contexts: contexts.get(index).cloned().unwrap_or_default(),
        })
        .collect();
    Ok(NginxConfig {
        main: main_id,
        files: files_out,
        includes,
        errors,
    })
}

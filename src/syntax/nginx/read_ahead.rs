//! Reading and parsing the files an include glob announced on other cores, while the
//! walk goes on with the files before them.
//!
//! A glob such as `sites-enabled/*.conf` queues hundreds of files at once. Each costs a
//! few system calls and a parse, none of which depends on another file, so worker
//! threads take them in queue order; the walk takes each result when its turn comes (or
//! reads the file itself when no worker has claimed it yet, so no core sits idle). The
//! walk still handles every file in its own order: what it finds and prints is the same.
//!
//! On a cold page cache the files are also opened a window ahead of the readers with
//! `posix_fadvise(WILLNEED)`, so the disk gets many requests at once; the open file is
//! kept for its read.

use super::{parse, NginxTree};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// How files are opened, for a source that other threads may share: the source's path
/// mapping without its in-memory files.
pub trait SharedOpen: Send + Sync {
    /// Open `path` for reading.
    fn open(&self, path: &Path) -> io::Result<File>;
}

/// Opens paths as they are.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlainOpen;

impl SharedOpen for PlainOpen {
    fn open(&self, path: &Path) -> io::Result<File> {
        crate::source::open_config(path)
    }
}

/// A read and parsed file, or why it could not be read.
pub(crate) type Parsed = io::Result<(Vec<u8>, NginxTree, super::Prepared)>;

/// Fewer files than this are read on the walk's own thread: starting a worker costs more.
const MIN_BATCH: usize = 16;

/// How many files the workers may have read ahead of the walk: bounds the memory that
/// finished but untaken files hold when the walk is the slower side.
const LEAD: usize = 32;

/// How many files are opened and advised ahead of the next read.
const ADVISE_WINDOW: usize = 128;

/// At most this many files are advised in one step, so the first read does not wait for
/// a whole window.
const ADVISE_STEP: usize = 16;

/// One file of a batch.
enum Slot {
    /// Nobody has it yet.
    Waiting,
    /// Opened (and advised) ahead; nobody reads it yet.
    Opened(File),
    /// A thread is reading and parsing it.
    Working,
    /// Read and parsed, not taken yet.
    Done(Parsed),
    /// Handed to the walk.
    Taken,
}

struct State {
    slots: Vec<Slot>,
    /// Workers claim from here on.
    next: usize,
    /// Slots before this one were taken by the walk.
    taken: usize,
    /// Slots before this one were opened ahead (or claimed first).
    advised: usize,
    /// The walk is over: workers stop.
    stop: bool,
    /// Workers asleep until the walk catches up (wake-ups cost, so they are counted).
    idle_workers: usize,
    /// The walk is asleep until a worker finishes its file.
    walk_waits: bool,
}

struct Shared {
    paths: Vec<PathBuf>,
    parsing: Parsing,
    open: Arc<dyn SharedOpen>,
    state: Mutex<State>,
    /// A slot became `Done`.
    done: Condvar,
    /// The walk took a slot (or stopped): workers may claim further.
    room: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A worker that panicked mid-read leaves a consistent state: go on with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The range of files the caller should open ahead now, having claimed slot `at`.
    fn advise_range(st: &mut State, at: usize) -> std::ops::Range<usize> {
        let len = st.slots.len();
        let from = st.advised.max(at + 1);
        let to = (at + 1 + ADVISE_WINDOW).min(len).min(from + ADVISE_STEP);
        if from >= to {
            return 0..0;
        }
        st.advised = to;
        from..to
    }

    /// Open and advise the files of `range`, keeping each open for its reader.
    fn advise(&self, range: std::ops::Range<usize>) {
        if range.is_empty() {
            return;
        }
        let opened: Vec<(usize, File)> = range
            .filter_map(|i| {
                let file = self.open.open(&self.paths[i]).ok()?;
                advise_willneed(&file);
                Some((i, file))
            })
            .collect();
        let mut st = self.lock();
        for (i, file) in opened {
            if matches!(st.slots[i], Slot::Waiting) {
                st.slots[i] = Slot::Opened(file);
            }
        }
    }

    /// Read and parse slot `i`, with the file opened ahead when there is one.
    fn load(&self, i: usize, opened: Option<File>, scratch: &mut Vec<u8>) -> Parsed {
        let file = match opened {
            Some(f) => f,
            None => self.open.open(&self.paths[i])?,
        };
        let text = read_exact_size(file, scratch)?;
        Ok(self.parsing.parse(text))
    }

    /// Claim slot `i`, open the files ahead of it that are due, and read and parse it on
    /// this thread, without holding the lock meanwhile; returns the lock taken again.
    fn read_here<'s>(
        &'s self,
        mut st: MutexGuard<'s, State>,
        i: usize,
        scratch: &mut Vec<u8>,
    ) -> (MutexGuard<'s, State>, Parsed) {
        let opened = Self::claim(&mut st, i);
        let ahead = Self::advise_range(&mut st, i);
        drop(st);
        self.advise(ahead);
        let parsed = self.load(i, opened, scratch);
        (self.lock(), parsed)
    }

    /// Claim slot `i` in `st`: its file when one was opened ahead.
    fn claim(st: &mut State, i: usize) -> Option<File> {
        match std::mem::replace(&mut st.slots[i], Slot::Working) {
            Slot::Opened(f) => Some(f),
            _ => None,
        }
    }

    /// The first slot nobody has claimed, when it is before `limit`; claims it.
    fn next_waiting(st: &mut State, limit: usize) -> Option<usize> {
        while st.next < st.slots.len()
            && !matches!(st.slots[st.next], Slot::Waiting | Slot::Opened(_))
        {
            st.next += 1;
        }
        if st.next >= st.slots.len() || st.next >= limit {
            return None;
        }
        st.next += 1;
        Some(st.next - 1)
    }

    /// A worker: claim the next waiting file, read and parse it, until none is left.
    fn work(&self) {
        let mut scratch = Vec::new();
        let mut st = self.lock();
        loop {
            if st.stop {
                return;
            }
            let limit = st.taken + LEAD;
            let Some(i) = Self::next_waiting(&mut st, limit) else {
                if st.next >= st.slots.len() {
                    return;
                }
                st.idle_workers += 1;
                st = self.room.wait(st).unwrap_or_else(|e| e.into_inner());
                st.idle_workers -= 1;
                continue;
            };
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.read_here(st, i, &mut scratch)
            }));
            match read {
                Ok((guard, parsed)) => {
                    st = guard;
                    st.slots[i] = Slot::Done(parsed);
                    if st.walk_waits {
                        self.done.notify_all();
                    }
                }
                Err(_) => {
                    // A bug in the parser: hand the file back, so the walk reads it
                    // itself and fails there, rather than wait for it forever.
                    st = self.lock();
                    st.slots[i] = Slot::Waiting;
                    self.done.notify_all();
                    return;
                }
            }
        }
    }
}

/// The files of one glob, read and parsed by workers.
struct Batch {
    /// The walk's index of the batch's first file.
    first: usize,
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    /// The walk's own read buffer, for files it reads itself.
    scratch: Vec<u8>,
}

impl Batch {
    fn start(
        first: usize,
        paths: Vec<PathBuf>,
        open: Arc<dyn SharedOpen>,
        workers: usize,
        parsing: Parsing,
    ) -> Self {
        let mut slots: Vec<Slot> = paths.iter().map(|_| Slot::Waiting).collect();
        // When the first file is in the page cache, the others most likely are too
        // (a glob's files are read and evicted together): advising each one would only
        // cost a system call per file.
        let mut advised = 0;
        if let Some(first) = paths.first() {
            if let Ok(file) = open.open(first) {
                if in_page_cache(&file) {
                    advised = paths.len();
                }
                slots[0] = Slot::Opened(file);
            }
        }
        let shared = Arc::new(Shared {
            paths,
            parsing,
            open,
            state: Mutex::new(State {
                slots,
                next: 0,
                taken: 0,
                advised,
                stop: false,
                idle_workers: 0,
                walk_waits: false,
            }),
            done: Condvar::new(),
            room: Condvar::new(),
        });
        let workers = (0..workers)
            .filter_map(|_| {
                let s = Arc::clone(&shared);
                std::thread::Builder::new()
                    .name("gatelint-read".into())
                    .spawn(move || {
                        let _ = crate::machine::huge_pages_for_this_thread();
                        s.work()
                    })
                    .ok()
            })
            .collect();
        Batch {
            first,
            shared,
            workers,
            scratch: Vec::new(),
        }
    }

    fn covers(&self, index: usize) -> bool {
        index >= self.first && index - self.first < self.shared.paths.len()
    }

    /// The file at batch position `i`: waits for a worker that has it, reads it here when
    /// nobody has claimed it. `None` when it was taken before.
    fn take(&mut self, i: usize) -> Option<Parsed> {
        let shared = Arc::clone(&self.shared);
        let mut st = shared.lock();
        loop {
            match &st.slots[i] {
                Slot::Done(_) => {
                    let Slot::Done(parsed) = std::mem::replace(&mut st.slots[i], Slot::Taken)
                    else {
                        unreachable!("matched just above")
                    };
                    Self::took(&shared, &mut st, i);
                    return Some(parsed);
                }
                Slot::Working => {
                    // A worker reads this file: rather than sleep until it is done, read
                    // the next file nobody has claimed (a wake-up costs about as much as
                    // reading a small file).
                    match Shared::next_waiting(&mut st, i + LEAD) {
                        Some(j) => {
                            let parsed;
                            (st, parsed) = shared.read_here(st, j, &mut self.scratch);
                            st.slots[j] = Slot::Done(parsed);
                        }
                        None => {
                            st.walk_waits = true;
                            st = shared.done.wait(st).unwrap_or_else(|e| e.into_inner());
                            st.walk_waits = false;
                        }
                    }
                }
                Slot::Waiting | Slot::Opened(_) => {
                    let parsed;
                    (st, parsed) = shared.read_here(st, i, &mut self.scratch);
                    st.slots[i] = Slot::Taken;
                    Self::took(&shared, &mut st, i);
                    return Some(parsed);
                }
                Slot::Taken => return None,
            }
        }
    }

    /// Note that the walk took slot `i`; wake idle workers once there is room for
    /// several files (not for each one: a wake-up costs more than a small file).
    fn took(shared: &Shared, st: &mut State, i: usize) {
        st.taken = st.taken.max(i + 1);
        if st.idle_workers > 0 && st.next + LEAD / 2 <= st.taken + LEAD {
            shared.room.notify_all();
        }
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.room.notify_all();
        for w in self.workers.drain(..) {
            // A worker that panicked handed its file back (see `Shared::work`).
            let _ = w.join();
        }
    }
}

/// The walk's reader: its file source, plus the batches being read ahead.
pub(crate) struct Reader<'s> {
    /// The source the walk reads from.
    pub(crate) source: &'s mut dyn super::FileSource,
    batches: Vec<Batch>,
    workers: usize,
    parsing: Parsing,
}

impl<'s> Reader<'s> {
    /// A reader over `source` as `options` say: with as many workers as the machine has
    /// spare cores unless [`one_thread`](super::WalkOptions::one_thread).
    pub(crate) fn new(source: &'s mut dyn super::FileSource, options: super::WalkOptions) -> Self {
        let cores = crate::machine::cores();
        Reader {
            source,
            batches: Vec::new(),
            workers: if options.one_thread {
                0
            } else {
                cores.saturating_sub(1).min(3)
            },
            parsing: Parsing {
                directives_only: options.directives_only,
                prepare: options.prepare,
            },
        }
    }

    /// The walk queued `paths` (new files, in the order it will read them) at its index
    /// `first`.
    pub(crate) fn announce(&mut self, first: usize, paths: &[PathBuf]) {
        if self.workers > 0 && paths.len() >= MIN_BATCH {
            if let Some(open) = self.source.shared_open() {
                self.batches.push(Batch::start(
                    first,
                    paths.to_vec(),
                    open,
                    self.workers,
                    self.parsing,
                ));
                return;
            }
        }
        super::include::prefetch_new(self.source, paths);
    }

    /// The text and tree of the file at the walk's `index`.
    pub(crate) fn read(&mut self, index: usize, path: &Path) -> Parsed {
        // Batches the walk has passed are finished: let their workers go.
        self.batches
            .retain(|b| index < b.first + b.shared.paths.len());
        if let Some(b) = self.batches.iter_mut().find(|b| b.covers(index)) {
            if let Some(parsed) = b.take(index - b.first) {
                return parsed;
            }
        }
        let text = self.source.read(path)?;
        Ok(self.parsing.parse(text))
    }
}

/// How each file is parsed, and what the walk's caller prepares from it: the walk's
/// [`directives_only`](super::WalkOptions::directives_only) and
/// [`prepare`](super::WalkOptions::prepare), whichever thread reads the file.
#[derive(Clone, Copy, Default)]
struct Parsing {
    directives_only: bool,
    prepare: Option<super::Prepare>,
}

impl Parsing {
    /// A text with its tree (without the token stream when only directives are wanted),
    /// and what the walk's caller prepares from them.
    fn parse(self, text: Vec<u8>) -> (Vec<u8>, NginxTree, super::Prepared) {
        let tree = if self.directives_only {
            super::grammar::parse_directives(&text)
        } else {
            parse(&text)
        };
        let prepared = self.prepare.and_then(|p| p(&text, &tree));
        (text, tree, prepared)
    }
}

/// Read a whole file into `scratch` and copy it out at its exact size (the texts a run
/// keeps hold no spare capacity).
/// Only what [`crate::source::check_readable`] allows is read.
pub(crate) fn read_exact_size(file: File, scratch: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    let read = crate::source::read_checked(file, scratch);
    let text = read.map(|()| scratch.clone());
    if scratch.capacity() > 1 << 20 {
        // A huge file read once need not stay allocated for the rest of the run.
        *scratch = Vec::new();
    }
    text
}

/// True when the file's first byte can be read without waiting for the device.
#[cfg(target_os = "linux")]
fn in_page_cache(file: &File) -> bool {
    let mut byte = [0u8; 1];
    rustix::io::preadv2(
        file,
        &mut [std::io::IoSliceMut::new(&mut byte)],
        0,
        rustix::io::ReadWriteFlags::NOWAIT,
    )
    .is_ok()
}

#[cfg(not(target_os = "linux"))]
fn in_page_cache(_file: &File) -> bool {
    false
}

/// Ask the kernel to start reading the whole file into the page cache.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn advise_willneed(file: &File) {
    // Only a hint: a failure changes nothing but speed.
    let _ = rustix::fs::fadvise(file, 0, None, rustix::fs::Advice::WillNeed);
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn advise_willneed(_file: &File) {}

#[cfg(test)]
mod tests {
    use super::super::{walk, FsSource, WalkOptions};
    use super::*;

    /// A folder with `n` vhost files (each including the next folder's files for the
    /// first one), a directory and a dangling link among them.
    fn tree(n: usize) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("sites")).unwrap();
        std::fs::create_dir_all(d.join("more")).unwrap();
        std::fs::write(
            d.join("nginx.conf"),
            "events {}\nhttp {\n    include sites/*.conf;\n}\n",
        )
        .unwrap();
        for i in 0..n {
            let body = if i == 3 {
                // A second glob while the first batch is still being read.
                "server { include more/*.conf; }\n".to_string()
            } else if i == 7 {
                "server { listen 80 }\n".to_string()
            } else {
                format!("server {{ listen {}; server_name s{i}; }}\n", 8000 + i)
            };
            std::fs::write(d.join(format!("sites/v{i:04}.conf")), body).unwrap();
        }
        for i in 0..40 {
            std::fs::write(d.join(format!("more/m{i:03}.conf")), format!("# {i}\n")).unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(d.join("nowhere"), d.join("sites/v0005x.conf")).unwrap();
        dir
    }

    /// What a walk saw, file by file: index, path, text, syntax errors; and what it could
    /// not read.
    fn run(main: &Path, one_thread: bool) -> (Vec<String>, Vec<String>) {
        let mut source = FsSource::new();
        let mut seen = Vec::new();
        let options = WalkOptions {
            one_thread,
            ..WalkOptions::default()
        };
        let result = walk(main, None, &mut source, options, &mut |v| {
            seen.push(format!(
                "{} {} {:?} {:?}",
                v.index,
                v.path.display(),
                String::from_utf8_lossy(&v.text),
                v.tree.errors.iter().map(|e| &e.message).collect::<Vec<_>>()
            ))
        })
        .unwrap();
        let unreadable = result
            .unreadable
            .iter()
            .map(|u| format!("{} {}", u.index, u.message))
            .collect();
        (seen, unreadable)
    }

    #[test]
    fn reading_ahead_changes_nothing_the_walk_sees() {
        let dir = tree(300);
        let main = dir.path().join("nginx.conf");
        let serial = run(&main, true);
        let parallel = run(&main, false);
        // The dangling link is reached but unreadable.
        assert_eq!(serial.0.len(), 1 + 300 + 40);
        assert_eq!(serial, parallel);
        #[cfg(unix)]
        assert_eq!(serial.1.len(), 1, "{:?}", serial.1);
        assert!(
            serial.0[8].contains("unexpected \\\"}\\\""),
            "{}",
            serial.0[8]
        );
    }

    #[test]
    fn every_file_is_prepared_by_the_thread_that_parsed_it() {
        fn count(text: &[u8], tree: &NginxTree) -> super::super::Prepared {
            Some(Box::new((text.len(), tree.directive_count())))
        }
        let dir = tree(300);
        let main = dir.path().join("nginx.conf");
        for one_thread in [true, false] {
            let options = WalkOptions {
                one_thread,
                prepare: Some(count),
                ..WalkOptions::default()
            };
            let mut seen = 0;
            walk(&main, None, &mut FsSource::new(), options, &mut |v| {
                let got = v
                    .prepared
                    .map(|p| p.downcast::<(usize, usize)>().map(|b| *b));
                let want = (v.text.len(), v.tree.directive_count());
                assert_eq!(got.and_then(Result::ok), Some(want), "{}", v.path.display());
                seen += 1;
            })
            .unwrap();
            assert_eq!(seen, 1 + 300 + 40, "one_thread: {one_thread}");
        }
    }

    #[test]
    fn directives_only_trees_keep_directives_words_and_errors() {
        let dir = tree(40);
        let main = dir.path().join("nginx.conf");
        for one_thread in [true, false] {
            let mut full = Vec::new();
            let mut slim = Vec::new();
            for (directives_only, out) in [(false, &mut full), (true, &mut slim)] {
                let options = WalkOptions {
                    one_thread,
                    directives_only,
                    ..WalkOptions::default()
                };
                walk(&main, None, &mut FsSource::new(), options, &mut |v| {
                    let names: Vec<String> = v
                        .tree
                        .all(&v.text)
                        .map(|d| {
                            format!(
                                "{} {:?}",
                                d.name(),
                                d.args()
                                    .map(|a| a.as_str().into_owned())
                                    .collect::<Vec<_>>()
                            )
                        })
                        .collect();
                    let errors: Vec<String> =
                        v.tree.errors.iter().map(|e| e.message.clone()).collect();
                    let dropped = v.tree.pieces().is_empty() && v.tree.tokens().is_empty();
                    out.push((names, errors, dropped));
                })
                .unwrap();
            }
            assert_eq!(full.len(), slim.len());
            for (f, s) in full.iter().zip(&slim) {
                assert_eq!((&f.0, &f.1), (&s.0, &s.1));
                assert!(!f.2 && s.2, "pieces are kept only without the option");
            }
        }
    }

    /// A reader with a fixed number of workers over the files of `dir/sites`.
    fn batch_reader<'a>(source: &'a mut FsSource, paths: &[PathBuf], workers: usize) -> Reader<'a> {
        let mut reader = Reader {
            source,
            batches: Vec::new(),
            workers,
            parsing: Parsing::default(),
        };
        reader.announce(1, paths);
        reader
    }

    fn site_paths(dir: &Path) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join("sites"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        paths
    }

    #[test]
    fn files_taken_out_of_order_or_twice_are_read_once_each() {
        let dir = tree(100);
        let paths = site_paths(dir.path());
        let mut source = FsSource::new();
        let mut reader = batch_reader(&mut source, &paths, 3);
        assert_eq!(reader.batches.len(), 1);
        // Late files first, then the rest; each text is its own file's.
        let order: Vec<usize> = (50..paths.len()).chain(0..50).collect();
        for i in order {
            let got = reader.read(i + 1, &paths[i]);
            let want = std::fs::read(&paths[i]);
            match (got, want) {
                (Ok((text, tree, _)), Ok(want)) => {
                    assert_eq!(text, want, "{}", paths[i].display());
                    assert_eq!(tree.len as usize, want.len());
                }
                (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind()),
                (got, want) => panic!("{}: {got:?} against {want:?}", paths[i].display()),
            }
        }
        // A file taken before is read again from the source.
        let (text, _, _) = reader.read(1, &paths[0]).unwrap();
        assert_eq!(text, std::fs::read(&paths[0]).unwrap());
    }

    #[test]
    fn a_reader_dropped_halfway_lets_its_workers_go() {
        let dir = tree(400);
        let paths = site_paths(dir.path());
        let mut source = FsSource::new();
        let mut reader = batch_reader(&mut source, &paths, 2);
        for (i, p) in paths.iter().enumerate().take(5) {
            assert!(reader.read(i + 1, p).is_ok());
        }
        // Workers wait for room ahead of the walk; dropping must stop and join them.
        drop(reader);
    }

    #[test]
    fn small_globs_and_unshared_sources_read_on_the_walks_thread() {
        let dir = tree(100);
        let paths = site_paths(dir.path());
        let mut source = FsSource::new();
        let reader = batch_reader(&mut source, &paths[..MIN_BATCH - 1], 2);
        assert!(reader.batches.is_empty());
        let mut memory = super::super::MemorySource::new();
        let mut reader = Reader {
            source: &mut memory,
            batches: Vec::new(),
            workers: 2,
            parsing: Parsing::default(),
        };
        reader.announce(1, &paths);
        assert!(reader.batches.is_empty());
    }
}

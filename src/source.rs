//! Source files, byte ranges and the line index that turns offsets into lines and columns.
//!
//! Every position in gatelint is a byte offset into a file's text. Texts are bytes, not
//! `String`s: nginx and PHP read configuration files as bytes, and a Latin-1 comment or a
//! stray non-UTF-8 byte is ordinary input that must survive a round trip.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A half-open byte range `start..end` into one file's text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TextRange {
    /// First byte of the range.
    pub start: u32,
    /// One past the last byte of the range.
    pub end: u32,
}

impl TextRange {
    /// A range from `start` to `end`; `end` below `start` is clamped to an empty range.
    pub fn new(start: u32, end: u32) -> Self {
        TextRange {
            start,
            end: end.max(start),
        }
    }

    /// A range from `usize` offsets (files above 4 GiB are refused when read).
    pub fn from_usize(start: usize, end: usize) -> Self {
        TextRange::new(start as u32, end as u32)
    }

    /// An empty range at `offset`, where an insertion goes.
    pub fn empty(offset: u32) -> Self {
        TextRange {
            start: offset,
            end: offset,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> u32 {
        self.end.saturating_sub(self.start)
    }

    /// True when the range holds no byte.
    pub fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    /// The range as a `usize` range, for slicing.
    pub fn as_range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The smallest range covering both.
    pub fn cover(self, other: TextRange) -> TextRange {
        TextRange::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// True when `other` lies inside this range.
    pub fn contains_range(&self, other: TextRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// True when the two ranges share at least one byte, or when an empty range sits
    /// strictly inside the other (two insertions at one offset also overlap).
    pub fn overlaps(&self, other: TextRange) -> bool {
        if self.is_empty() || other.is_empty() {
            return (self.start > other.start && self.start < other.end)
                || (other.start > self.start && other.start < self.end)
                || self.start == other.start;
        }
        self.start < other.end && other.start < self.end
    }
}

impl fmt::Debug for TextRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A 1-based line and column, with the 0-based byte offset it stands for.
///
/// Columns count Unicode scalar values; an invalid UTF-8 sequence counts as one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LineCol {
    /// 1-based line number (lines end at LF).
    pub line: u32,
    /// 1-based column in Unicode scalar values.
    pub column: u32,
    /// 0-based byte offset.
    pub offset: u32,
}

/// How far apart the column marks inside a long line are, in bytes.
const MARK_STRIDE: usize = 1024;

/// Start offsets of every line of a text, built once per file.
///
/// Inside lines longer than [`MARK_STRIDE`] it also keeps marks (an offset and the column
/// there), so a column is counted from the nearest mark instead of from the line's start:
/// a file written on one line costs the same per position as one written on many. Marks sit
/// on ASCII bytes, where a lossy UTF-8 decode starts afresh, so counting in two pieces gives
/// the count of the whole.
#[derive(Clone, Debug, Default)]
pub struct LineIndex {
    starts: Vec<u32>,
    /// (offset, 0-based column) inside long lines, ascending.
    marks: Vec<(u32, u32)>,
}

impl LineIndex {
    /// Index the line starts of `text` (a line ends after each `\n`).
    pub fn new(text: &[u8]) -> Self {
        let mut starts = Vec::with_capacity(text.len() / 32 + 1);
        starts.push(0);
        for (i, b) in text.iter().enumerate() {
            if *b == b'\n' {
                starts.push(i as u32 + 1);
            }
        }
        let mut marks = Vec::new();
        for (i, &s) in starts.iter().enumerate() {
            let s = s as usize;
            let e = starts.get(i + 1).map_or(text.len(), |&n| n as usize);
            if e - s <= MARK_STRIDE {
                continue;
            }
            let (mut last, mut col, mut at) = (s, 0usize, s + MARK_STRIDE);
            while at < e {
                if text[at] < 0x80 {
                    col += count_scalars(&text[last..at]);
                    marks.push((at as u32, col as u32));
                    last = at;
                    at += MARK_STRIDE;
                } else {
                    at += 1;
                }
            }
        }
        LineIndex { starts, marks }
    }

    /// Number of lines (a text without a final newline still counts its last line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// 0-based line that holds `offset`.
    pub fn line_of(&self, offset: u32) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// Byte offset where 0-based `line` starts.
    pub fn line_start(&self, line: usize) -> u32 {
        self.starts[line.min(self.starts.len() - 1)]
    }

    /// Turn a byte offset into a 1-based line and column (offsets past the end are clamped).
    pub fn line_col(&self, text: &[u8], offset: u32) -> LineCol {
        let offset = offset.min(text.len() as u32);
        let line = self.line_of(offset);
        let start = self.starts[line];
        let (base, base_col) = match self.marks.partition_point(|m| m.0 <= offset) {
            0 => (start, 0),
            k if self.marks[k - 1].0 >= start => self.marks[k - 1],
            _ => (start, 0),
        };
        let piece = &text[base as usize..offset as usize];
        let n = if piece.is_ascii() {
            piece.len()
        } else {
            count_scalars(piece)
        };
        let column = base_col as usize + n + 1;
        LineCol {
            line: line as u32 + 1,
            column: column as u32,
            offset,
        }
    }
}

/// Count Unicode scalar values in `bytes`; each invalid UTF-8 sequence counts as one, as
/// it shows as one replacement character in an editor.
pub fn count_scalars(bytes: &[u8]) -> usize {
    String::from_utf8_lossy(bytes).chars().count()
}

/// The kind of configuration a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// An nginx configuration file or fragment.
    Nginx,
    /// A PHP-FPM configuration file (php-fpm.conf or a pool file).
    Fpm,
    /// A php.ini file or a conf.d override.
    PhpIni,
}

impl FileKind {
    /// The name used on the command line and in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Nginx => "nginx",
            FileKind::Fpm => "fpm",
            FileKind::PhpIni => "php-ini",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file's text with its path, as the user named it.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user named it (or as an include reached it).
    pub path: PathBuf,
    /// The raw bytes of the file.
    pub text: Vec<u8>,
    line_index: OnceLock<LineIndex>,
}

impl SourceFile {
    /// Wrap a file's bytes; the path is kept in its [`clean_path`] form.
    pub fn new(path: impl Into<PathBuf>, text: Vec<u8>) -> Self {
        SourceFile {
            path: clean_path_buf(path.into()),
            text,
            line_index: OnceLock::new(),
        }
    }

    /// Read a file from disk; files over 4 GiB are refused because offsets are 32-bit.
    pub fn read(path: &Path) -> std::io::Result<Self> {
        Ok(SourceFile::new(path, read_config(path)?))
    }

    /// The line index, built on first use.
    pub fn line_index(&self) -> &LineIndex {
        self.line_index.get_or_init(|| LineIndex::new(&self.text))
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: u32) -> LineCol {
        self.line_index().line_col(&self.text, offset)
    }

    /// The bytes of a range (clamped to the text).
    pub fn slice(&self, range: TextRange) -> &[u8] {
        let end = (range.end as usize).min(self.text.len());
        let start = (range.start as usize).min(end);
        &self.text[start..end]
    }

    /// The text of a range, with invalid UTF-8 replaced, for messages.
    pub fn slice_lossy(&self, range: TextRange) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.slice(range))
    }

    /// The path as a display string.
    pub fn display_path(&self) -> String {
        self.path.display().to_string()
    }
}

/// The form of a path every file of a run is known by: a leading `./` is dropped, so
/// `./etc/nginx/nginx.conf` (walked from `.`) and `etc/nginx/nginx.conf` (an include
/// resolved under the root `.`) name one file. `Path` already compares `a/./b` equal to
/// `a/b`; only the leading `.` is kept by its components, so that is all there is to drop.
/// `..` is kept: collapsing it without the file system would be wrong under symlinks.
pub fn clean_path(path: &Path) -> &Path {
    match path.strip_prefix(".") {
        Ok(rest) if !rest.as_os_str().is_empty() => rest,
        _ => path,
    }
}

/// [`clean_path`] of an owned path, copying only when something is dropped.
pub fn clean_path_buf(path: PathBuf) -> PathBuf {
    if clean_path(&path).as_os_str().len() == path.as_os_str().len() {
        path
    } else {
        clean_path(&path).to_path_buf()
    }
}

/// The largest file a run reads unless `--max-file-size` says otherwise.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 << 20;

static MAX_FILE_SIZE: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(DEFAULT_MAX_FILE_SIZE);

/// Set the largest file a run reads (`--max-file-size`); offsets are 32-bit, so the cap
/// never goes past 4 GiB.
pub fn set_max_file_size(bytes: u64) {
    MAX_FILE_SIZE.store(
        bytes.min(u32::MAX as u64),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// The largest file a run reads.
pub fn max_file_size() -> u64 {
    MAX_FILE_SIZE.load(std::sync::atomic::Ordering::Relaxed)
}

/// Open a configuration file for reading, without waiting on a FIFO (`O_NONBLOCK`: the
/// open returns at once, and [`check_readable`] then refuses it).
pub fn open_config(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    o.open(path)
}

fn refused(why: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, why)
}

/// What may be read as configuration: a regular file within [`max_file_size`], not on
/// `/proc` or `/sys` (their files hold the process's environment, secrets and endless
/// streams, never configuration). Returns the file's size.
pub fn check_readable(file: &std::fs::File) -> std::io::Result<u64> {
    let meta = file.metadata()?;
    let ft = meta.file_type();
    if !ft.is_file() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            let what = if ft.is_fifo() {
                "a FIFO"
            } else if ft.is_char_device() || ft.is_block_device() {
                "a device"
            } else if ft.is_socket() {
                "a socket"
            } else if ft.is_dir() {
                "a folder"
            } else {
                "a special file"
            };
            return Err(refused(format!("{what}, not a regular file")));
        }
        #[cfg(not(unix))]
        return Err(refused("not a regular file".into()));
    }
    let len = meta.len();
    // Files of /proc report a size of 0 and those of /sys one page: only such sizes are
    // worth asking the file system about.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if len == 0 || len == 4096 {
        if let Ok(fs) = rustix::fs::fstatfs(file) {
            const PROC_SUPER_MAGIC: i64 = 0x9fa0;
            const SYSFS_MAGIC: i64 = 0x6265_6572;
            // `f_type`'s integer type differs between platforms.
            #[allow(clippy::unnecessary_cast)]
            let kind = fs.f_type as i64;
            if kind == PROC_SUPER_MAGIC || kind == SYSFS_MAGIC {
                return Err(refused(
                    "a file of /proc or /sys, which is never read as configuration".into(),
                ));
            }
        }
    }
    let cap = max_file_size();
    if len > cap {
        return Err(refused(format!(
            "{len} bytes, more than the limit of {cap} bytes (--max-file-size)"
        )));
    }
    Ok(len)
}

/// Read a configuration file whole, under the rules of [`check_readable`]; a file that
/// grows past the cap while it is read is refused too.
pub fn read_config(path: &Path) -> std::io::Result<Vec<u8>> {
    let file = open_config(path)?;
    let mut buf = Vec::new();
    read_checked(file, &mut buf)?;
    Ok(buf)
}

/// Read an opened file into `buf` (cleared first) under the rules of [`check_readable`].
pub fn read_checked(file: std::fs::File, buf: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Read;
    let len = check_readable(&file)?;
    let cap = max_file_size();
    buf.clear();
    buf.reserve(len as usize);
    file.take(cap + 1).read_to_end(buf)?;
    if buf.len() as u64 > cap {
        return Err(refused(format!(
            "more than the limit of {cap} bytes (--max-file-size)"
        )));
    }
    // No configuration holds a NUL byte: such a file is a binary (or UTF-16 text), and
    // its bytes are not quoted back in a report.
    if buf.contains(&0) {
        buf.clear();
        return Err(refused(
            "not a configuration file: it holds NUL bytes (a binary, or UTF-16 text)".into(),
        ));
    }
    Ok(())
}

/// Index of a file in a [`Files`] store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// Every file one run has read, addressed by [`FileId`].
#[derive(Debug, Default)]
pub struct Files {
    files: Vec<SourceFile>,
    /// Path → first id with that path, so lookups stay O(1) on trees of thousands of files.
    by_path: crate::model::hash::FastMap<PathBuf, FileId>,
}

impl Files {
    /// An empty store.
    pub fn new() -> Self {
        Files::default()
    }

    /// Add a file and return its id.
    pub fn add(&mut self, file: SourceFile) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.by_path.entry(file.path.clone()).or_insert(id);
        self.files.push(file);
        id
    }

    /// Make room for `n` more files (a walk knows how many it read).
    pub fn reserve(&mut self, n: usize) {
        self.files.reserve(n);
        self.by_path.reserve(n);
    }

    /// The id of the file with `file`'s path, adding `file` when there is none; true when
    /// it was added. One hash of the path either way.
    pub fn find_or_add(&mut self, file: SourceFile) -> (FileId, bool) {
        let next = FileId(self.files.len() as u32);
        match self.by_path.entry(file.path.clone()) {
            std::collections::hash_map::Entry::Occupied(e) => (*e.get(), false),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(next);
                self.files.push(file);
                (next, true)
            }
        }
    }

    /// The file with this id.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Replace a file's text (after a fix), dropping its stale line index.
    pub fn set_text(&mut self, id: FileId, text: Vec<u8>) {
        let f = &mut self.files[id.0 as usize];
        *f = SourceFile::new(f.path.clone(), text);
    }

    /// The id of the file with this path (in its [`clean_path`] form), if it was read.
    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.by_path.get(clean_path(path)).copied()
    }

    /// All files with their ids, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when no file was read.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_lines_from_one_and_scalars() {
        let text = "ab\ncé d\n".as_bytes();
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0).line, 1);
        let lc = idx.line_col(text, 3);
        assert_eq!((lc.line, lc.column), (2, 1));
        // 'é' is two bytes but one column.
        let lc = idx.line_col(text, 6);
        assert_eq!((lc.line, lc.column, lc.offset), (2, 3, 6));
        let end = idx.line_col(text, 100);
        assert_eq!((end.line, end.column), (3, 1));
    }

    #[test]
    fn columns_in_long_lines_count_from_marks_as_from_the_line_start() {
        // Long lines of ASCII, multi-byte characters, invalid and cut sequences.
        let mut text = Vec::new();
        for i in 0..6000u32 {
            match i % 7 {
                0 => text.extend_from_slice("é".as_bytes()),
                1 => text.push(0xff),
                2 => text.extend_from_slice(&[0xe2, 0x82]),
                3 if i % 1500 == 3 => text.push(b'\n'),
                _ => text.push(b'a' + (i % 26) as u8),
            }
        }
        let idx = LineIndex::new(&text);
        assert!(!idx.marks.is_empty());
        for offset in (0..text.len() as u32).step_by(37) {
            let lc = idx.line_col(&text, offset);
            let start = idx.line_start(lc.line as usize - 1) as usize;
            let want = count_scalars(&text[start..offset as usize]) + 1;
            assert_eq!(lc.column as usize, want, "at {offset}");
        }
    }

    #[test]
    fn crlf_counts_cr_as_a_column() {
        let text = b"a\r\nb";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 1).column, 2);
        assert_eq!(idx.line_col(text, 3).line, 2);
    }

    #[test]
    fn invalid_bytes_count_one_column_each() {
        assert_eq!(count_scalars(b"a\xff\xfeb"), 4);
        assert_eq!(count_scalars("żółw".as_bytes()), 4);
        assert_eq!(count_scalars(b"\xe2\x82"), 1);
    }

    #[test]
    fn only_regular_files_within_the_cap_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.conf");
        std::fs::write(&f, b"events {}\n").unwrap();
        assert_eq!(read_config(&f).unwrap(), b"events {}\n");
        let e = read_config(dir.path()).unwrap_err();
        assert!(e.to_string().contains("a folder"), "{e}");
        #[cfg(target_os = "linux")]
        {
            let e = read_config(Path::new("/dev/zero")).unwrap_err();
            assert!(e.to_string().contains("a device"), "{e}");
            let e = read_config(Path::new("/proc/self/environ")).unwrap_err();
            assert!(e.to_string().contains("/proc"), "{e}");
            let fifo = dir.path().join("fifo");
            rustix::fs::mkfifoat(
                rustix::fs::CWD,
                &fifo,
                rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
            )
            .unwrap();
            // Returns at once instead of waiting for a writer.
            let e = read_config(&fifo).unwrap_err();
            assert!(e.to_string().contains("a FIFO"), "{e}");
        }
        let binary = dir.path().join("b.conf");
        std::fs::write(&binary, b"\x7fELF\x02\x01\x01\x00\x00events {}\n").unwrap();
        let e = read_config(&binary).unwrap_err();
        assert!(e.to_string().contains("NUL bytes"), "{e}");
    }

    #[test]
    fn clean_paths_drop_a_leading_dot_only() {
        let c = |p: &str| clean_path(Path::new(p)).to_path_buf();
        assert_eq!(
            c("./etc/nginx/nginx.conf"),
            PathBuf::from("etc/nginx/nginx.conf")
        );
        assert_eq!(c("././etc"), PathBuf::from("etc"));
        assert_eq!(c("."), PathBuf::from("."));
        assert_eq!(c("./"), PathBuf::from("./"));
        assert_eq!(c("../x/a.conf"), PathBuf::from("../x/a.conf"));
        assert_eq!(c("/etc/./nginx"), PathBuf::from("/etc/./nginx"));
        let mut files = Files::new();
        let id = files.add(SourceFile::new("./etc/a.conf", Vec::new()));
        assert_eq!(files.get(id).path, PathBuf::from("etc/a.conf"));
        assert_eq!(files.find(Path::new("./etc/a.conf")), Some(id));
        assert_eq!(files.find(Path::new("etc/./a.conf")), Some(id));
    }

    #[test]
    fn overlap_rules() {
        let a = TextRange::new(0, 5);
        assert!(a.overlaps(TextRange::new(4, 6)));
        assert!(!a.overlaps(TextRange::new(5, 6)));
        assert!(a.overlaps(TextRange::empty(2)));
        assert!(!a.overlaps(TextRange::empty(5)));
        assert!(TextRange::empty(3).overlaps(TextRange::empty(3)));
    }
}

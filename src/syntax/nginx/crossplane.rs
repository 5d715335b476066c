//! Print a configuration as `crossplane parse FILE` (PyPI crossplane 0.5.8,
//! <https://github.com/nginxinc/crossplane>) prints it: one compact JSON line with
//! `status`, `errors` and `config[]` (`file`, `status`, `errors`, `parsed`), statements with
//! `directive`, `line`, `args`, `includes` and `block`.
//!
//! Mirrored: the key order and compact separators of Python's `json.dumps` with
//! `ensure_ascii` (non-ASCII as `\uXXXX`); file paths joined as `os.path.join(dirname(main),
//! pattern)`; files listed once, breadth first, in the order includes are met; globs sorted;
//! a missing literal include as `[Errno 2] No such file or directory: 'PATH'`; `if`
//! arguments with the outer parentheses stripped; a `*_by_lua_block` body as one argument;
//! comments left out; a file with a syntax error listed with `parsed: []`, its includes
//! after the error not followed.
//!
//! Not mirrored, on purpose: argument values are nginx's (crossplane keeps backslashes
//! inside quotes, splits at NBSP and other Unicode spaces, glues `${a} always` into one
//! argument, ends a token at `}` and misreads Lua long brackets); crossplane's analyzer
//! (its table of directive contexts and argument counts, which drops statements it
//! rejects) is not run, so its `"X" directive is not allowed here` and `invalid number of
//! arguments` errors do not appear; syntax error wording is nginx's.

use super::crossplane_table::{CONTEXTS, DIRECTIVES};
use super::include::{has_glob_magic, join_prefix, sort_bytewise, CachingSource, FileSource};
use super::read_ahead::Reader;
use super::tree::{DirectiveEnd, DirectiveRef, NginxTree};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::OnceLock;

/// One error as crossplane reports it.
#[derive(Clone, Debug)]
struct CpError {
    message: String,
    line: Option<u32>,
}

/// What one file yields: its errors, and whether its statements are listed.
#[derive(Clone, Debug, Default)]
struct FileOutcome {
    errors: Vec<CpError>,
}

/// crossplane's run over all files: paths with the context of their first inclusion.
struct Run {
    paths: Vec<PathBuf>,
    ctxs: Vec<Rc<[String]>>,
    index_of: HashMap<PathBuf, usize, FastBuild>,
    prefix: PathBuf,
    blocks: Vec<BlockCtx>,
}

/// The keys here (directive names, paths) are short and not chosen by an attacker who
/// could gain from collisions, and SipHash showed in profiles.
type FastBuild = std::hash::BuildHasherDefault<crate::model::hash::FastHasher>;

impl Run {
    fn intern(&mut self, path: PathBuf, ctx: &Rc<[String]>) -> usize {
        if let Some(&i) = self.index_of.get(&path) {
            return i;
        }
        let i = self.paths.len();
        self.paths.push(path.clone());
        self.ctxs.push(Rc::clone(ctx));
        self.index_of.insert(path, i);
        i
    }

    /// The context inside a block `name` opened in `parent`, with its mask. Blocks repeat
    /// the same few contexts, so recent answers are kept (by the parent's identity).
    fn enter(&mut self, name: &str, parent: &Rc<[String]>) -> (Rc<[String]>, Option<u32>) {
        const KEEP: usize = 64;
        if let Some(b) = self
            .blocks
            .iter()
            .find(|b| Rc::ptr_eq(&b.parent, parent) && b.name == name)
        {
            return (Rc::clone(&b.ctx), b.mask);
        }
        let ctx: Rc<[String]> = Rc::from(enter_block_ctx(name, parent));
        let mask = context_mask(&ctx);
        if self.blocks.len() < KEEP {
            self.blocks.push(BlockCtx {
                parent: Rc::clone(parent),
                name: name.to_string(),
                ctx: Rc::clone(&ctx),
                mask,
            });
        }
        (ctx, mask)
    }
}

/// A remembered block context: `ctx` is what a block `name` opens inside `parent`.
struct BlockCtx {
    parent: Rc<[String]>,
    name: String,
    ctx: Rc<[String]>,
    mask: Option<u32>,
}

/// Print the crossplane JSON for `main` and its includes. Returns whether the status is
/// `ok`; fails when the main file cannot be read or `out` fails.
pub fn write_crossplane(
    main: &Path,
    prefix: Option<&Path>,
    source: &mut dyn FileSource,
    out: &mut dyn Write,
) -> io::Result<bool> {
    // Fail early, as the CLI must exit 2 when the main file cannot be read.
    source.check(main)?;
    // The header (status, all errors) comes before the files, but the errors are known
    // only after all files. Spool the files to an anonymous temporary file, which keeps
    // memory flat and parses once; without one, parse twice (the first pass gathers the
    // errors and keeps the texts so the second reads nothing from disk).
    match tempfile::tempfile() {
        Ok(file) => {
            let mut spool = io::BufWriter::with_capacity(1 << 16, file);
            let (paths, outcomes) = run_files(main, prefix, source, Some(&mut spool))?;
            let mut file = spool.into_inner().map_err(|e| e.into_error())?;
            let ok = write_header(out, &paths, &outcomes)?;
            file.seek(io::SeekFrom::Start(0))?;
            copy_spool(&mut file, out)?;
            out.write_all(b"]}\n")?;
            Ok(ok)
        }
        Err(_) => {
            let mut cache = CachingSource::new(source);
            let (paths, outcomes) = run_files(main, prefix, &mut cache, None)?;
            let ok = write_header(out, &paths, &outcomes)?;
            cache.second_pass();
            run_files(main, prefix, &mut cache, Some(out))?;
            out.write_all(b"]}\n")?;
            Ok(ok)
        }
    }
}

/// Copy the spooled files to `out` in large pieces: `io::copy` through a `dyn Write`
/// moves 8 KiB per system call.
fn copy_spool(file: &mut std::fs::File, out: &mut dyn Write) -> io::Result<()> {
    use std::io::Read;
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => out.write_all(&chunk[..n])?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// `{"status":…,"errors":[…],"config":[`; returns whether the status is ok.
fn write_header(
    out: &mut dyn Write,
    paths: &[PathBuf],
    outcomes: &[FileOutcome],
) -> io::Result<bool> {
    let ok = outcomes.iter().all(|o| o.errors.is_empty());
    out.write_all(b"{\"status\":")?;
    out.write_all(if ok { b"\"ok\"" } else { b"\"failed\"" })?;
    out.write_all(b",\"errors\":[")?;
    let mut first = true;
    for (i, o) in outcomes.iter().enumerate() {
        for e in &o.errors {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            out.write_all(b"{\"file\":")?;
            py_str(out, &paths[i].display().to_string())?;
            out.write_all(b",\"error\":")?;
            py_str(out, &e.message)?;
            write_line(out, e.line)?;
            out.write_all(b"}")?;
        }
    }
    out.write_all(b"],\"config\":[")?;
    Ok(ok)
}

/// Visit the files as crossplane does (breadth first, each once, in the context of its
/// first inclusion), printing each file's config entry to `out` when given.
fn run_files(
    main: &Path,
    prefix: Option<&Path>,
    source: &mut dyn FileSource,
    mut out: Option<&mut dyn Write>,
) -> io::Result<(Vec<PathBuf>, Vec<FileOutcome>)> {
    let mut run = Run {
        paths: Vec::new(),
        ctxs: Vec::new(),
        blocks: Vec::new(),
        index_of: HashMap::default(),
        prefix: match prefix {
            Some(p) => p.to_path_buf(),
            None => main.parent().map(Path::to_path_buf).unwrap_or_default(),
        },
    };
    run.intern(main.to_path_buf(), &Rc::from(Vec::new()));
    let mut outcomes = Vec::new();
    let mut i = 0;
    let mut buf: Vec<u8> = Vec::new();
    let mut reader = Reader::new(source, super::WalkOptions::default());
    while i < run.paths.len() {
        let path = run.paths[i].clone();
        buf.clear();
        let mut outcome = FileOutcome::default();
        match reader.read(i, &path) {
            Ok((text, tree, _)) => {
                let ctx = Rc::clone(&run.ctxs[i]);
                let mut file = FileRun {
                    run: &mut run,
                    reader: &mut reader,
                    text: &text,
                    tree: &tree,
                    path: &path,
                    errors: &mut outcome.errors,
                    lines: LineCursor::default(),
                    emit: out.is_some(),
                };
                let listed = file.statements(&ctx, &mut buf)?;
                if !listed {
                    buf.clear();
                    buf.extend_from_slice(b"[]");
                    // crossplane reports the syntax error it stopped at.
                    if let Some(e) = tree.errors.first() {
                        // At the end of the file crossplane names the line of the last
                        // token it read, not the line after it.
                        let at = if e.range.start as usize >= text.len() {
                            text.iter()
                                .rposition(|b| !b.is_ascii_whitespace())
                                .unwrap_or(0) as u32
                        } else {
                            e.range.start
                        };
                        let line = LineCursor::default().line(&text, at);
                        outcome.errors.push(CpError {
                            message: format!("{} in {}:{line}", e.message, path.display()),
                            line: Some(line),
                        });
                    }
                }
            }
            Err(e) => {
                outcome.errors.push(CpError {
                    message: python_io_error(&path, &e),
                    line: None,
                });
                buf.extend_from_slice(b"[]");
            }
        }
        if let Some(o) = out.as_deref_mut() {
            if i > 0 {
                o.write_all(b",")?;
            }
            o.write_all(b"{\"file\":")?;
            py_str(o, &path.display().to_string())?;
            o.write_all(if outcome.errors.is_empty() {
                b",\"status\":\"ok\",\"errors\":["
            } else {
                b",\"status\":\"failed\",\"errors\":["
            })?;
            for (k, e) in outcome.errors.iter().enumerate() {
                if k > 0 {
                    o.write_all(b",")?;
                }
                o.write_all(b"{\"error\":")?;
                py_str(o, &e.message)?;
                write_line(o, e.line)?;
                o.write_all(b"}")?;
            }
            o.write_all(b"],\"parsed\":")?;
            o.write_all(&buf)?;
            o.write_all(b"}")?;
        }
        outcomes.push(outcome);
        i += 1;
    }
    Ok((run.paths, outcomes))
}

fn write_line(out: &mut dyn Write, line: Option<u32>) -> io::Result<()> {
    match line {
        Some(l) => write!(out, ",\"line\":{l}"),
        None => out.write_all(b",\"line\":null"),
    }
}

/// One open list of statements in crossplane's recursive `_parse`, kept on a stack.
struct Frame {
    ctx: Rc<[String]>,
    /// crossplane's bit mask of `ctx`, `None` for a context it does not know.
    mask: Option<u32>,
    /// Skipping a block crossplane consumes without output.
    consume: bool,
    /// Statements already written in this list.
    count: usize,
    /// What to write after the list closes (`]}` and comments found among the args).
    after: Vec<u8>,
}

struct FileRun<'a, 's> {
    run: &'a mut Run,
    reader: &'a mut Reader<'s>,
    text: &'a [u8],
    tree: &'a NginxTree,
    path: &'a Path,
    errors: &'a mut Vec<CpError>,
    lines: LineCursor,
    /// Write the statements (pass 2) or only gather errors and includes (pass 1).
    emit: bool,
}

/// 1-based line numbers for offsets met in increasing order (directives in preorder):
/// counts the newlines since the last offset instead of indexing the whole file.
#[derive(Default)]
pub(super) struct LineCursor {
    offset: u32,
    line: u32,
}

impl LineCursor {
    /// The 1-based line of `offset` in `text`.
    pub(super) fn line(&mut self, text: &[u8], offset: u32) -> u32 {
        let offset = offset.min(text.len() as u32);
        if offset < self.offset {
            *self = LineCursor::default();
        }
        self.line += count_newlines(&text[self.offset as usize..offset as usize]);
        self.offset = offset;
        self.line + 1
    }
}

/// Number of `\n` bytes, eight at a time (the gaps between directives are short, too
/// short for the vectorised loop to start).
fn count_newlines(bytes: &[u8]) -> u32 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut n = 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(chunk);
        let v = u64::from_le_bytes(eight) ^ 0x0a0a_0a0a_0a0a_0a0a;
        // The high bit of each byte of `zero` is set exactly when that byte of `v` is 0.
        let zero = !(((v & LOW7) + LOW7) | v | LOW7);
        n += zero.count_ones();
    }
    n + chunks.remainder().iter().filter(|&&b| b == b'\n').count() as u32
}

impl FileRun<'_, '_> {
    fn line(&mut self, offset: u32) -> u32 {
        self.lines.line(self.text, offset)
    }

    /// crossplane's `_parse` over our tree, with an explicit stack. Returns false when
    /// the file has a syntax error (crossplane then lists no statement for it).
    fn statements(&mut self, ctx: &Rc<[String]>, out: &mut Vec<u8>) -> io::Result<bool> {
        let tree = self.tree;
        let text = self.text;
        // crossplane stops at the first syntax error: statements before it still ran
        // their includes, the file's list is empty.
        let cutoff = tree.errors.first().map(|e| e.range.start);
        let mut stack: Vec<Frame> = vec![Frame {
            ctx: Rc::clone(ctx),
            mask: context_mask(ctx),
            consume: false,
            count: 0,
            after: Vec::new(),
        }];
        out.push(b'[');
        // One list of arguments, refilled for each directive.
        let mut args: Vec<Arg<'_>> = Vec::new();
        // Events: each directive in preorder, and the `}` of each block after its last
        // descendant.
        let mut closes: Vec<u32> = Vec::new();
        let n = tree.directive_count() as u32;
        let mut id = 0u32;
        loop {
            // Close blocks that end before directive `id`.
            while closes.last().is_some_and(|&end| id >= end) {
                closes.pop();
                if stack.len() <= 1 {
                    // crossplane's file-level `_parse` returns at a `}`: the rest of
                    // the file is never read.
                    out.extend_from_slice(b"]");
                    return Ok(cutoff.is_none());
                }
                let Some(frame) = stack.pop() else { break };
                if !frame.consume {
                    out.extend_from_slice(b"]");
                    out.extend_from_slice(&frame.after);
                }
            }
            if id >= n {
                break;
            }
            let d = tree.directive(text, super::tree::DirectiveId(id));
            id += 1;
            if cutoff.is_some_and(|c| d.span().start >= c) {
                break;
            }
            let opens_block = matches!(d.end(), DirectiveEnd::Block { .. });
            if opens_block {
                closes.push(d.subtree_end().0);
            }
            let Some(top) = stack.last_mut() else { break };
            if top.consume {
                if opens_block {
                    stack.push(Frame {
                        ctx: Rc::from(Vec::new()),
                        mask: None,
                        consume: true,
                        count: 0,
                        after: Vec::new(),
                    });
                }
                continue;
            }
            let cur_ctx = Rc::clone(&top.ctx);
            let cur_mask = top.mask;
            let name = d.name();
            let line = self.line(d.name_word().range().start);
            crossplane_args(&d, &mut args);
            let term = if opens_block { b'{' } else { b';' };
            if let Err(reason) = analyze(&name, &args, term, cur_mask) {
                self.errors.push(CpError {
                    message: format!("{} in {}:{}", reason, self.path.display(), line),
                    line: Some(line),
                });
                // A block dropped for "not terminated by ;" is consumed; after any other
                // error the `{` was taken as the terminator and dropped with the
                // statement: the block's statements join the current list and its `}`
                // ends the current list (the close event pops the current frame).
                if opens_block && reason.ends_with(" is not terminated by \";\"") {
                    stack.push(Frame {
                        ctx: Rc::from(Vec::new()),
                        mask: None,
                        consume: true,
                        count: 0,
                        after: Vec::new(),
                    });
                }
                continue;
            }
            let targets = if name == "include" && term == b';' {
                Some(self.include(&args, line, &cur_ctx))
            } else {
                None
            };
            if !self.emit {
                if opens_block {
                    let (ctx, mask) = self.run.enter(&name, &cur_ctx);
                    stack.push(Frame {
                        mask,
                        ctx,
                        consume: false,
                        count: 0,
                        after: Vec::new(),
                    });
                }
                continue;
            }
            let Some(top) = stack.last_mut() else { break };
            if top.count > 0 {
                out.push(b',');
            }
            top.count += 1;
            out.extend_from_slice(b"{\"directive\":");
            py_str_vec(out, &name);
            out.extend_from_slice(b",\"line\":");
            push_u64(out, u64::from(line));
            out.extend_from_slice(b",\"args\":[");
            for (k, a) in args.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                a.write_json(out);
            }
            out.push(b']');
            if let Some(targets) = targets {
                out.extend_from_slice(b",\"includes\":[");
                for (k, t) in targets.iter().enumerate() {
                    if k > 0 {
                        out.push(b',');
                    }
                    push_u64(out, *t as u64);
                }
                out.push(b']');
            }
            let after = comments_in_args(tree, text, &d, line as usize)?;
            if opens_block {
                out.extend_from_slice(b",\"block\":[");
                let mut closing = b"}".to_vec();
                closing.extend_from_slice(&after);
                let (ctx, mask) = self.run.enter(&name, &cur_ctx);
                stack.push(Frame {
                    mask,
                    ctx,
                    consume: false,
                    count: 0,
                    after: closing,
                });
            } else {
                out.push(b'}');
                out.extend_from_slice(&after);
            }
        }
        // End of file: close what is open (only a file with a syntax error leaves blocks
        // open, and its list is not shown).
        while let Some(frame) = stack.pop() {
            if stack.is_empty() {
                break;
            }
            if !frame.consume {
                out.extend_from_slice(b"]");
                out.extend_from_slice(&frame.after);
            }
        }
        out.push(b']');
        Ok(cutoff.is_none())
    }

    /// crossplane's include handling: join to the main file's folder, glob (sorted) when
    /// the pattern has magic, else check that the file opens.
    fn include(&mut self, args: &[Arg<'_>], line: u32, ctx: &Rc<[String]>) -> Vec<usize> {
        let Some(pattern) = args.first().map(|a| &a.text) else {
            return Vec::new();
        };
        let resolved = join_prefix(&self.run.prefix, &pattern[..]);
        let mut targets = Vec::new();
        if has_glob_magic(&pattern[..]) {
            let mut matches = self.reader.source.glob(&resolved).unwrap_or_default();
            // Python sorts the names as strings, not path components.
            sort_bytewise(&mut matches);
            matches.dedup();
            let first_new = self.run.paths.len();
            for m in matches {
                targets.push(self.run.intern(m, ctx));
            }
            self.reader
                .announce(first_new, &self.run.paths[first_new..]);
        } else if let Some(&i) = self.run.index_of.get(&resolved) {
            targets.push(i);
        } else {
            match self.reader.source.check(&resolved) {
                Ok(()) => targets.push(self.run.intern(resolved, ctx)),
                Err(e) => self.errors.push(CpError {
                    message: python_io_error(&resolved, &e),
                    line: Some(line),
                }),
            }
        }
        targets
    }
}

/// crossplane's `enter_block_ctx`: a `location` anywhere under `http` is `http > location`.
fn enter_block_ctx(name: &str, ctx: &[String]) -> Vec<String> {
    if ctx.first().is_some_and(|c| c == "http") && name == "location" {
        return vec!["http".to_string(), "location".to_string()];
    }
    let mut c = ctx.to_vec();
    c.push(name.to_string());
    c
}

const NGX_CONF_BLOCK: u32 = 0x0000_0100;
const NGX_CONF_FLAG: u32 = 0x0000_0200;
const NGX_CONF_ANY: u32 = 0x0000_0400;
const NGX_CONF_1MORE: u32 = 0x0000_0800;
const NGX_CONF_2MORE: u32 = 0x0000_1000;

/// crossplane's bit mask for a context path, `None` when crossplane does not know it.
fn context_mask(ctx: &[String]) -> Option<u32> {
    CONTEXTS
        .iter()
        .find(|(c, _)| c.len() == ctx.len() && c.iter().zip(ctx).all(|(a, b)| *a == b.as_str()))
        .map(|(_, m)| *m)
}

/// crossplane's `analyze` (not strict, context and argument checks on).
fn analyze(
    directive: &str,
    args: &[Arg<'_>],
    term: u8,
    ctx_mask: Option<u32>,
) -> Result<(), String> {
    let Some(ctx_mask) = ctx_mask else {
        return Ok(());
    };
    static TABLE: OnceLock<HashMap<&'static str, &'static [u32], FastBuild>> = OnceLock::new();
    let table = TABLE.get_or_init(|| DIRECTIVES.iter().copied().collect());
    let Some(&all) = table.get(directive) else {
        return Ok(());
    };
    if !all.iter().any(|m| m & ctx_mask != 0) {
        return Err(format!("\"{directive}\" directive is not allowed here"));
    }
    let masks = all.iter().copied().filter(|m| m & ctx_mask != 0);
    let n = args.len();
    let valid_flag =
        |a: &Arg<'_>| a.text.eq_ignore_ascii_case(b"on") || a.text.eq_ignore_ascii_case(b"off");
    let mut reason = String::new();
    for mask in masks.rev() {
        if mask & NGX_CONF_BLOCK != 0 && term != b'{' {
            reason = format!("directive \"{directive}\" has no opening \"{{\"");
            continue;
        }
        if mask & NGX_CONF_BLOCK == 0 && term != b';' {
            reason = format!("directive \"{directive}\" is not terminated by \";\"");
            continue;
        }
        if (n <= 7 && (mask >> n) & 1 != 0)
            || (mask & NGX_CONF_FLAG != 0 && n == 1 && valid_flag(&args[0]))
            || mask & NGX_CONF_ANY != 0
            || (mask & NGX_CONF_1MORE != 0 && n >= 1)
            || (mask & NGX_CONF_2MORE != 0 && n >= 2)
        {
            return Ok(());
        } else if mask & NGX_CONF_FLAG != 0 && n == 1 && !valid_flag(&args[0]) {
            reason = format!(
                "invalid value \"{}\" in \"{directive}\" directive, it must be \"on\" or \"off\"",
                String::from_utf8_lossy(&args[0].text)
            );
        } else {
            reason = format!("invalid number of arguments in \"{directive}\" directive");
        }
    }
    Err(reason)
}

/// crossplane lists comments found between a directive's name and its `;` or `{` as
/// `#` statements right after it, even without `--include-comments` (`comments_in_args`
/// in its parser.py). Returns them as JSON, each preceded by a comma.
fn comments_in_args(
    tree: &NginxTree,
    text: &[u8],
    d: &DirectiveRef<'_>,
    line: usize,
) -> io::Result<Vec<u8>> {
    let start = d.name_word().range().start;
    let end = match d.end() {
        DirectiveEnd::Semicolon(r) => r.start,
        DirectiveEnd::Block { open, .. } | DirectiveEnd::LuaBlock { open, .. } => open.start,
        DirectiveEnd::Missing => d.span().end,
    };
    let comments = tree.comments();
    let first = comments.partition_point(|c| c.start < start);
    let mut out = Vec::new();
    for c in comments[first..].iter().take_while(|c| c.start < end) {
        let mut body = &text[c.as_range()][1..];
        if body.last() == Some(&b'\r') {
            body = &body[..body.len() - 1];
        }
        write!(
            out,
            ",{{\"directive\":\"#\",\"line\":{line},\"args\":[],\"comment\":"
        )?;
        py_str(&mut out, &String::from_utf8_lossy(body))?;
        out.write_all(b"}")?;
    }
    Ok(out)
}

/// The arguments as crossplane lists them, into `args` (emptied first).
fn crossplane_args<'a>(d: &DirectiveRef<'a>, args: &mut Vec<Arg<'a>>) {
    args.clear();
    args.extend(d.args().map(|a| Arg::new(a.value())));
    if let Some(body) = d.lua_body() {
        args.push(Arg::new(Cow::Borrowed(body)));
    }
    if d.is("if") {
        let mut owned: Vec<String> = args
            .drain(..)
            .map(|a| String::from_utf8_lossy(&a.text).into_owned())
            .collect();
        prepare_if_args(&mut owned);
        args.extend(
            owned
                .into_iter()
                .map(|s| Arg::new(Cow::Owned(s.into_bytes()))),
        );
    }
}

/// One argument as crossplane sees it: the decoded value as (lossy) UTF-8, kept as
/// bytes, and whether it goes into JSON as it is (most do: then it is never decoded).
struct Arg<'a> {
    text: Cow<'a, [u8]>,
    plain: bool,
}

impl<'a> Arg<'a> {
    fn new(value: Cow<'a, [u8]>) -> Self {
        if is_plain_json(&value, false) {
            return Arg {
                text: value,
                plain: true,
            };
        }
        let text = match value {
            Cow::Borrowed(b) => match String::from_utf8_lossy(b) {
                Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                Cow::Owned(s) => Cow::Owned(s.into_bytes()),
            },
            Cow::Owned(v) => match String::from_utf8(v) {
                Ok(s) => Cow::Owned(s.into_bytes()),
                Err(e) => Cow::Owned(
                    String::from_utf8_lossy(e.as_bytes())
                        .into_owned()
                        .into_bytes(),
                ),
            },
        };
        Arg { text, plain: false }
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        if self.plain {
            out.reserve(self.text.len() + 2);
            out.push(b'"');
            out.extend_from_slice(&self.text);
            out.push(b'"');
        } else {
            py_str_vec(out, &String::from_utf8_lossy(&self.text));
        }
    }
}

/// crossplane's `_prepare_if_args`: strip the outer parentheses of an `if` condition.
pub fn prepare_if_args(args: &mut Vec<String>) {
    let (Some(first), Some(last)) = (args.first(), args.last()) else {
        return;
    };
    if !(first.starts_with('(') && last.ends_with(')')) {
        return;
    }
    let f = args[0][1..].trim_start_matches(py_space).to_string();
    args[0] = f;
    let n = args.len() - 1;
    let l = &args[n];
    let l = l[..l.len() - 1].trim_end_matches(py_space).to_string();
    args[n] = l;
    let start = usize::from(args[0].is_empty());
    let end = args.len() - usize::from(args[args.len() - 1].is_empty());
    if start >= end {
        args.clear();
    } else {
        args.truncate(end);
        args.drain(..start);
    }
}

/// Python's `str.isspace` (what `lstrip`/`rstrip` remove).
fn py_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{1c}'..='\u{1f}')
}

/// Python's text for an `OSError`: `[Errno 2] No such file or directory: 'PATH'`.
fn python_io_error(path: &Path, e: &io::Error) -> String {
    let text = e.to_string();
    let reason = match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let repr = py_repr(&path.display().to_string());
    match e.raw_os_error() {
        Some(code) => format!("[Errno {code}] {reason}: {repr}"),
        None => format!("{reason}: {repr}"),
    }
}

/// Python's `repr` of a string (the common cases: quote choice and backslash escapes).
fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A JSON string as Python's `json.dumps` writes it with `ensure_ascii=True`.
pub fn py_str(out: &mut dyn Write, s: &str) -> io::Result<()> {
    let mut buf = Vec::with_capacity(s.len() + 2);
    py_str_vec(&mut buf, s);
    out.write_all(&buf)
}

/// [`py_str`] into a buffer (no dynamic writer per string: this runs for every word).
fn py_str_vec(buf: &mut Vec<u8>, s: &str) {
    if is_plain_json(s.as_bytes(), false) {
        buf.reserve(s.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
        return;
    }
    buf.push(b'"');
    for c in s.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            '\n' => buf.extend_from_slice(b"\\n"),
            '\r' => buf.extend_from_slice(b"\\r"),
            '\t' => buf.extend_from_slice(b"\\t"),
            '\u{8}' => buf.extend_from_slice(b"\\b"),
            '\u{c}' => buf.extend_from_slice(b"\\f"),
            ' '..='~' => buf.push(c as u8),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    buf.extend_from_slice(format!("\\u{:04x}", u).as_bytes());
                }
            }
        }
    }
    buf.push(b'"');
}

/// True when `bytes` go into a JSON string as they are: no `"`, `\\` or control
/// character, and (unless `non_ascii` is allowed) nothing outside printable ASCII.
/// Eight bytes at a time, as most words are short and this runs for each of them.
pub(crate) fn is_plain_json(bytes: &[u8], non_ascii: bool) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte of `x` is zero (exact as a yes/no answer).
    fn has_zero(x: u64) -> bool {
        x.wrapping_sub(ONES) & !x & HIGH != 0
    }
    let plain_byte = |b: u8| b >= 0x20 && b != b'"' && b != b'\\' && (non_ascii || b < 0x7f);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(chunk);
        let x = u64::from_le_bytes(eight);
        let high = x & HIGH;
        if high != 0 && !non_ascii {
            return false;
        }
        // Bytes below 0x20 (in the low seven bits, of bytes without the high bit), 0x7f,
        // `"` and `\\`.
        let low = x & !HIGH;
        let control = low.wrapping_sub(ONES * 0x20) & !low & HIGH & !high;
        if control != 0
            || has_zero(x ^ (ONES * u64::from(b'"')))
            || has_zero(x ^ (ONES * u64::from(b'\\')))
            || (!non_ascii && has_zero(x ^ (ONES * 0x7f)))
        {
            return false;
        }
    }
    chunks.remainder().iter().all(|&b| plain_byte(b))
}

/// A decimal number, as `write!` would print it, without the formatting machinery.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

//! `gatelint parse --format json` for nginx: the lossless tree of the main file and every
//! file it includes, with byte ranges and 1-based lines and columns.
//!
//! Shape (one JSON value; files are written one at a time, so memory stays flat;
//! `contexts[i]` lists the block paths file `i` is included into):
//! ```json
//! {"schema_version": 1, "kind": "nginx", "main": "nginx.conf",
//!  "files": [{"index": 0, "path": "nginx.conf", "bom": false,
//!             "errors": [{"message": "unexpected \"}\"", "range": R}],
//!             "comments": [{"text": "# x", "range": R}],
//!             "directives": [{"name": "http", "name_range": R, "range": R,
//!                             "args": [{"value": "…", "raw": "\"…\"", "quote": "double", "range": R}],
//!                             "end": {"kind": "block", "open": R, "close": R},
//!                             "includes": [1, 2], "children": [ … ]}]}],
//!  "include_errors": [{"file": 0, "path": "nginx.conf", "message": "open() …", "range": R}],
//!  "contexts": [[[]], [["http"]]],
//!  "status": "ok"}
//! ```
//! `R` is `{"start": {"line", "column", "offset"}, "end": {…}}`; `end.kind` is `semicolon`
//! (`range`), `block` (`open`, `close` or null), `lua_block` (`open`, `body`, `close`) or
//! `missing`; a Lua block also has `"lua_body"` with its raw text. Non-UTF-8 bytes in
//! values are shown as U+FFFD (the ranges point at the exact bytes).

use super::crossplane::{is_plain_json, push_u64};
use super::include::{walk, FileSource, VisitedFile, WalkOptions};
use super::tree::DirectiveEnd;
use crate::source::{LineCol, LineIndex, TextRange};
use std::io::{self, Write};
use std::path::Path;

struct Pos<'a> {
    text: &'a [u8],
    li: LineIndex,
}

impl Pos<'_> {
    fn line_cols(&self, r: TextRange) -> (LineCol, LineCol) {
        (self.line_col(r.start), self.line_col(r.end))
    }

    fn line_col(&self, offset: u32) -> LineCol {
        self.li.line_col(self.text, offset)
    }

    fn range(&self, out: &mut Vec<u8>, r: TextRange) {
        let (s, e) = self.line_cols(r);
        write_range(out, s, e);
    }
}

/// `{"start":{"line":…,"column":…,"offset":…},"end":{…}}`.
fn write_range(out: &mut Vec<u8>, s: LineCol, e: LineCol) {
    out.extend_from_slice(b"{\"start\":");
    write_line_col(out, s);
    out.extend_from_slice(b",\"end\":");
    write_line_col(out, e);
    out.push(b'}');
}

fn write_line_col(out: &mut Vec<u8>, p: LineCol) {
    out.extend_from_slice(b"{\"line\":");
    push_u64(out, u64::from(p.line));
    out.extend_from_slice(b",\"column\":");
    push_u64(out, u64::from(p.column));
    out.extend_from_slice(b",\"offset\":");
    push_u64(out, u64::from(p.offset));
    out.push(b'}');
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    // What serde_json leaves as it is: all but `"`, `\\` and control characters.
    if is_plain_json(s.as_bytes(), true) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    // serde_json escapes exactly what JSON needs; writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn json_bytes(out: &mut Vec<u8>, b: &[u8]) {
    match std::str::from_utf8(b) {
        Ok(s) => json_str(out, s),
        Err(_) => json_str(out, &String::from_utf8_lossy(b)),
    }
}

/// Print the JSON tree of `main` and its includes. Returns whether there was no syntax
/// error and no include error; fails when the main file cannot be read or `out` fails.
/// One pass: each file is printed as soon as it is parsed, and what needs the whole
/// include graph (contexts, cycles, the status) comes after the files.
pub fn write_json(
    main: &Path,
    prefix: Option<&Path>,
    source: &mut dyn FileSource,
    out: &mut dyn Write,
) -> io::Result<bool> {
    source.check(main)?;
    let mut head = Vec::new();
    head.extend_from_slice(b"{\"schema_version\":1,\"kind\":\"nginx\",\"main\":");
    json_str(&mut head, &main.display().to_string());
    head.extend_from_slice(b",\"files\":[");
    out.write_all(&head)?;

    let mut io_err: Option<io::Error> = None;
    let mut first_file = true;
    let mut syntax_ok = true;
    // Include errors are worded per file while its line index exists; an include that
    // turns out to reach an unreadable file or to close a cycle needs its lines later.
    let mut trailer: Vec<u8> = Vec::new();
    let mut include_ranges: Vec<(usize, TextRange, LineCol, LineCol)> = Vec::new();
    let mut buf = Vec::new();
    let walked = walk(
        main,
        prefix,
        source,
        WalkOptions {
            slim_includes: true,
            // Writing the JSON takes longer than reading and parsing: files read ahead
            // would only wait in memory.
            one_thread: true,
            ..WalkOptions::default()
        },
        &mut |v: VisitedFile| {
            if io_err.is_some() {
                return;
            }
            syntax_ok &= v.tree.is_ok();
            buf.clear();
            if !first_file {
                buf.push(b',');
            }
            first_file = false;
            let pos = Pos {
                text: &v.text,
                li: LineIndex::new(&v.text),
            };
            write_file(&mut buf, &v, &pos);
            for inc in &v.includes {
                let (s, e) = pos.line_cols(inc.range);
                include_ranges.push((v.index, inc.range, s, e));
                if let Some(message) = &inc.error {
                    let mut r = Vec::new();
                    write_range(&mut r, s, e);
                    push_error(&mut trailer, v.index, &v.path, message, &r);
                }
            }
            if let Err(e) = out.write_all(&buf) {
                io_err = Some(e);
            }
        },
    )?;
    if let Some(e) = io_err {
        return Err(e);
    }
    let range_of = |file: usize, range: TextRange| -> Vec<u8> {
        let mut out = Vec::new();
        match include_ranges
            .iter()
            .find(|(f, r, _, _)| *f == file && *r == range)
        {
            Some((_, _, s, e)) => write_range(&mut out, *s, *e),
            None => out.extend_from_slice(b"null"),
        }
        out
    };
    for u in &walked.unreadable {
        if let Some(inc) = walked
            .includes
            .iter()
            .find(|i| i.targets.contains(&u.index))
        {
            let r = range_of(inc.from, inc.range);
            push_error(
                &mut trailer,
                inc.from,
                &walked.paths[inc.from],
                &u.message,
                &r,
            );
        }
    }
    let cycles = walked.cycles();
    for (i, msg) in &cycles {
        let inc = &walked.includes[*i];
        let r = range_of(inc.from, inc.range);
        push_error(&mut trailer, inc.from, &walked.paths[inc.from], msg, &r);
    }
    let ok = syntax_ok && trailer.is_empty();
    out.write_all(b"],\"include_errors\":[")?;
    out.write_all(&trailer)?;
    out.write_all(b"],\"contexts\":")?;
    write_contexts(out, &walked)?;
    out.write_all(if ok {
        b",\"status\":\"ok\"}\n"
    } else {
        b",\"status\":\"failed\"}\n"
    })?;
    Ok(ok)
}

/// `contexts` as `serde_json` prints a `Vec<Vec<Vec<String>>>`, each distinct block path
/// printed once and copied for each file that has it.
fn write_contexts(out: &mut dyn Write, walked: &super::include::WalkResult) -> io::Result<()> {
    let (table, ids) = walked.context_ids();
    let table: Vec<Vec<u8>> = table
        .iter()
        .map(|path| serde_json::to_vec(path).map_err(io::Error::other))
        .collect::<io::Result<_>>()?;
    let mut buf = Vec::with_capacity(1 << 16);
    buf.push(b'[');
    for (i, file) in ids.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.push(b'[');
        for (k, &c) in file.iter().enumerate() {
            if k > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(&table[c as usize]);
        }
        buf.push(b']');
        if buf.len() >= 1 << 15 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.push(b']');
    out.write_all(&buf)
}

fn push_error(trailer: &mut Vec<u8>, file: usize, path: &Path, message: &str, range_json: &[u8]) {
    if !trailer.is_empty() {
        trailer.push(b',');
    }
    let _ = write!(trailer, "{{\"file\":{file},\"path\":");
    json_str(trailer, &path.display().to_string());
    trailer.extend_from_slice(b",\"message\":");
    json_str(trailer, message);
    trailer.extend_from_slice(b",\"range\":");
    trailer.extend_from_slice(range_json);
    trailer.push(b'}');
}

fn write_file(buf: &mut Vec<u8>, v: &VisitedFile, pos: &Pos<'_>) {
    let tree = &v.tree;
    let text = &v.text[..];
    let _ = write!(buf, "{{\"index\":{},\"path\":", v.index);
    json_str(buf, &v.path.display().to_string());
    let _ = write!(buf, ",\"bom\":{},\"errors\":[", tree.bom);
    for (i, e) in tree.errors.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(b"{\"message\":");
        json_str(buf, &e.message);
        buf.extend_from_slice(b",\"range\":");
        pos.range(buf, e.range);
        buf.push(b'}');
    }
    buf.extend_from_slice(b"],\"comments\":[");
    for (i, c) in tree.comments().iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(b"{\"text\":");
        json_bytes(buf, &text[c.as_range()]);
        buf.extend_from_slice(b",\"range\":");
        pos.range(buf, *c);
        buf.push(b'}');
    }
    buf.extend_from_slice(b"],\"directives\":[");
    // Include directives come in document order, like `tree.all`: walk them along.
    let mut includes = v.includes.iter().peekable();
    let mut stack: Vec<u32> = Vec::new();
    let mut need_comma = false;
    for d in tree.all(text) {
        while stack.last().is_some_and(|&end| d.id().0 >= end) {
            stack.pop();
            buf.extend_from_slice(b"]}");
            need_comma = true;
        }
        if need_comma {
            buf.push(b',');
        }
        need_comma = true;
        let name = d.name_word();
        buf.extend_from_slice(b"{\"name\":");
        json_str(buf, &name.as_str());
        buf.extend_from_slice(b",\"name_range\":");
        pos.range(buf, name.range());
        buf.extend_from_slice(b",\"range\":");
        pos.range(buf, d.span());
        buf.extend_from_slice(b",\"args\":[");
        for (k, a) in d.args().enumerate() {
            if k > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(b"{\"value\":");
            json_str(buf, &a.as_str());
            buf.extend_from_slice(b",\"raw\":");
            json_bytes(buf, a.raw());
            buf.extend_from_slice(b",\"quote\":\"");
            buf.extend_from_slice(a.quote().as_str().as_bytes());
            buf.extend_from_slice(b"\",\"range\":");
            pos.range(buf, a.range());
            buf.push(b'}');
        }
        buf.extend_from_slice(b"],\"end\":");
        match d.end() {
            DirectiveEnd::Semicolon(r) => {
                buf.extend_from_slice(b"{\"kind\":\"semicolon\",\"range\":");
                pos.range(buf, r);
                buf.push(b'}');
            }
            DirectiveEnd::Block { open, close } => {
                buf.extend_from_slice(b"{\"kind\":\"block\",\"open\":");
                pos.range(buf, open);
                buf.extend_from_slice(b",\"close\":");
                match close {
                    Some(c) => pos.range(buf, c),
                    None => buf.extend_from_slice(b"null"),
                }
                buf.push(b'}');
            }
            DirectiveEnd::LuaBlock { open, body, close } => {
                buf.extend_from_slice(b"{\"kind\":\"lua_block\",\"open\":");
                pos.range(buf, open);
                buf.extend_from_slice(b",\"body\":");
                pos.range(buf, body);
                buf.extend_from_slice(b",\"close\":");
                match close {
                    Some(c) => pos.range(buf, c),
                    None => buf.extend_from_slice(b"null"),
                }
                buf.extend_from_slice(b"},\"lua_body\":");
                json_bytes(buf, &text[body.as_range()]);
            }
            DirectiveEnd::Missing => buf.extend_from_slice(b"{\"kind\":\"missing\"}"),
        }
        while includes.peek().is_some_and(|i| i.directive.0 < d.id().0) {
            includes.next();
        }
        if let Some(inc) = includes.next_if(|i| i.directive == d.id()) {
            buf.extend_from_slice(b",\"includes\":");
            let _ = serde_json::to_writer(&mut *buf, &inc.targets);
        }
        if matches!(d.end(), DirectiveEnd::Block { .. }) {
            buf.extend_from_slice(b",\"children\":[");
            need_comma = false;
            if d.subtree_end().0 == d.id().0 + 1 {
                buf.extend_from_slice(b"]}");
                need_comma = true;
            } else {
                stack.push(d.subtree_end().0);
            }
        } else {
            buf.push(b'}');
        }
    }
    while stack.pop().is_some() {
        buf.extend_from_slice(b"]}");
    }
    buf.extend_from_slice(b"]}");
}

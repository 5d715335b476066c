//! `gatelint parse --format json` for nginx: the lossless tree of the main file and every
//! file it includes, with byte ranges and 1-based lines and columns.
//!
//! Shape (one JSON value; files are written one at a time, so memory stays flat):
//! ```json
//! {"schema_version": 1, "kind": "nginx", "main": "nginx.conf", "status": "ok",
//!  "files": [{"index": 0, "path": "nginx.conf", "bom": false, "contexts": [[]],
//!             "errors": [{"message": "unexpected \"}\"", "range": R}],
//!             "comments": [{"text": "# x", "range": R}],
//!             "directives": [{"name": "http", "name_range": R, "range": R,
//!                             "args": [{"value": "…", "raw": "\"…\"", "quote": "double", "range": R}],
//!                             "end": {"kind": "block", "open": R, "close": R},
//!                             "includes": [1, 2], "children": [ … ]}]}],
//!  "include_errors": [{"file": 0, "path": "nginx.conf", "message": "open() …", "range": R}]}
//! ```
//! `R` is `{"start": {"line", "column", "offset"}, "end": {…}}`; `end.kind` is `semicolon`
//! (`range`), `block` (`open`, `close` or null), `lua_block` (`open`, `body`, `close`) or
//! `missing`; a Lua block also has `"lua_body"` with its raw text. Non-UTF-8 bytes in
//! values are shown as U+FFFD (the ranges point at the exact bytes).

use super::include::{walk, FileSource, VisitedFile, WalkOptions};
use super::tree::DirectiveEnd;
use crate::source::{LineIndex, TextRange};
use std::io::{self, Write};
use std::path::Path;

struct Pos<'a> {
    text: &'a [u8],
    li: LineIndex,
}

impl Pos<'_> {
    fn range(&self, out: &mut Vec<u8>, r: TextRange) {
        let s = self.li.line_col(self.text, r.start);
        let e = self.li.line_col(self.text, r.end);
        let _ = write!(
            out,
            "{{\"start\":{{\"line\":{},\"column\":{},\"offset\":{}}},\"end\":{{\"line\":{},\"column\":{},\"offset\":{}}}}}",
            s.line, s.column, s.offset, e.line, e.column, e.offset
        );
    }
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    // serde_json escapes exactly what JSON needs; writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn json_bytes(out: &mut Vec<u8>, b: &[u8]) {
    json_str(out, &String::from_utf8_lossy(b));
}

/// Print the JSON tree of `main` and its includes. Returns whether there was no syntax
/// error and no include error; fails when the main file cannot be read or `out` fails.
pub fn write_json(
    main: &Path,
    prefix: Option<&Path>,
    source: &mut dyn FileSource,
    out: &mut dyn Write,
) -> io::Result<bool> {
    // Pass 1: the include graph (for contexts, cycles and errors), trees dropped.
    let mut syntax_ok = true;
    let first = walk(
        main,
        prefix,
        source,
        WalkOptions::default(),
        &mut |v: VisitedFile| {
            syntax_ok &= v.tree.is_ok();
        },
    )?;
    let contexts = first.contexts();
    let cycles = first.cycles();
    let include_errors = first.includes.iter().filter(|i| i.error.is_some()).count();
    let ok = syntax_ok && include_errors == 0 && cycles.is_empty() && first.unreadable.is_empty();

    let mut head = Vec::new();
    head.extend_from_slice(b"{\"schema_version\":1,\"kind\":\"nginx\",\"main\":");
    json_str(&mut head, &main.display().to_string());
    head.extend_from_slice(if ok {
        b",\"status\":\"ok\""
    } else {
        b",\"status\":\"failed\""
    });
    head.extend_from_slice(b",\"files\":[");
    out.write_all(&head)?;

    let mut io_err: Option<io::Error> = None;
    let mut first_file = true;
    // Ranges of include directives with errors, per file, for the trailer.
    let mut trailer: Vec<u8> = Vec::new();
    let mut trailer_first = true;
    walk(
        main,
        prefix,
        source,
        WalkOptions::default(),
        &mut |v: VisitedFile| {
            if io_err.is_some() {
                return;
            }
            let mut buf = Vec::with_capacity(v.text.len() * 4);
            if !first_file {
                buf.push(b',');
            }
            first_file = false;
            let pos = Pos {
                text: &v.text,
                li: LineIndex::new(&v.text),
            };
            write_file(&mut buf, &v, &pos, contexts.get(v.index), &first);
            // Include errors of this file go to the trailer now, while its line index exists.
            let mut add = |range: TextRange, message: &str| {
                if !trailer_first {
                    trailer.push(b',');
                }
                trailer_first = false;
                let _ = write!(trailer, "{{\"file\":{},\"path\":", v.index);
                json_str(&mut trailer, &v.path.display().to_string());
                trailer.extend_from_slice(b",\"message\":");
                json_str(&mut trailer, message);
                trailer.extend_from_slice(b",\"range\":");
                pos.range(&mut trailer, range);
                trailer.push(b'}');
            };
            for inc in &first.includes[v.includes.clone()] {
                if let Some(e) = &inc.error {
                    add(inc.range, e);
                }
                for u in &first.unreadable {
                    if inc.targets.contains(&u.index) {
                        add(inc.range, &u.message);
                    }
                }
            }
            for (i, msg) in &cycles {
                let inc = &first.includes[*i];
                if inc.from == v.index {
                    add(inc.range, msg);
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
    out.write_all(b"],\"include_errors\":[")?;
    out.write_all(&trailer)?;
    out.write_all(b"]}\n")?;
    Ok(ok)
}

fn write_file(
    buf: &mut Vec<u8>,
    v: &VisitedFile,
    pos: &Pos<'_>,
    contexts: Option<&Vec<Vec<String>>>,
    walk: &super::include::WalkResult,
) {
    let tree = &v.tree;
    let text = &v.text[..];
    let _ = write!(buf, "{{\"index\":{},\"path\":", v.index);
    json_str(buf, &v.path.display().to_string());
    let _ = write!(buf, ",\"bom\":{},\"contexts\":", tree.bom);
    let _ = serde_json::to_writer(&mut *buf, &contexts.cloned().unwrap_or_default());
    buf.extend_from_slice(b",\"errors\":[");
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
    let includes = &walk.includes[v.includes.clone()];
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
            let _ = write!(buf, ",\"quote\":\"{}\",\"range\":", a.quote().as_str());
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
        if let Some(inc) = includes.iter().find(|i| i.directive == d.id()) {
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
